// The workflow bundle's entry point: every workflow the worker runs.
export { cancellationWorkflow } from './cancellation.workflow';
export {
  notificationBatchDeliveryWorkflow,
  notificationDeliveryWorkflow,
} from './notification-delivery.workflow';
export { bulkCancellationWorkflow } from './bulk-cancellation.workflow';
