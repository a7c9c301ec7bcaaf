// The simulators driven by the real clients over TCP: the twilio package, nodemailer and cancelflow's own
// payment gateway client. If these pass, the local stack's SMS, mail and refunds behave like the real ones.
import nodemailer from 'nodemailer';
import twilio from 'twilio';
import { createHttpPaymentGateway, type RefundRequest } from '../integrations/payment-gateway';
import {
  startMailCatcher,
  startPaymentGatewaySimulator,
  startSmsSimulator,
  type MailCatcher,
  type PaymentGatewaySimulator,
  type SmsSimulator,
} from '../simulators';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'simulator-test-token';

describe('SMS simulator (Twilio Messages API)', () => {
  let sim: SmsSimulator;

  beforeEach(async () => {
    sim = await startSmsSimulator({ port: 0, accountSid, authToken });
  });
  afterEach(async () => {
    await sim.close();
  });

  const client = (token = authToken) => {
    const sms = twilio(accountSid, token);
    sms.api.baseUrl = sim.url;
    return sms;
  };
  const send = (to = '+8613800138000') =>
    client().messages.create({
      to,
      from: '+15005550006',
      body: '您的订单 SO-1001 已取消，退款将在 3 个工作日内到账。',
    });

  it('accepts a message from the twilio client, answers as Twilio does and keeps it', async () => {
    const message = await client().messages.create({
      to: '+8613800138000',
      from: '+15005550006',
      body: '您的订单 SO-1001 已取消。',
      statusCallback: 'https://cancelflow.example/sms-status',
    });

    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message).toMatchObject({
      accountSid,
      to: '+8613800138000',
      from: '+15005550006',
      body: '您的订单 SO-1001 已取消。',
      status: 'queued',
      direction: 'outbound-api',
      numSegments: '1',
      apiVersion: '2010-04-01',
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
    });
    // The client parses date_created as RFC 2822; a wrong format would leave a string here.
    expect(message.dateCreated).toBeInstanceOf(Date);
    expect(Math.abs(message.dateCreated.getTime() - Date.now())).toBeLessThan(5_000);

    expect(sim.messages).toEqual([
      expect.objectContaining({
        sid: message.sid,
        accountSid,
        to: '+8613800138000',
        from: '+15005550006',
        body: '您的订单 SO-1001 已取消。',
        status: 'queued',
        statusCallback: 'https://cancelflow.example/sms-status',
      }),
    ]);

    const fetched = await client().messages(message.sid).fetch();
    expect(fetched).toMatchObject({ sid: message.sid, body: '您的订单 SO-1001 已取消。', status: 'queued' });
  });

  it('counts segments as a carrier does: UCS-2 for Chinese, GSM-7 otherwise', async () => {
    const chinese = await client().messages.create({
      to: '+8613800138000',
      from: '+15005550006',
      body: '退'.repeat(71),
    });
    const latin = await client().messages.create({
      to: '+15005550001',
      from: '+15005550006',
      body: 'x'.repeat(160),
    });
    expect([chinese.numSegments, latin.numSegments]).toEqual(['2', '1']);
  });

  it('makes the next creates fail with a Twilio error the client throws as a RestException', async () => {
    sim.failNext(2, { status: 400, code: 21211, message: "Invalid 'To' Phone Number" });

    for (let attempt = 0; attempt < 2; attempt += 1) {
      const failure: unknown = await send().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(twilio.RestException);
      expect(failure).toMatchObject({
        status: 400,
        code: 21211,
        message: "Invalid 'To' Phone Number",
        moreInfo: 'https://www.twilio.com/docs/errors/21211',
      });
    }
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
    expect(sim.messages).toHaveLength(1);
  });

  it('fails with a 500 by default', async () => {
    sim.failNext(1);
    await expect(send()).rejects.toMatchObject({ status: 500, code: 20500 });
  });

  it('validates like Twilio: 21211 for a bad To, 21602 for a missing body', async () => {
    await expect(send('13800138000')).rejects.toMatchObject({ status: 400, code: 21211 });
    await expect(
      client().messages.create({ to: '+8613800138000', from: '+15005550006', body: '' }),
    ).rejects.toMatchObject({ status: 400, code: 21602 });
    expect(sim.messages).toHaveLength(0);
  });

  it('refuses wrong credentials with 401 and code 20003', async () => {
    await expect(
      client('wrong-token').messages.create({ to: '+8613800138000', from: '+15005550006', body: 'hi' }),
    ).rejects.toMatchObject({ status: 401, code: 20003 });

    // Right credentials, but another account's URL.
    const response = await fetch(`${sim.url}/2010-04-01/Accounts/AC${'f'.repeat(32)}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: '+8613800138000', From: '+15005550006', Body: 'hi' }).toString(),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 20003, status: 401 });
    expect(sim.messages).toHaveLength(0);
  });

  it('has a control API to inspect messages, queue failures and clear', async () => {
    const failNext = await fetch(`${sim.url}/_sim/fail-next`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, code: 20429 }),
    });
    expect(failNext.status).toBe(200);
    await expect(send()).rejects.toMatchObject({ status: 429, code: 20429 });

    const sent = await send();
    const listed = (await (await fetch(`${sim.url}/_sim/messages`)).json()) as {
      sid: string;
      body: string;
    }[];
    expect(listed).toEqual([expect.objectContaining({ sid: sent.sid, body: sent.body })]);

    expect((await fetch(`${sim.url}/_sim/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(sim.messages).toHaveLength(0);
  });
});

