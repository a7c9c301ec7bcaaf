// The parts of the console's second slice that need no server (issue #14): the customer's signed link holds for
// its cancellation and order until its time and for nothing else; the customer's mails carry it only when the
// sender holds the key, and otherwise say what they said before; the queues' "waiting since"; the customer's
// words for where a cancellation stands; and the live stream reads the notifications only when the
// cancellation's copy moved or on its periodic refresh, never on every poll (issue #13).
import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  goodsWhereWording,
  offerWording,
  renderCustomerMessage,
} from '../activities/templates/customer.templates';
import type { CancellationResource } from '../client/contract';
import { html } from '../api/console/html';
import { OpenStreams, streamCancellation, type LiveReading } from '../api/console/live';
import { customerStage } from '../api/console/pages/customer';
import { waitingSince } from '../api/console/queues';
import {
  checkCustomerLink,
  checkOrderLink,
  customerLinkUrl,
  orderLinkUrl,
  signCustomerLink,
  signOrderLink,
  type CustomerLinkSettings,
} from '../lib/customer-link';

const settings: CustomerLinkSettings = {
  secret: 'a test secret of at least thirty-two characters',
  ttlMs: 3_600_000,
};
const cancellation = { cancellationId: 'c0ffee00-0000-4000-8000-000000000001', orderNumber: 'SO-2026-0042' };
const now = new Date('2026-12-01T08:00:00Z');

describe('the customer’s signed link', () => {
  const link = signCustomerLink(settings, cancellation, now);
  const check = (
    query: Partial<typeof link>,
    at: Date = now,
    id: string = cancellation.cancellationId,
    secret = settings.secret,
  ) => checkCustomerLink({ secret }, id, { ...link, ...query }, at);

  test('holds for its cancellation and order until its time', () => {
    expect(link.expires).toBe(String(now.getTime() / 1000 + 3600));
    expect(check({})).toEqual({
      ok: true,
      orderNumber: 'SO-2026-0042',
      expiresAt: new Date(now.getTime() + 3_600_000),
    });
    expect(check({}, new Date(now.getTime() + 3_599_000))).toMatchObject({ ok: true });
  });

  test('another cancellation, another order, a later time or another signature is not ours', () => {
    expect(check({}, now, 'c0ffee00-0000-4000-8000-000000000002')).toEqual({ ok: false, why: 'tampered' });
    expect(check({ order: 'SO-2026-0043' })).toEqual({ ok: false, why: 'tampered' });
    expect(check({ expires: String(Number(link.expires) + 86_400) })).toEqual({ ok: false, why: 'tampered' });
    const flipped = `${link.sig.slice(0, -1)}${link.sig.endsWith('A') ? 'B' : 'A'}`;
    expect(check({ sig: flipped })).toEqual({ ok: false, why: 'tampered' });
    expect(
      check({}, now, cancellation.cancellationId, 'another secret of at least thirty-two chars'),
    ).toEqual({
      ok: false,
      why: 'tampered',
    });
    for (const broken of [{ sig: '' }, { sig: 'short' }, { expires: 'soon' }, { order: undefined }]) {
      expect(check(broken)).toEqual({ ok: false, why: 'tampered' });
    }
  });

  test('past its time it has expired; a forged one is refused as not ours, expired or not', () => {
    expect(check({}, new Date(now.getTime() + 3_600_000))).toEqual({ ok: false, why: 'expired' });
    expect(check({ sig: 'A'.repeat(43) }, new Date(now.getTime() + 10 * 3_600_000))).toEqual({
      ok: false,
      why: 'tampered',
    });
  });

  test('the whole link: the public address, the page, the signed query', () => {
    const url = new URL(customerLinkUrl(settings, 'https://shop.example/', cancellation, now));
    expect(url.origin + url.pathname).toBe(
      `https://shop.example/customer/cancellations/${cancellation.cancellationId}`,
    );
    expect(Object.fromEntries(url.searchParams)).toEqual(link);
  });
});

