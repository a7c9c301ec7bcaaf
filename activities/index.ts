// The activities of a cancellation, built from their dependencies. The worker hands in real connections;
// tests hand in real local ones (database, SMTP, SMS endpoint, payment gateway simulator).
import type { ActivityDeps } from './deps';
import { createNotificationActivities } from './notification.activities';
import { createOrderActivities } from './order.activities';
import { createPaymentActivities } from './payment.activities';
import { createRecordActivities } from './record.activities';
import { createStockActivities } from './stock.activities';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderActivities(deps),
    ...createStockActivities(deps),
    ...createPaymentActivities(deps),
    ...createNotificationActivities(deps),
    ...createRecordActivities(deps),
  };
}

export type CancellationActivities = ReturnType<typeof createActivities>;
