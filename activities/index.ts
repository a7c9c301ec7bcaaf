// The activities of a cancellation, built from their dependencies. The worker hands in real connections;
// tests hand in real local ones (database, SMTP, SMS endpoint, payment gateway simulator).
import { createApprovalActivities } from './approval.activities';
import { createBulkActivities } from './bulk.activities';
import { createCarrierActivities } from './carrier.activities';
import type { ActivityDeps } from './deps';
import { createDeliveryActivities } from './delivery.activities';
import { createDepartmentNotificationActivities } from './department-notification.activities';
import { createNoticeActivities } from './notices.activities';
import { createNotificationActivities } from './notification.activities';
import { createOrderActivities } from './order.activities';
import type { OutboxSettings } from './outbox';
import { createPaymentActivities } from './payment.activities';
import { createPolicyActivities } from './policy.activities';
import { createPurchasingActivities } from './purchasing.activities';
import { createRecordActivities } from './record.activities';
import { createStaffActivities } from './staff.activities';
import { createStockActivities } from './stock.activities';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps & OutboxSettings) {
  const approvals = createApprovalActivities(deps);
  const customers = createNotificationActivities(deps);
  const departments = createDepartmentNotificationActivities(deps);
  return {
    ...createPolicyActivities(deps),
    ...createOrderActivities(deps),
    ...approvals,
    ...createStockActivities(deps),
    ...createCarrierActivities(deps),
    ...createPurchasingActivities(deps),
    ...createStaffActivities(deps),
    ...createPaymentActivities(deps),
    ...customers,
    ...departments,
    ...createNoticeActivities(deps, { departments, customers, approvals }),
    ...createDeliveryActivities(deps),
    ...createRecordActivities(deps),
    ...createBulkActivities(deps),
  };
}

export type CancellationActivities = ReturnType<typeof createActivities>;