describe('the customer’s signed order link (from the order mail)', () => {
  const link = signOrderLink(settings, 'SO-2026-0042', now);
  const check = (query: Partial<typeof link>, at: Date = now, orderNumber = 'SO-2026-0042') =>
    checkOrderLink({ secret: settings.secret }, orderNumber, { ...link, ...query }, at);

  test('holds for its order until its time; another order, a later time, another key are not ours', () => {
    expect(check({})).toEqual({ ok: true, expiresAt: new Date(now.getTime() + 3_600_000) });
    expect(check({}, now, 'SO-2026-0043')).toEqual({ ok: false, why: 'tampered' });
    expect(check({ expires: String(Number(link.expires) + 60) })).toEqual({ ok: false, why: 'tampered' });
    expect(check({ sig: 'A'.repeat(43) })).toEqual({ ok: false, why: 'tampered' });
    expect(check({}, new Date(now.getTime() + 3_600_000))).toEqual({ ok: false, why: 'expired' });
    expect(
      checkOrderLink({ secret: 'another secret of at least thirty-two chars' }, 'SO-2026-0042', link, now),
    ).toEqual({ ok: false, why: 'tampered' });
  });

  test('a cancellation link’s signature never opens an order, nor the other way round', () => {
    const cancellationLink = signCustomerLink(settings, cancellation, now);
    expect(check({ sig: cancellationLink.sig, expires: cancellationLink.expires })).toEqual({
      ok: false,
      why: 'tampered',
    });
    expect(
      checkCustomerLink(settings, cancellation.cancellationId, { order: 'SO-2026-0042', ...link }, now),
    ).toEqual({ ok: false, why: 'tampered' });
  });

  test('the whole link: the public address, the order’s page, the signed query', () => {
    const { url, expiresAt } = orderLinkUrl(settings, 'https://shop.example/', 'SO-2026-0042', now);
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe('https://shop.example/customer/orders/SO-2026-0042');
    expect(Object.fromEntries(parsed.searchParams)).toEqual(link);
    expect(expiresAt).toEqual(new Date(now.getTime() + 3_600_000));
  });
});

describe('the customer’s mails carry the link only when it was signed', () => {
  const url = customerLinkUrl(settings, 'http://127.0.0.1:3000', cancellation, now);
  const received = {
    customerName: 'Olivia Brown',
    orderNumber: cancellation.orderNumber,
    cancellationId: cancellation.cancellationId,
    reason: 'you changed your mind',
    items: '- Celadon vase (VASE-1) × 2',
  };

  test('received: a paragraph with the link, as a link in HTML; without it, the message as before', () => {
    const withLink = renderCustomerMessage('received', 'en', { ...received, customerUrl: url });
    expect(withLink.text).toContain(
      `Follow your cancellation at any time: ${url}\n\ncancelflow customer service`,
    );
    expect(withLink.html).toContain(`<a href="${url.replace(/&/g, '&amp;')}">`);
    const without = renderCustomerMessage('received', 'en', received);
    expect(without.text).not.toContain('Follow your cancellation');
    expect(without.text).toContain('contact customer service soon.\n\ncancelflow customer service');
    expect(without.html).not.toContain('<p></p>');
  });

  test('options offered: the mail and the SMS say where to choose online', () => {
    const offer = {
      options: ['return', 'redelivery'] as ('return' | 'redelivery')[],
      defaultOption: 'return' as const,
      decideBy: '2026-12-05T18:00:00Z',
      refundableMinor: 30000,
      deductionMinor: 0,
    };
    const variables = {
      ...received,
      ...offerWording('zh-CN', offer, 'CNY'),
      ...goodsWhereWording('zh-CN', 'delivered'),
    };
    const withLink = renderCustomerMessage('options_offered', 'zh-CN', { ...variables, customerUrl: url });
    expect(withLink.text).toContain(`也可以在您的取消页面直接选择：${url}\n如届时未收到您的答复`);
    expect(withLink.sms.endsWith(`处理。在线选择：${url}`)).toBe(true);
    const without = renderCustomerMessage('options_offered', 'zh-CN', variables);
    expect(without.text).not.toContain('取消页面');
    expect(without.sms.endsWith('处理。')).toBe(true);
  });
});

test('a queue item waits since it entered its state this time', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 8, minute));
  const timeline = [
    { state: 'refunding', at: at(0) },
    { state: 'awaitingSettlement.findingClerks', at: at(1) },
    { state: 'awaitingSettlement.waitingForFinance', at: at(2) },
    { state: 'recordingSettlement', at: at(3) },
    { state: 'needsAttention.findingOps', at: at(4) },
    { state: 'needsAttention.waitingForOps', at: at(5) },
    { state: 'recordingSettlement', at: at(6) },
    { state: 'needsAttention.findingOps', at: at(7) },
    { state: 'needsAttention.waitingForOps', at: at(8) },
  ];
  expect(waitingSince(timeline, 'needsAttention', at(59))).toEqual(at(7));
  expect(waitingSince(timeline, 'needsAttention', at(59), 'needsAttention.waitingForOps')).toEqual(at(8));
  expect(waitingSince(timeline.slice(0, 3), 'awaitingSettlement', at(59))).toEqual(at(1));
  expect(waitingSince([], 'awaitingReturn', at(59))).toEqual(at(59));
});

