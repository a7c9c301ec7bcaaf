// The documents the generator returns, one type per model, exactly as they are stored (the loader writes them
// as they are), and the batch that holds one array of each.
import type { Types } from 'mongoose';
import type { PurchaseLine, PurchaseOrderStatus, ReductionRefusal } from '../../models/purchase-order.model';
import type { OrderLineStatus, OrderStatus, SalesOrderLine } from '../../contracts/books.contract';
import type { CustomerSearch } from '../../models/search-fields';
import type { ShipmentStatus } from '../../models/shipment.model';
import type { StockMovementRequest } from '../../models/stock-ledger';
import type {
  ApprovalProgress,
  PurchasingReport,
  ReasonCode,
  RiskAssessment,
} from '../../contracts/cancellation.contract';
import type { CustomerDocument } from './customers';
import type { Supplier } from './organisation';

interface Stamped {
  _id: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProductDocument extends Stamped {
  sku: string;
  /** The Product model has one name: both languages, as on the shop's labels. */
  name: string;
  unitPriceMinor: number;
  unitCostMinor: number;
  currency: string;
}

/** A movement as the stock ledger records it (models/stock-ledger.ts), already applied. */
export interface StockMovementDocument extends Stamped, StockMovementRequest {
  state: 'applied';
}

export interface StockLevelFigures {
  sku: string;
  warehouse: string;
  onHand: number;
  reserved: number;
}

// A generated line is a stored line (the books' contract).
export type { SalesOrderLine };
export type LineStatus = OrderLineStatus;

export interface SalesOrderDocument extends Stamped {
  orderNumber: string;
  customerId: string;
  status: OrderStatus;
  currency: string;
  lines: SalesOrderLine[];
  totalMinor: number;
  cancellation: { reasonCode?: ReasonCode; note?: string; cancellationIds: string[] };
  history: { key: string; at: Date; status: OrderStatus; actor: string; note?: string }[];
  /** Keys of the order's payments, parcels and the purchase orders raised for it (models/order-links.ts). */
  paymentIds: string[];
  shipmentIds: string[];
  purchaseOrderNumbers: string[];
  /** The customer's copy the order model keeps for search (the same function derives it). */
  customerName: string;
  customerSearch: CustomerSearch;
}

/** The payment providers the generated books use (payments.ts writes each one's references). */
export type PaymentMethodName = 'alipay' | 'wechat_pay' | 'unionpay' | 'card' | 'paypal' | 'store_credit';

export interface PaymentDocument extends Stamped {
  paymentId: string;
  orderNumber: string;
  capturedMinor: number;
  refundedMinor: number;
  currency: string;
  method: PaymentMethodName;
  providerReference: string;
  pendingRefunds: string[];
  revision: number;
}

export interface RefundDocument extends Stamped {
  idempotencyKey: string;
  paymentId: string;
  orderNumber: string;
  cancellationId: string;
  amountMinor: number;
  currency: string;
  status: 'succeeded' | 'failed' | 'settled_manually';
  providerRefundId?: string;
  failure?: string;
}

export interface VoucherDocument extends Stamped {
  idempotencyKey: string;
  kind: 'refund';
  currency: string;
  document: { kind: string; id: string };
  lines: { account: string; debitMinor: number; creditMinor: number }[];
  memo: string;
}

export interface ShipmentDocument extends Stamped {
  shipmentId: string;
  orderNumber: string;
  warehouse: string;
  carrier: string;
  trackingNumber: string;
  status: ShipmentStatus;
  lines: { lineId: string; sku: string; quantity: number; returnedQuantity: number }[];
  shippedAt: Date;
  deliveredAt?: Date;
  history: { key: string; at: Date; status: ShipmentStatus; note?: string }[];
  returns: never[];
  revision: number;
}

export interface PurchaseOrderDocument extends Stamped {
  poNumber: string;
  supplier: Supplier;
  status: PurchaseOrderStatus;
  currency: string;
  warehouse?: string;
  dropShip: boolean;
  lines: PurchaseLine[];
  expectedAt: Date;
  sentAt?: Date;
  confirmedAt?: Date;
  adjustments: {
    key: string;
    kind: 'reduce_for_cancellation';
    at: Date;
    actor: string;
    reason: string;
    orderNumber: string;
    requested: { lineId: string; quantity: number }[];
    changes: { lineId: string; salesLineId: string; quantity: number }[];
    refusals: { lineId: string; salesLineId: string; quantity: number; reason: ReductionRefusal }[];
    statusBefore: PurchaseOrderStatus;
    statusAfter: PurchaseOrderStatus;
  }[];
  revision: number;
}

export interface CancellationDocument extends Stamped {
  cancellationId: string;
  workflowId: string;
  orderNumber: string;
  customerId: string;
  reasonCode: ReasonCode;
  note?: string;
  requestedBy: string;
  confirmed: string[];
  requestedLines?: { lineId: string; quantity: number }[];
  state: 'completed';
  outcome: 'completed';
  risk: RiskAssessment;
  approval?: ApprovalProgress;
  purchasing?: PurchasingReport;
  settlement?: { failure: string; outstandingMinor: number; by: string; reference: string };
  refundedMinor: number;
  currency: string;
  lines: { lineId: string; sku: string; warehouse: string; quantity: number; amountMinor: number }[];
  notifications: { channel: 'email' | 'sms'; status: 'sent' | 'skipped'; detail?: string }[];
  timeline: { step: number; at: Date; state: string }[];
}

/** One batch of generated documents, one array per model, in the order a loader should write them. */
export interface Books {
  products: ProductDocument[];
  customers: CustomerDocument[];
  stockMovements: StockMovementDocument[];
  purchaseOrders: PurchaseOrderDocument[];
  payments: PaymentDocument[];
  refunds: RefundDocument[];
  vouchers: VoucherDocument[];
  shipments: ShipmentDocument[];
  cancellations: CancellationDocument[];
  salesOrders: SalesOrderDocument[];
}

export const emptyBooks = (): Books => ({
  products: [],
  customers: [],
  stockMovements: [],
  purchaseOrders: [],
  payments: [],
  refunds: [],
  vouchers: [],
  shipments: [],
  cancellations: [],
  salesOrders: [],
});