describe('mail catcher', () => {
  let catcher: MailCatcher;

  beforeEach(async () => {
    catcher = await startMailCatcher({ smtpPort: 0, httpPort: 0 });
  });
  afterEach(async () => {
    await catcher.close();
  });

  const transport = (auth?: { user: string; pass: string }) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: catcher.smtpPort,
      secure: false,
      ignoreTLS: true,
      auth,
    });

  it('catches a zh-CN mail sent with nodemailer, parses it and serves it over HTTP', async () => {
    const mailer = transport();
    const info = await mailer.sendMail({
      from: 'cancelflow <no-reply@cancelflow.local>',
      to: '张三 <zhangsan@example.cn>',
      bcc: 'audit@example.test',
      subject: '订单 SO-1001 已取消',
      text: '您好，您的订单 SO-1001 已取消，退款 ¥128.00 将原路退回。',
      html: '<p>您好，您的订单 <b>SO-1001</b> 已取消，退款 ¥128.00 将原路退回。</p>',
    });
    mailer.close();

    const mail = await catcher.waitForMessage((message) => message.subject.includes('SO-1001'));
    expect(mail).toMatchObject({
      messageId: info.messageId,
      from: '"cancelflow" <no-reply@cancelflow.local>',
      to: ['zhangsan@example.cn'],
      subject: '订单 SO-1001 已取消',
      envelope: { from: 'no-reply@cancelflow.local', to: ['zhangsan@example.cn', 'audit@example.test'] },
    });
    expect(mail.text).toContain('退款 ¥128.00 将原路退回');
    expect(mail.html).toContain('<b>SO-1001</b> 已取消');
    expect(mail.date).toBeInstanceOf(Date);

    const listResponse = await fetch(`${catcher.httpUrl}/api/messages`);
    expect(listResponse.headers.get('content-type')).toMatch(/^application\/json/);
    const listed = (await listResponse.json()) as { subject: string; html: string; to: string[] }[];
    expect(listed).toEqual([
      expect.objectContaining({
        subject: '订单 SO-1001 已取消',
        to: ['zhangsan@example.cn'],
        html: mail.html,
      }),
    ]);
    const one = (await (await fetch(`${catcher.httpUrl}/api/messages/0`)).json()) as { messageId: string };
    expect(one.messageId).toBe(info.messageId);
    expect((await fetch(`${catcher.httpUrl}/api/messages/7`)).status).toBe(404);

    const page = await fetch(`${catcher.httpUrl}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('订单 SO-1001 已取消');
    expect(html).toContain('zhangsan@example.cn');
  });

  it('escapes message fields on its web page and lists the newest first', async () => {
    const mailer = transport();
    await mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'older mail', text: '1' });
    await mailer.sendMail({
      from: 'a@example.test',
      to: 'b@example.test',
      subject: '<script>alert("x")</script> & more',
      text: '2',
    });
    mailer.close();
    await catcher.waitForMessage((message) => message.text.includes('2'));

    const html = await (await fetch(`${catcher.httpUrl}/`)).text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html.indexOf('&lt;script&gt;')).toBeLessThan(html.indexOf('older mail'));
  });

  it('accepts any credentials, and clears over HTTP', async () => {
    const mailer = transport({ user: 'whoever', pass: 'anything' });
    await mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'with auth', text: 'ok' });
    mailer.close();
    await catcher.waitForMessage((message) => message.subject === 'with auth');

    expect((await fetch(`${catcher.httpUrl}/api/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(catcher.messages).toHaveLength(0);
  });

  it('gives up waiting for a message after the timeout', async () => {
    await expect(catcher.waitForMessage(() => true, 50)).rejects.toThrow(/no matching mail/);
  });
});