test('the customer hears where it stands in their words, not the workflow’s states', () => {
  const stage = (state: string, outcome?: CancellationResource['outcome']) =>
    customerStage({ state, outcome });
  expect(stage('requested')).toBe('received');
  expect(stage('awaitingApproval.waitingForDecision')).toBe('reviewing');
  expect(stage('agreeingWithCustomer')).toBe('yourChoice');
  expect(stage('awaitingReturn.waitingForGoods')).toBe('awaitingGoods');
  expect(stage('awaitingSettlement.waitingForFinance')).toBe('refunding');
  expect(stage('needsAttention.waitingForOps')).toBe('handling');
  expect(stage('redelivered', 'redelivered')).toBe('redelivered');
  expect(stage('completed', 'completed')).toBe('cancelled');
  expect(stage('rejected', 'rejected')).toBe('notAccepted');
});

describe('the live stream', () => {
  /** A stream over fakes: the database copy's revision, the service's view, and what a reading counts. */
  function fakeStream(options: { refreshEvery: number; queued: () => boolean }) {
    const copy = { revision: 1, ended: false, revisionReads: 0 };
    const readings = { count: 0 };
    const written: string[] = [];
    const requestRaw = new EventEmitter();
    const request = {
      headers: { accept: 'text/event-stream' },
      method: 'GET',
      raw: requestRaw,
      log: { warn: () => undefined },
    } as unknown as FastifyRequest;
    let ended = false;
    const reply = {
      hijack: () => undefined,
      raw: {
        writeHead: () => undefined,
        write: (chunk: string) => written.push(chunk),
        end: () => {
          ended = true;
        },
      },
    } as unknown as FastifyReply;
    const models = {
      Cancellation: {
        findOne: () => ({
          lean: () => {
            copy.revisionReads += 1;
            return Promise.resolve({
              updatedAt: new Date(copy.revision),
              outcome: copy.ended ? 'completed' : null,
              state: copy.ended ? 'completed' : 'refunding',
            });
          },
        }),
      },
    };
    const read = (): Promise<LiveReading> => {
      readings.count += 1;
      return Promise.resolve({
        parts: { state: html`<span>${copy.revision}</span>`, view: html`<p>${readings.count}</p>` },
        queued: options.queued(),
      });
    };
    const streams = new OpenStreams();
    const started = streamCancellation(
      request,
      reply,
      {
        models: models as never,
        cancellations: { get: () => Promise.resolve({} as CancellationResource) },
        read,
        options: { intervalMs: 5, refreshEvery: options.refreshEvery, settleMs: 60_000, maxStreamMs: 60_000 },
        streams,
      },
      'c-1',
    );
    return {
      started,
      copy,
      readings,
      written,
      ended: () => ended,
      close: () => streams.closeAll(),
    };
  }
  const until = async (condition: () => boolean) => {
    for (let waited = 0; !condition(); waited += 5) {
      if (waited > 5_000) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  test('reads the notifications only when the copy moved or every few polls, not on each poll', async () => {
    const stream = fakeStream({ refreshEvery: 10, queued: () => false });
    await stream.started;
    await until(() => stream.copy.revisionReads >= 41);
    // One reading for the first events, then one per ten quiet polls.
    expect(stream.readings.count).toBeLessThanOrEqual(1 + Math.ceil(stream.copy.revisionReads / 10));
    const before = stream.readings.count;
    stream.copy.revision = 2;
    await until(() => stream.readings.count > before);
    expect(stream.written.join('')).toContain('event: state\ndata: <span>2</span>');
    stream.close();
  });

  test('once ended it reads again only while a notification is queued, then says end', async () => {
    let queued = true;
    const stream = fakeStream({ refreshEvery: 3, queued: () => queued });
    await stream.started;
    stream.copy.ended = true;
    stream.copy.revision = 2;
    await until(() => stream.readings.count >= 3);
    expect(stream.ended()).toBe(false);
    queued = false;
    await until(() => stream.ended());
    expect(stream.written.join('')).toContain('event: end');
    const polls = stream.copy.revisionReads;
    expect(stream.readings.count).toBeLessThanOrEqual(2 + Math.ceil(polls / 3));
  });
});
