// The rules of a cancellation, as one pure XState v5 statechart.
//
// The machine never performs I/O, never starts timers and invokes nothing: each state names, as an entry
// action, the effect the workflow must carry out there, and each effect's outcome comes back as an event.
// The workflow advances it with XState's pure `initialTransition`/`transition`, which return the next
// snapshot and the actions to run, so a replayed workflow computes exactly the same steps.
import { assign, setup } from 'xstate';
import type {
  CancellationInput,
  CancellationOutcome,
  CancelledLine,
  OrderReview,
  ReasonCode,
  RiskAssessment,
} from './cancellation.contract';

export interface NotificationResult {
  channel: 'email' | 'sms';
  status: 'sent' | 'failed' | 'skipped';
  detail?: string;
}

export interface CancellationContext {
  request: CancellationInput;
  review?: OrderReview;
  risk?: RiskAssessment;
  refusal?: string;
  approvedBy?: string;
  refundedMinor: number;
  refundId?: string;
  notifications: NotificationResult[];
}

export type CancellationEvent =
  | { type: 'ORDER_REVIEWED'; review: OrderReview }
  | { type: 'ORDER_REFUSED'; reason: string }
  | { type: 'RISK_ASSESSED'; risk: RiskAssessment }
  | { type: 'APPROVAL_GRANTED'; approver: string }
  | { type: 'APPROVAL_REJECTED'; approver: string; reason: string }
  | { type: 'STOCK_RELEASED' }
  | { type: 'PAYMENT_REFUNDED'; refundId: string; refundedMinor: number }
  | { type: 'ORDER_CLOSED' }
  | { type: 'CUSTOMER_NOTIFIED'; results: NotificationResult[] };

/** Parameters of each effect the workflow carries out; the keys are the machine's effect action names. */
export interface EffectParams {
  reviewOrder: Pick<CancellationInput, 'cancellationId' | 'orderNumber' | 'lines' | 'confirmed'>;
  assessRisk: { review: OrderReview; reasonCode: ReasonCode };
  releaseStock: { cancellationId: string; orderNumber: string; lines: CancelledLine[] };
  refundPayment: { cancellationId: string; orderNumber: string; amountMinor: number; currency: string };
  closeOrder: {
    cancellationId: string;
    orderNumber: string;
    lines: CancelledLine[];
    reasonCode: ReasonCode;
    note?: string;
    cancelsWholeOrder: boolean;
  };
  notifyCustomer: {
    cancellationId: string;
    orderNumber: string;
    customerId: string;
    reasonCode: ReasonCode;
    refundedMinor: number;
    currency: string;
  };
}
export type EffectType = keyof EffectParams;
export type Effect = { [K in EffectType]: { type: K; params: EffectParams[K] } }[EffectType];

function reviewed(context: CancellationContext): OrderReview {
  if (!context.review) throw new Error('the order has not been reviewed yet');
  return context.review;
}

// Effects carry no implementation: the machine only names them. The workflow maps each to an activity.
const effect =
  <K extends EffectType>() =>
  (_: unknown, _params: EffectParams[K]) =>
    undefined;

