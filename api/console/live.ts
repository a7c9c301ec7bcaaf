// A cancellation's page moves as its workflow advances (R17): server-sent events, one stream per open page.
// The stream polls the cancellation's database copy by its unique key, once a second: only its revision
// (`updatedAt`) and whether it ended. When that moved, or every few polls (the workflow's query may change before
// its copy does, and notifications are delivered after the cancellation ended), it reads the cancellation as the
// API does (live from the workflow while it runs) and its notifications, and sends the parts of the page that
// changed, drawn by the same templates as the page. It ends once the cancellation has ended and its
// notifications settled.
//
// The notifications are read only then, never on every poll: no index serves them by key (issue #13), and on
// the embedded database (mongo-java-server) a filter that is not exactly a unique index's fields reads the
// whole collection; once a second for every open page, that was a scan per page per second.
//
// The access hook checked the caller when the stream opened; a stream lasts at most MAX_STREAM_MS, after which
// the browser reconnects (EventSource does so by itself) and is checked again.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CancellationResource } from '../../client/contract';
import type { Models } from '../../models';
import type { CancellationService } from '../cancellation.service';
import type { SafeHtml } from './html';

export interface LiveOptions {
  /** How often the database copy is polled. */
  intervalMs: number;
  /**
   * How many polls may pass without a change before the view and the notifications are read again anyway
   * (while it runs, and after it ended while notifications are still queued).
   */
  refreshEvery: number;
  /** After the cancellation ended, how long notifications may still be waited for. */
  settleMs: number;
  /** How long one stream lasts before the browser is asked to reconnect. */
  maxStreamMs: number;
}

export const LIVE_DEFAULTS: LiveOptions = {
  intervalMs: 1_000,
  refreshEvery: 5,
  settleMs: 60_000,
  maxStreamMs: 15 * 60_000,
};

export interface LiveParts {
  state: SafeHtml;
  view: SafeHtml;
}

/** One event: every line of the data prefixed, as the event-stream format wants. */
export function sseEvent(event: string, data: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`);
  return `event: ${event}\n${lines.join('\n')}\n\n`;
}

interface Revision {
  stamp: number;
  ended: boolean;
}

/** The database copy's revision, read by the cancellation's unique key alone (an index lookup, #13). */
export async function revisionOf(
  models: Pick<Models, 'Cancellation'>,
  cancellationId: string,
): Promise<Revision | undefined> {
  const record = await models.Cancellation.findOne(
    { cancellationId },
    { updatedAt: 1, outcome: 1, state: 1 },
  ).lean<{ updatedAt: Date; outcome?: string | null; state: string }>();
  if (!record) return undefined;
  return {
    stamp: record.updatedAt.getTime(),
    ended: Boolean(record.outcome) || record.state.startsWith('workflow '),
  };
}

/** What one reading of the page gives: its parts, and whether a notification is still waiting to go out. */
export interface LiveReading {
  parts: LiveParts;
  /** A notification of the cancellation is still queued: after the end, the stream waits for it. */
  queued: boolean;
}

/**
 * The streams one app has open, so that closing the app ends them (before its server closes: the server
 * would otherwise wait for the browsers to leave).
 */
export class OpenStreams {
  private readonly closers = new Set<() => void>();
  add(close: () => void): void {
    this.closers.add(close);
  }
  delete(close: () => void): void {
    this.closers.delete(close);
  }
  closeAll(): void {
    for (const close of this.closers) close();
  }
}

export async function streamCancellation(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: {
    models: Pick<Models, 'Cancellation'>;
    cancellations: Pick<CancellationService, 'get'>;
    /** Reads what the page shows beyond the cancellation (its notifications) and draws the parts. */
    read: (resource: CancellationResource) => Promise<LiveReading>;
    options: LiveOptions;
    streams: OpenStreams;
  },
  cancellationId: string,
): Promise<void> {
  const { models, cancellations, read, options, streams: openStreams } = deps;
  // Read first: an unknown cancellation is a 404 before any stream starts.
  const firstReading = await read(await cancellations.get(cancellationId));
  const first = firstReading.parts;
  const events = (parts: LiveParts) =>
    sseEvent('state', parts.state.text) + sseEvent('view', parts.view.text);

  // A client that does not ask for a stream (a probe, a HEAD) gets the view once, and the end.
  const accept = request.headers.accept ?? '';
  if (request.method === 'HEAD' || !accept.includes('text/event-stream')) {
    return reply
      .type('text/event-stream; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(events(first) + sseEvent('end', ''));
  }

  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write(`retry: 3000\n\n${events(first)}`);

  let last = first;
  let queued = firstReading.queued;
  let revision = await revisionOf(models, cancellationId);
  let quietPolls = 0;
  let endedAt: number | undefined;
  const openedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const close = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    openStreams.delete(close);
    raw.end();
  };
  openStreams.add(close);
  request.raw.on('close', close);

  const send = (parts: LiveParts) => {
    let out = '';
    if (parts.state.text !== last.state.text) out += sseEvent('state', parts.state.text);
    if (parts.view.text !== last.view.text) out += sseEvent('view', parts.view.text);
    last = parts;
    if (out) raw.write(out);
  };

  const poll = async () => {
    const now = await revisionOf(models, cancellationId);
    if (closed || !now) return close();
    const moved = now.stamp !== revision?.stamp;
    quietPolls = moved ? 0 : quietPolls + 1;
    // Read again when the copy moved; otherwise every few polls while something may still change unseen by
    // the copy: the workflow's own view while it runs, the delivery of notifications still queued after it.
    const due = quietPolls >= options.refreshEvery && (!now.ended || queued);
    if (moved || due) {
      quietPolls = 0;
      const reading = await read(await cancellations.get(cancellationId));
      if (closed) return;
      queued = reading.queued;
      send(reading.parts);
    } else {
      // Keeps the connection (and any proxy between) from timing out; comments are ignored by browsers.
      raw.write(': still here\n\n');
    }
    revision = now;
    if (now.ended) endedAt ??= Date.now();
    if (endedAt !== undefined && (!queued || Date.now() - endedAt >= options.settleMs)) {
      raw.write(sseEvent('end', ''));
      return close();
    }
    // Past its time the stream closes without `end`: the browser reconnects, and is checked again.
    if (Date.now() - openedAt >= options.maxStreamMs) return close();
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      poll().then(schedule, (error: unknown) => {
        // The database or Temporal did not answer this time: say nothing to the page, try again next time.
        request.log.warn({ err: error, cancellationId }, 'the live view could not be read');
        schedule();
      });
    }, options.intervalMs);
  };
  schedule();
}
