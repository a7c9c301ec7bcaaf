// PATCHES.providerHeartbeats: the calls to providers are scheduled with a heartbeat timeout, so an attempt lost
// with its worker (or with a Temporal server that stopped as it handed the task out) is retried within 20 s
// rather than after its two-minute start-to-close timeout. `npm run chaos -- --ci` found cancellations held in
// `refunding` for those two minutes. Read from the histories the workflow records (test:record-histories).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historiesDir } from './support/histories';

interface ScheduledActivity {
  activityType?: { name?: string };
  heartbeatTimeout?: string | null;
  startToCloseTimeout?: string | null;
}

function scheduled(file: string, activity: string): ScheduledActivity[] {
  const history = JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as {
    events: { activityTaskScheduledEventAttributes?: ScheduledActivity }[];
  };
  return history.events
    .map((event) => event.activityTaskScheduledEventAttributes)
    .filter((attributes): attributes is ScheduledActivity => attributes?.activityType?.name === activity);
}

test.each([
  ['completed-low-risk.json', 'refundPayment'],
  ['shipped-recall-accepted-returned.json', 'requestRecall'],
])('%s: %s is scheduled with a 20 s heartbeat timeout beside its two minutes', (file, activity) => {
  const attempts = scheduled(file, activity);
  expect(attempts.length).toBeGreaterThan(0);
  for (const attributes of attempts) {
    expect(attributes.heartbeatTimeout).toBe('20s');
    expect(attributes.startToCloseTimeout).toBe('120s');
  }
});

test('histories recorded before the patch scheduled them without one, and replay that way', () => {
  for (const attributes of scheduled('completed-low-risk.before-provider-heartbeats.json', 'refundPayment'))
    expect(attributes.heartbeatTimeout ?? '0s').toBe('0s');
});
