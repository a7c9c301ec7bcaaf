// Waiting for a running cancellation to reach a state, through its query.
import type { WorkflowHandle } from '@temporalio/client';
import { getCancellationQuery, type CancellationView } from '../../contracts/cancellation.contract';
import { eventually } from './eventually';

/** Polls the cancellation's query until it reports `state`; resolves with the view it saw. */
export function waitForState(
  handle: Pick<WorkflowHandle, 'query'>,
  state: string,
): Promise<CancellationView> {
  return eventually(async () => {
    const view = await handle.query(getCancellationQuery);
    expect(view.state).toBe(state);
    return view;
  });
}