describe('payment gateway simulator', () => {
  let sim: PaymentGatewaySimulator;

  beforeEach(async () => {
    sim = await startPaymentGatewaySimulator({ port: 0 });
  });
  afterEach(async () => {
    await sim.close();
  });

  const refund = (overrides: Partial<RefundRequest> = {}) =>
    createHttpPaymentGateway(sim.url).refund({
      idempotencyKey: 'refund:SO-1001:1',
      paymentReference: 'pay_7f3a',
      amountMinor: 12_800,
      currency: 'CNY',
      reason: 'order cancelled',
      ...overrides,
    });

  it('replays a repeated idempotency key: one refund, the same id', async () => {
    const first = await refund();
    const second = await refund();

    expect(first).toEqual({ status: 'succeeded', refundId: expect.stringMatching(/^re_\w+$/) as string });
    expect(second).toEqual(first);
    expect(sim.refunds).toEqual([
      expect.objectContaining({
        id: first.status === 'succeeded' && first.refundId,
        amount: 12_800,
        currency: 'CNY',
      }),
    ]);
    expect(sim.requests).toBe(2);
  });

  it('refuses a key reused with different parameters', async () => {
    await refund();
    await expect(refund({ amountMinor: 99 })).resolves.toEqual({
      status: 'failed',
      retryable: false,
      message: 'idempotency key reused with different parameters',
    });
    expect(sim.refunds).toHaveLength(1);
  });

  it('stores nothing on a transient failure, so the retry with the same key succeeds', async () => {
    sim.setBehaviour({ mode: 'fail_transient', times: 1 });

    await expect(refund()).resolves.toMatchObject({ status: 'failed', retryable: true });
    expect(sim.refunds).toHaveLength(0);
    await expect(refund()).resolves.toMatchObject({ status: 'succeeded' });
    expect(sim.refunds).toHaveLength(1);
  });

  it('stores a final decline and replays it, even once the gateway would succeed again', async () => {
    sim.setBehaviour({ mode: 'fail_final' });
    const declined = { status: 'failed', retryable: false, message: 'card issuer declined the refund' };

    await expect(refund()).resolves.toEqual(declined);
    sim.setBehaviour({ mode: 'succeed' });
    await expect(refund()).resolves.toEqual(declined);
    expect(sim.refunds).toHaveLength(0);
    await expect(refund({ idempotencyKey: 'refund:SO-1001:2' })).resolves.toMatchObject({
      status: 'succeeded',
    });
  });

  it('keeps a pending refund pending until it settles, then replays it as succeeded', async () => {
    sim.setBehaviour({ mode: 'pending', times: 1 });
    const pending = await refund();
    expect(pending).toMatchObject({ status: 'pending' });
    const refundId = pending.status === 'pending' ? pending.refundId : '';
    await expect(refund()).resolves.toEqual({ status: 'pending', refundId });

    sim.settlePending(refundId);
    await expect(refund()).resolves.toEqual({ status: 'succeeded', refundId });
    expect(sim.refunds).toHaveLength(1);

    // The same through the control API.
    sim.setBehaviour({ mode: 'pending' });
    const other = await refund({ idempotencyKey: 'refund:SO-1002:1' });
    const otherId = other.status === 'pending' ? other.refundId : '';
    const settled = await fetch(`${sim.url}/_sim/refunds/${otherId}/settle`, { method: 'POST' });
    expect(settled.status).toBe(200);
    await expect(refund({ idempotencyKey: 'refund:SO-1002:1' })).resolves.toEqual({
      status: 'succeeded',
      refundId: otherId,
    });
  });

  it('refuses a request without an idempotency key or with invalid fields, as final failures', async () => {
    await expect(refund({ idempotencyKey: '' })).resolves.toMatchObject({
      status: 'failed',
      retryable: false,
    });
    await expect(refund({ amountMinor: 12.5 })).resolves.toMatchObject({
      status: 'failed',
      retryable: false,
    });
    await expect(refund({ amountMinor: 0 })).resolves.toMatchObject({ status: 'failed', retryable: false });
    await expect(refund({ currency: 'RMB¥' })).resolves.toMatchObject({ status: 'failed', retryable: false });
    await expect(refund({ paymentReference: '' })).resolves.toMatchObject({
      status: 'failed',
      retryable: false,
    });
    expect(sim.refunds).toHaveLength(0);

    const response = await fetch(`${sim.url}/v1/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment: 'pay_7f3a', amount: 100, currency: 'CNY', reason: 'x' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining('idempotency-key') as string, retryable: false },
    });
  });

  it('answers a concurrent request with the same key as retryable while the first is in flight', async () => {
    sim.setBehaviour({ mode: 'succeed', times: 1, delayMs: 300 });
    const [first, second] = await Promise.all([
      refund(),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() => refund()),
    ]);
    expect(first).toMatchObject({ status: 'succeeded' });
    expect(second).toMatchObject({ status: 'failed', retryable: true });
    await expect(refund()).resolves.toEqual(first);
    expect(sim.refunds).toHaveLength(1);
  });

  it('takes its behaviour and lists its refunds through the control API', async () => {
    const behaviour = await fetch(`${sim.url}/_sim/behaviour`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'fail_transient', times: 2 }),
    });
    expect(behaviour.status).toBe(200);
    await expect(refund()).resolves.toMatchObject({ status: 'failed', retryable: true });
    await expect(refund()).resolves.toMatchObject({ status: 'failed', retryable: true });
    const done = await refund();
    expect(done).toMatchObject({ status: 'succeeded' });

    const listed = (await (await fetch(`${sim.url}/_sim/refunds`)).json()) as {
      id: string;
      status: string;
    }[];
    expect(listed).toEqual([expect.objectContaining({ id: done.status === 'succeeded' && done.refundId })]);
    expect(sim.requests).toBe(3);

    const invalid = await fetch(`${sim.url}/_sim/behaviour`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'explode' }),
    });
    expect(invalid.status).toBe(400);
  });
});