export const cancellationMachine = setup({
  types: {
    context: {} as CancellationContext,
    events: {} as CancellationEvent,
    input: {} as CancellationInput,
    output: {} as { outcome: CancellationOutcome },
  },
  actions: {
    reviewOrder: effect<'reviewOrder'>(),
    assessRisk: effect<'assessRisk'>(),
    releaseStock: effect<'releaseStock'>(),
    refundPayment: effect<'refundPayment'>(),
    closeOrder: effect<'closeOrder'>(),
    notifyCustomer: effect<'notifyCustomer'>(),
  },
  guards: {
    needsApproval: ({ event }) => event.type === 'RISK_ASSESSED' && event.risk.level !== 'low',
    hasMoneyToRefund: ({ context }) => reviewed(context).refundableMinor > 0,
    approverIsNotRequester: ({ context, event }) =>
      (event.type === 'APPROVAL_GRANTED' || event.type === 'APPROVAL_REJECTED') &&
      event.approver !== context.request.requestedBy,
  },
}).createMachine({
  id: 'cancellation',
  context: ({ input }) => ({ request: input, refundedMinor: 0, notifications: [] }),
  initial: 'reviewing',
  states: {
    // R2, R5: the order's status and lines decide whether it can be cancelled at all.
    reviewing: {
      entry: {
        type: 'reviewOrder',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          lines: context.request.lines,
          confirmed: context.request.confirmed,
        }),
      },
      on: {
        ORDER_REVIEWED: { target: 'assessingRisk', actions: assign({ review: ({ event }) => event.review }) },
        ORDER_REFUSED: { target: 'refused', actions: assign({ refusal: ({ event }) => event.reason }) },
      },
    },
    // R20: financial, customer and supply-chain risk, recorded with its reasons.
    assessingRisk: {
      entry: {
        type: 'assessRisk',
        params: ({ context }) => ({ review: reviewed(context), reasonCode: context.request.reasonCode }),
      },
      on: {
        RISK_ASSESSED: [
          {
            guard: 'needsApproval',
            target: 'awaitingApproval',
            actions: assign({ risk: ({ event }) => event.risk }),
          },
          { target: 'releasingStock', actions: assign({ risk: ({ event }) => event.risk }) },
        ],
      },
    },
    // R3, R15: someone other than the requester decides.
    awaitingApproval: {
      on: {
        APPROVAL_GRANTED: {
          guard: 'approverIsNotRequester',
          target: 'releasingStock',
          actions: assign({ approvedBy: ({ event }) => event.approver }),
        },
        APPROVAL_REJECTED: {
          guard: 'approverIsNotRequester',
          target: 'refused',
          actions: assign({ refusal: ({ event }) => `rejected by ${event.approver}: ${event.reason}` }),
        },
      },
    },
    // R4, R10, R27: the point of no return; stock goes back to available through the ledger.
    releasingStock: {
      entry: {
        type: 'releaseStock',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          lines: reviewed(context).lines,
        }),
      },
      on: {
        STOCK_RELEASED: [{ guard: 'hasMoneyToRefund', target: 'refunding' }, { target: 'closingOrder' }],
      },
    },
    // R11, R28: money goes back before the customer is told it did.
    refunding: {
      entry: {
        type: 'refundPayment',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          amountMinor: reviewed(context).refundableMinor,
          currency: reviewed(context).currency,
        }),
      },
      on: {
        PAYMENT_REFUNDED: {
          target: 'closingOrder',
          actions: assign({
            refundId: ({ event }) => event.refundId,
            refundedMinor: ({ event }) => event.refundedMinor,
          }),
        },
      },
    },
    // R4, R7: the order becomes cancelled (or partially cancelled), with the reason recorded.
    closingOrder: {
      entry: {
        type: 'closeOrder',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          lines: reviewed(context).lines,
          reasonCode: context.request.reasonCode,
          note: context.request.note,
          cancelsWholeOrder: reviewed(context).cancelsWholeOrder,
        }),
      },
      on: { ORDER_CLOSED: 'notifyingCustomer' },
    },
    // R12, R18: the customer hears what happened; a failed delivery never undoes the cancellation.
    notifyingCustomer: {
      entry: {
        type: 'notifyCustomer',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          customerId: reviewed(context).customerId,
          reasonCode: context.request.reasonCode,
          refundedMinor: context.refundedMinor,
          currency: reviewed(context).currency,
        }),
      },
      on: {
        CUSTOMER_NOTIFIED: {
          target: 'completed',
          actions: assign({ notifications: ({ event }) => event.results }),
        },
      },
    },
    completed: { type: 'final' },
    refused: { type: 'final' },
  },
  output: ({ context }) => ({ outcome: context.refusal === undefined ? 'completed' : 'refused' }),
});

export type CancellationMachine = typeof cancellationMachine;
export type CancellationState =
  | 'reviewing'
  | 'assessingRisk'
  | 'awaitingApproval'
  | 'releasingStock'
  | 'refunding'
  | 'closingOrder'
  | 'notifyingCustomer'
  | 'completed'
  | 'refused';
