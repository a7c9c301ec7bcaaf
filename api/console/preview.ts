// R2, R3, R20: what the rules answer about a cancellation before anyone asks for it: the review the API runs on
// every request (rules/review.rules.ts, the same call cancellation.service.ts makes), the risk the workflow will
// assess (rules/risk.rules.ts, over the facts its activity loads), the approvals the policy asks for at that
// level, and how the refund goes back over the payments (rules/refund-plan.rules.ts). Nothing is written.
//
// The workflow decides again when it runs, on its own reading of the books and of the policy file: the preview
// says what would happen now, the cancellation's page says what did.
import type { CreateCancellationRequest } from '../../client/contract';
import type { OrderReview, RiskLevel } from '../../contracts/cancellation.contract';
import type { ApprovalStep, CancellationPolicy } from '../../contracts/policy.contract';
import type { Models } from '../../models';
import { mayRequest } from '../../rules/permissions.rules';
import { planRefund, type RefundShare } from '../../rules/refund-plan.rules';
import { confirmationNeeded, reviewOrder } from '../../rules/review.rules';
import { riskFactors, type RiskFactor } from '../../rules/risk.rules';

export type Preview =
  | {
      ok: true;
      review: OrderReview;
      risk: { level: RiskLevel; factors: RiskFactor[] };
      approvals: ApprovalStep[];
      refund: { shares: RefundShare[]; uncoveredMinor: number };
      /** What the customer may choose when the goods cannot be stopped. */
      customerOptions: string[];
      policyVersion: string;
    }
  | {
      ok: false;
      code: 'not_cancellable' | 'confirmation_required' | 'validation_failed' | 'forbidden' | 'not_found';
      reason: string;
      /** The stage a confirmation is missing for. */
      stage?: string;
    };

const RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

/** R20: the facts the workflow's risk activity loads (activities/order.activities.ts), read the same way. */
async function riskFacts(models: Models, review: OrderReview) {
  const cancelledLines = new Set(review.lines.map((line) => line.lineId));
  const [customer, withSuppliers] = await Promise.all([
    models.Customer.findOne({ customerId: review.customerId }).lean(),
    models.PurchaseOrder.find({
      'lines.raisedFor.orderNumber': review.orderNumber,
      status: { $in: ['sent', 'confirmed', 'partially_received'] },
    }).lean(),
  ]);
  const affected = withSuppliers.filter((order) =>
    order.lines.some((line) =>
      line.raisedFor.some(
        (link) => link.orderNumber === review.orderNumber && cancelledLines.has(link.lineId),
      ),
    ),
  );
  return {
    customer: customer ?? undefined,
    purchaseOrdersWithSuppliers: affected.map((order) => order.poNumber),
  };
}

export async function previewCancellation(
  models: Models,
  policy: CancellationPolicy,
  request: Required<Pick<CreateCancellationRequest, 'orderNumber' | 'reasonCode' | 'confirm'>> &
    Pick<CreateCancellationRequest, 'lines'>,
  requestedBy: string,
): Promise<Preview> {
  const person = await models.Person.findOne({ personId: requestedBy }).lean();
  const verdict = mayRequest(requestedBy, person);
  if (!verdict.allowed) return { ok: false, code: 'forbidden', reason: verdict.reason };
  return previewForOrder(models, policy, request);
}

/**
 * The rules' answer about the order alone, whoever asks: the staff's preview after its check of the person, and
 * the customer's own page, where the signed order link is what lets them ask (api/console/customer-order.routes.ts).
 */
export async function previewForOrder(
  models: Models,
  policy: CancellationPolicy,
  request: Required<Pick<CreateCancellationRequest, 'orderNumber' | 'reasonCode' | 'confirm'>> &
    Pick<CreateCancellationRequest, 'lines'>,
): Promise<Preview> {
  const order = await models.SalesOrder.findOne({ orderNumber: request.orderNumber }).lean();
  if (!order) return { ok: false, code: 'not_found', reason: `order ${request.orderNumber} does not exist` };
  const [payments, shipments] = await Promise.all([
    models.Payment.find({ orderNumber: order.orderNumber }).lean(),
    models.Shipment.find({ orderNumber: order.orderNumber }).sort({ shipmentId: 1 }).lean(),
  ]);
  const outcome = reviewOrder(
    order,
    payments,
    { lines: request.lines, confirmed: request.confirm },
    policy,
    shipments,
  );
  if (!outcome.ok) {
    const stage = outcome.code === 'confirmation_required' ? confirmationNeeded(order.status) : undefined;
    return { ok: false, code: outcome.code, reason: outcome.reason, ...(stage ? { stage } : {}) };
  }
  const { review } = outcome;
  const factors = riskFactors(review, request.reasonCode, policy.risk, await riskFacts(models, review));
  const level = factors.reduce<RiskLevel>(
    (highest, factor) => (RANK[factor.level] > RANK[highest] ? factor.level : highest),
    'low',
  );
  return {
    ok: true,
    review,
    risk: { level, factors },
    approvals: policy.approval[level],
    refund: planRefund(payments, review.currency, review.refundableMinor),
    customerOptions: review.goods ? policy.afterShipment.customerOptions : [],
    policyVersion: policy.version,
  };
}
