// The workflow bundle's entry point: every workflow the worker runs.
export { cancellationWorkflow } from './cancellation.workflow';
export { notificationDeliveryWorkflow } from './notification-delivery.workflow';
