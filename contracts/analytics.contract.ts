// Learning from cancellations (R22, R23, R29): the figures the API and the console show, as plain types and
// constants shared by the models' aggregations (models/analytics.ts), the API's schemas (client/contract.ts,
// checked against these types) and the console.
import type { PersonRole } from './books.contract';
import type { Department, ReasonCode, RiskLevel } from './cancellation.contract';

/**
 * Who reads the analytics: sales managers (who hold `approver`), finance, ops and admins. Requesters and the
 * warehouse work on single cancellations; customers have no account.
 */
export const ANALYTICS_READERS = [
  'approver',
  'finance_clerk',
  'ops',
  'admin',
] as const satisfies readonly PersonRole[];

export const ANALYTICS_GRANULARITIES = ['day', 'week', 'month'] as const;
export type AnalyticsGranularity = (typeof ANALYTICS_GRANULARITIES)[number];

/**
 * How a cancellation was asked for, recorded when it is: the web console, the HTTP API with a person's
 * session (the CLI, scripts), the HTTP API with a system's key (ERP, shop front), or the customer themselves
 * from the signed link to their order (`customer_link`). `unrecorded`: asked for before the channel was recorded.
 */
export const REQUEST_CHANNELS = ['console', 'api_session', 'api_key', 'customer_link'] as const;
export type RequestChannel = (typeof REQUEST_CHANNELS)[number];

/** The figures, each one endpoint (`GET /v1/analytics/<figure>`) and one section of the console's page. */
export const ANALYTICS_FIGURES = [
  'reasons',
  'over-time',
  'products',
  'customers',
  'repeat-cancellers',
  'departments',
  'channels',
  'refunds',
  'restocked',
  'suppliers',
  'approvals',
  'state-times',
] as const;
export type AnalyticsFigure = (typeof ANALYTICS_FIGURES)[number];

/**
 * The cancellations a figure counts: those asked for from `from` (inclusive) until `to` (exclusive); the
 * stock and purchasing figures count what the stock ledger and the purchase orders record in that window.
 */
export interface AnalyticsWindow {
  from: Date;
  to: Date;
  /** Only cancellations for this reason (figures read from the cancellations). */
  reasonCode?: ReasonCode;
}

/** What became of the cancellations of a group: completed; ended without cancelling; still running. */
export interface OutcomeCounts {
  cancellations: number;
  completed: number;
  /** Refused, rejected, withdrawn, or delivered after all. */
  stopped: number;
  running: number;
}

export interface ReasonRow extends OutcomeCounts {
  reasonCode: ReasonCode;
}

export interface PeriodRow extends OutcomeCounts {
  /** The first day of the period (a week starts on Monday), in the window's UTC offset: 2026-03-02. */
  period: string;
}

export interface ProductRow {
  sku: string;
  name?: string;
  /** Cancellations asking for units of this SKU, and of them those completed. */
  cancellations: number;
  completed: number;
  /** Units the completed ones cancelled, and their sales value in the order's currency. */
  unitsCancelled: number;
  amountMinor: number;
  currency: string;
}

export interface CustomerRow extends OutcomeCounts {
  customerId: string;
}

/** R29: a customer who cancelled at least the minimum asked for in the window. */
export interface RepeatCancellerRow {
  customerId: string;
  cancellations: number;
  completed: number;
  firstAt: string;
  lastAt: string;
  reasons: ReasonCode[];
}

export interface RepeatCancellersSummary {
  /** Customers with at least one cancellation in the window. */
  customers: number;
  /** Of them, those with at least the minimum: every one, not only the rows shown. */
  repeatCustomers: number;
}

export interface DepartmentRow extends OutcomeCounts {
  /**
   * The requester's department when they asked; `customer` for cancellations customers asked for themselves
   * (from the signed link to their order: no department of ours); `unknown` for requesters not in the books.
   */
  department: Department | 'customer' | 'unknown';
}

export interface ChannelRow extends OutcomeCounts {
  channel: RequestChannel | 'unrecorded';
}

/** Money refunded, per currency (the order's), as the cancellations recorded it. */
export interface RefundRow {
  currency: string;
  /** Cancellations that refunded something. */
  cancellations: number;
  refundedMinor: number;
}

/** R27, R29: stock that came back because of cancellations: released reservations and returned parcels. */
export interface RestockedRow {
  sku: string;
  name?: string;
  releasedUnits: number;
  returnedUnits: number;
  units: number;
  /** At the product's purchase cost; absent when the product has none. */
  unitCostMinor?: number;
  valueMinor?: number;
  currency?: string;
}

/** R27, R29: purchase orders reduced for cancellations, per supplier (and currency of the orders). */
export interface SupplierRow {
  supplierId: string;
  supplierName: string;
  currency: string;
  purchaseOrders: number;
  reductions: number;
  unitsReduced: number;
  /** The units taken off, at the purchase order's unit cost. */
  valueReducedMinor: number;
  /** Units asked to come off but left on the order (the supplier had shipped, or they were received). */
  unitsNotReduced: number;
  /** Reductions of orders the supplier already had: each one a change the supplier had to be told of. */
  supplierToldOfChanges: number;
}

/** R15: how long approvals took, per risk level: the time spent waiting for approval, ended approvals only. */
export interface ApprovalRow {
  riskLevel: RiskLevel | 'unknown';
  approvals: number;
  /** Of them, ended by a rejection (an approver's, or the deadline's). */
  rejected: number;
  escalations: number;
  averageMs: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

/** Time spent in each state (its top level: `awaitingApproval`), over the stays that ended. */
export interface StateTimeRow {
  state: string;
  stays: number;
  totalMs: number;
  averageMs: number;
  maxMs: number;
}

/** Each figure's rows. */
export interface AnalyticsRows {
  reasons: ReasonRow;
  'over-time': PeriodRow;
  products: ProductRow;
  customers: CustomerRow;
  'repeat-cancellers': RepeatCancellerRow;
  departments: DepartmentRow;
  channels: ChannelRow;
  refunds: RefundRow;
  restocked: RestockedRow;
  suppliers: SupplierRow;
  approvals: ApprovalRow;
  'state-times': StateTimeRow;
}
