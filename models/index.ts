// The books of cancelflow, bound to one mongoose connection (not mongoose's global one), so that the worker,
// the API and each test can hold their own.
import mongoose, { type ConnectOptions, type Connection } from 'mongoose';
import { analyticsRollupModel, analyticsStateModel } from './analytics-rollup.model';
import { cancellationModel } from './cancellation.model';
import { accountModel, apiKeyModel, sessionModel } from './credentials.model';
import { customerModel } from './customer.model';
import { delegationModel } from './delegation.model';
import { feedbackModel } from './feedback.model';
import { paymentModel, refundModel, voucherModel } from './money.model';
import { messageCentreEntryModel } from './message-centre.model';
import { notificationModel } from './notification.model';
import { departmentModel, personModel } from './organisation.model';
import { purchaseOrderModel } from './purchase-order.model';
import { salesOrderModel } from './sales-order.model';
import { shipmentModel } from './shipment.model';
import { productModel, stockLevelModel, stockMovementModel } from './stock.model';
import { warehouseModel } from './warehouse.model';
import { cancellationEventModel, eventDeliveryModel } from './event-delivery.model';
import { webhookSubscriptionModel } from './webhook-subscription.model';
import { bulkJobItemModel, bulkJobModel } from './bulk-job.model';
import { reopenWhenMonitorWedged } from './wedged-monitor';

export function createModels(db: Connection) {
  return {
    db,
    Customer: customerModel(db),
    Product: productModel(db),
    StockLevel: stockLevelModel(db),
    StockMovement: stockMovementModel(db),
    SalesOrder: salesOrderModel(db),
    Payment: paymentModel(db),
    Refund: refundModel(db),
    Voucher: voucherModel(db),
    Cancellation: cancellationModel(db),
    Notification: notificationModel(db),
    PurchaseOrder: purchaseOrderModel(db),
    Shipment: shipmentModel(db),
    Warehouse: warehouseModel(db),
    Department: departmentModel(db),
    Person: personModel(db),
    MessageCentreEntry: messageCentreEntryModel(db),
    Feedback: feedbackModel(db),
    Account: accountModel(db),
    Session: sessionModel(db),
    ApiKey: apiKeyModel(db),
    Delegation: delegationModel(db),
    WebhookSubscription: webhookSubscriptionModel(db),
    CancellationEvent: cancellationEventModel(db),
    EventDelivery: eventDeliveryModel(db),
    BulkJob: bulkJobModel(db),
    BulkJobItem: bulkJobItemModel(db),
    AnalyticsRollup: analyticsRollupModel(db),
    AnalyticsState: analyticsStateModel(db),
  };
}
export type Models = ReturnType<typeof createModels>;

/**
 * Opens a connection and makes sure every model's collection and indexes exist before anything relies on them.
 *
 * Collections and indexes are created here, one model after another, instead of by mongoose in the background
 * (`autoCreate`, `autoIndex`): the embedded mongo-java-server creates a collection twice when a
 * `createCollection` and a `createIndex` for it race, and keeps the copy without the unique index, which both
 * loses an idempotency guarantee and later fails `dropDatabase` with "index not found". Twenty models take a
 * few milliseconds in sequence.
 */
export async function connectModels(
  uri: string,
  dbName?: string,
  options: {
    /** How long a call waits for the database to answer before it fails (config MONGODB_TIMEOUT_MS). */
    timeoutMs?: number;
    /** Told when the driver's server monitor was found wedged and the connection reopened (see wedged-monitor.ts). */
    onReopen?: (event: { stuckMs: number; error?: unknown }) => void;
  } = {},
): Promise<Models> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const heartbeatFrequencyMS = 10_000; // the driver's default, named because the guard's bound depends on it
  const connectOptions: ConnectOptions = {
    dbName,
    autoCreate: false,
    autoIndex: false,
    serverSelectionTimeoutMS: timeoutMs,
    // Opening a connection and a monitor's `hello` on it are bounded by connectTimeoutMS (30 s by default): a
    // call that may wait timeoutMs for a server has no use for a connection that takes longer, and it bounds
    // how long a healthy heartbeat takes, which the wedged-monitor guard below relies on.
    connectTimeoutMS: timeoutMs,
    heartbeatFrequencyMS,
    // A command issued while the database is away goes to the driver, which gives up after timeoutMs, rather
    // than into mongoose's buffer, which waits 10 s whatever we set. The models are used only once connected.
    bufferCommands: false,
  };
  const db = mongoose.createConnection(uri, connectOptions);
  await db.asPromise();
  const models = createModels(db);
  for (const model of Object.values(db.models)) {
    await model.createCollection();
    await model.createIndexes();
  }
  // The longest a healthy heartbeat takes: a new socket and its handshake (connectTimeoutMS each), or an
  // awaitable hello against a real MongoDB (heartbeatFrequencyMS) on an open one; a second's margin.
  reopenWhenMonitorWedged(db, uri, connectOptions, {
    wedgedAfterMs: heartbeatFrequencyMS + 2 * timeoutMs + 1_000,
    onReopen: options.onReopen,
  });
  return models;
}
