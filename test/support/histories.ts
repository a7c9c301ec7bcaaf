// Stored workflow histories for the replay test (test/replay.test.ts). Tests that run a path end to end
// save its history when CANCELFLOW_RECORD_HISTORIES=1 (`npm run test:record-histories`); the files are
// committed, so every later change to the workflow or the machine is replayed against them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const historiesDir = join(__dirname, '..', 'histories');

/**
 * Saved in the JSON form the Temporal CLI and Web UI export. (This needs one copy of protobufjs for all the
 * SDK's packages: package.json's `overrides` pins it, since @grpc/proto-loader would otherwise pull in
 * protobufjs 7 and leave each SDK package its own copy of 8, whose types do not recognise each other.)
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.CANCELFLOW_RECORD_HISTORIES !== '1') return;
  writeFileSync(join(historiesDir, `${name}.json`), `${historyToJSON(await handle.fetchHistory())}\n`);
}

/** The ids of the patches (`patched`) a history recorded the marker of. */
export function patchMarkers(history: unknown): Set<string> {
  const ids = new Set<string>();
  const { events } = history as { events?: { markerRecordedEventAttributes?: unknown }[] | null };
  for (const event of events ?? []) {
    const marker = event.markerRecordedEventAttributes as
      | { markerName?: string; details?: Record<string, { payloads?: { data?: string | Uint8Array }[] }> }
      | undefined;
    const data =
      marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    if (data === undefined) continue;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
    ids.add((JSON.parse(bytes.toString('utf8')) as { id: string }).id);
  }
  return ids;
}
