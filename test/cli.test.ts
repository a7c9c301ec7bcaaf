// The `cancelflow` command line, run as people run it: a child process (cli/bin.js through tsx) against a
// running stack, each person with their own credentials folder. What it prints, what it keeps, and the exit
// codes scripts rely on: 0 done, 1 refused or not signed in, 2 usage.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addCustomer,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
  shipOrder,
} from '../generators/demo-data';
import { setPassword } from '../models/credentials';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

const BIN = join(__dirname, '..', 'cli', 'bin.js');
const PASSWORD = 'a long cli test password';

let stack: TestStack;
let scratch: string;
let folders = 0;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every output of the CLI in this file, and every secret it was given or kept, to check none ever shows. */
const outputs: Run[] = [];
const secrets = new Set<string>([PASSWORD]);

/** Runs `cancelflow …` with its own credentials folder, against the stack's API unless told otherwise. */
function cli(
  args: string[],
  options: { configDir?: string; input?: string; env?: Record<string, string | undefined> } = {},
): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CANCELFLOW_CONFIG_DIR: options.configDir ?? join(scratch, 'nobody'),
    CANCELFLOW_API_URL: stack.apiUrl,
    ...options.env,
  };
  delete env.CANCELFLOW_API_KEY;
  if (options.env?.CANCELFLOW_API_KEY) env.CANCELFLOW_API_KEY = options.env.CANCELFLOW_API_KEY;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const run = { code, stdout, stderr };
      outputs.push(run);
      resolve(run);
    });
    child.stdin.end(options.input ?? '');
  });
}

function newConfigDir(): string {
  folders += 1;
  return join(scratch, `person-${folders}`);
}

/** Signs a person in through `cancelflow login`, in a credentials folder of their own. */
async function signedIn(personId: string): Promise<string> {
  const configDir = newConfigDir();
  const login = await cli(['login', '--login', personId, '--password-stdin'], {
    configDir,
    input: `${PASSWORD}\n`,
  });
  expect(login).toMatchObject({ code: 0 });
  const stored = JSON.parse(await readFile(join(configDir, 'credentials.json'), 'utf8')) as {
    session: { cookies: Record<string, string>; csrfToken?: string };
  };
  for (const value of [...Object.values(stored.session.cookies), stored.session.csrfToken ?? '']) {
    if (value) secrets.add(value);
  }
  return configDir;
}

function parse<T>(run: Run): T {
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as T;
}

let orderCount = 0;
async function newOrder(customerId: 'C-CLI' | 'C-CLI-VIP'): Promise<string> {
  orderCount += 1;
  const orderNumber = `SO-CLI-${orderCount}`;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'CLI-TEA', quantity: 1, unitPriceMinor: 16800 }],
  });
  return orderNumber;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cancelflow-cli-'));
  stack = await startTestStack('cli');
  await addPeople(stack.models);
  for (const personId of ['clerk-1', 'manager-1', 'ops-1', 'finance-1', 'warehouse-1']) {
    await setPassword(stack.models, personId, PASSWORD);
  }
  await addCustomer(stack.models, {
    customerId: 'C-CLI',
    name: '王芳',
    email: 'wang.fang@example.cn',
    phone: '+8613800138000',
    language: 'zh-CN',
  });
  await addCustomer(stack.models, {
    customerId: 'C-CLI-VIP',
    name: 'Emily Carter',
    email: 'emily@example.com',
    phone: '+14155550123',
    language: 'en',
    tier: 'vip', // a VIP relationship makes the risk medium: one approval of level 1
  });
  await addProduct(stack.models, { sku: 'CLI-TEA', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
  await receiveStock(stack.models, 'CLI-TEA', 20);
});

afterAll(async () => {
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('usage', () => {
  test('--help on the program and on a command exits 0 with the usage on stdout', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'login',
      'logout',
      'whoami',
      'cancel',
      'status',
      'list',
      'watch',
      'inbox',
      'keys',
    ]) {
      expect(help.stdout).toContain(command);
    }
    const cancelHelp = await cli(['cancel', '--help']);
    expect(cancelHelp.code).toBe(0);
    expect(cancelHelp.stdout).toContain('--reason <code>');
    expect(cancelHelp.stdout).toContain('customer_changed_mind');
  });

  test.each([
    ['an unknown command', ['cancell', 'SO-1'], /unknown command 'cancell'/],
    ['an unknown option', ['whoami', '--verbose'], /unknown option '--verbose'/],
    ['a missing argument', ['status'], /missing required argument 'cancellationId'/],
    ['a missing required option', ['cancel', 'SO-1'], /required option '--reason <code>' not specified/],
    ['a value not among the choices', ['cancel', 'SO-1', '--reason', 'bored'], /Allowed choices/],
    ['a malformed line', ['cancel', 'SO-1', '--reason', 'other', '--line', 'L1'], /lineId:quantity/],
    ['no password source without a terminal', ['login'], /no terminal/],
  ])('%s exits 2 with the reason on stderr', async (_case, args, reason) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(reason);
    expect(run.stdout).toBe('');
  });
});

describe('signing in and out', () => {
  test('without credentials, a command exits 1 telling to run `cancelflow login`', async () => {
    const run = await cli(['whoami']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not signed in/);
    expect(run.stderr).toContain('cancelflow login');
  });

  test('a wrong password is refused with the API reason, and nothing is kept', async () => {
    const configDir = newConfigDir();
    const run = await cli(['login', '--login', 'clerk-1', '--password-stdin'], {
      configDir,
      input: 'not the password',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('refused (401 unauthorized): the login or the password is wrong');
    await expect(stat(join(configDir, 'credentials.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('login keeps the session in a file only its owner reads; whoami names the person; logout ends it', async () => {
    const configDir = await signedIn('clerk-1');
    const path = join(configDir, 'credentials.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(path, 'utf8')) as {
      apiUrl: string;
      session: { cookies: Record<string, string>; csrfToken?: string };
    };
    expect(stored.apiUrl).toBe(stack.apiUrl);
    expect(stored.session.cookies.cf_session).toEqual(expect.any(String));
    expect(stored.session.csrfToken).toEqual(expect.any(String));
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);

    const whoami = await cli(['whoami'], { configDir });
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(/Person:\s+clerk-1/);
    expect(whoami.stdout).toMatch(/Name:\s+陈静/);
    expect(whoami.stdout).toMatch(/Roles:\s+requester/);
    expect(
      parse<{ person: { personId: string; via: string } }>(await cli(['whoami', '--json'], { configDir })),
    ).toEqual({ person: expect.objectContaining({ personId: 'clerk-1', via: 'session' }) });

    // A session is sent only to the API that opened it.
    const elsewhere = await cli(['whoami', '--api', 'http://127.0.0.1:9'], { configDir });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/not signed in at http:\/\/127\.0\.0\.1:9/);

    const logout = await cli(['logout'], { configDir });
    expect(logout.code).toBe(0);
    expect(logout.stdout).toContain('signed out');
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    const after = await cli(['whoami'], { configDir });
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/not signed in: run `cancelflow login`/);

    // The session ended on the server too: the old cookie no longer works.
    const response = await fetch(`${stack.apiUrl}/v1/auth/session`, {
      headers: { cookie: `cf_session=${stored.session.cookies.cf_session}` },
    });
    expect(response.status).toBe(401);
  });
});

describe('a clerk cancels an order and follows it', () => {
  let configDir: string;
  let cancellationId: string;

  beforeAll(async () => {
    configDir = await signedIn('clerk-1');
  });

  test('an order awaiting shipment needs --confirm: the refusal says why and exits 1', async () => {
    const orderNumber = await newOrder('C-CLI');
    const run = await cli(['cancel', orderNumber, '--reason', 'customer_changed_mind'], { configDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^refused \(409 confirmation_required\): .*awaiting_shipment/);
  });

  test('cancel, status, watch until it completes, list', async () => {
    const orderNumber = await newOrder('C-CLI');
    const request = [
      'cancel',
      orderNumber,
      '--reason',
      'customer_changed_mind',
      '--note',
      '客户来电取消',
      '--confirm',
      'awaiting_shipment',
      '--idempotency-key',
      `cli-${orderNumber}`,
    ];
    const cancel = await cli(request, { configDir });
    expect(cancel.code).toBe(0);
    const requested = /^cancellation (\S+) of order (\S+) requested$/m.exec(cancel.stdout);
    expect(requested?.[2]).toBe(orderNumber);
    cancellationId = requested?.[1] ?? '';

    // The same key again answers with the same cancellation (the API's JSON with --json).
    const again = parse<{ cancellationId: string; existing: boolean }>(
      await cli(['--json', ...request], { configDir }),
    );
    expect(again).toMatchObject({ cancellationId, existing: true });

    const status = await cli(['status', cancellationId], { configDir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`Cancellation:\\s+${cancellationId}`));
    expect(status.stdout).toMatch(new RegExp(`Order:\\s+${orderNumber}`));
    expect(status.stdout).toMatch(/State:\s+\S+/);

    const watch = await cli(['watch', cancellationId, '--interval', '0.2', '--timeout', '60'], { configDir });
    expect(watch).toMatchObject({ code: 0, stderr: '' });
    const lines = watch.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('ended completed, refunded 168.00 CNY');
    expect(lines.slice(0, -1).every((line) => /^\d\d:\d\d:\d\d {2}\S+$/.test(line))).toBe(true);
    expect(lines.at(-2)).toMatch(/ completed$/);

    const final = parse<{ outcome: string; refundedMinor: number }>(
      await cli(['status', cancellationId, '--json'], { configDir }),
    );
    expect(final).toMatchObject({ outcome: 'completed', refundedMinor: 16800 });
    const table = await cli(['status', cancellationId], { configDir });
    expect(table.stdout).toMatch(/Outcome:\s+completed/);
    expect(table.stdout).toMatch(/L1\s+CLI-TEA\s+\S+\s+1\s+168\.00 CNY/);

    const list = parse<{ items: { cancellationId: string; outcome?: string }[]; total: number }>(
      await cli(['list', '--json'], { configDir }),
    );
    expect(list.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ cancellationId, outcome: 'completed' })]),
    );
    const mine = await cli(['list', '--mine', '--limit', '5'], { configDir });
    expect(mine.code).toBe(0);
    expect(mine.stdout.split('\n')[0]).toMatch(/^CANCELLATION\s+ORDER\s+STATE\s+OUTCOME/);
    expect(mine.stdout).toMatch(new RegExp(`${cancellationId}\\s+${orderNumber}\\s+completed\\s+completed`));
  });

  test('an unknown cancellation is refused with 404 and exit 1', async () => {
    const run = await cli(['status', 'no-such-cancellation'], { configDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^refused \(404 not_found\)/);
  });

  test('a clerk may not manage API keys: 403, exit 1', async () => {
    const run = await cli(['keys', 'list'], { configDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^refused \(403 forbidden\)/);
  });
});

describe('ops manage API keys', () => {
  test('keys create prints the token once; the key works until keys revoke, then gets 401', async () => {
    const configDir = await signedIn('ops-1');
    const create = await cli(
      ['keys', 'create', '--name', 'ERP nightly sync', '--person', 'clerk-1', '--scope', 'requester'],
      { configDir },
    );
    expect(create.code).toBe(0);
    const token = /^(cfk_\S+)$/m.exec(create.stdout)?.[1] ?? '';
    expect(token).not.toBe('');
    const keyId = /^Key:\s+(\S+)$/m.exec(create.stdout)?.[1] ?? '';
    expect(create.stderr).toContain('only time the token is shown');

    const list = await cli(['keys', 'list'], { configDir });
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^KEY\s+NAME\s+PERSON\s+SCOPES/);
    expect(list.stdout).toMatch(new RegExp(`${keyId}\\s+ERP nightly sync\\s+clerk-1\\s+requester\\s+ops-1`));
    expect(list.stdout).not.toContain(token);
    const listed = parse<{ items: { keyId: string }[] }>(
      await cli(['keys', 'list', '--json'], { configDir }),
    );
    expect(listed.items.map((key) => key.keyId)).toContain(keyId);

    // The key is a back-end's credentials: no login needed, from --api-key or CANCELFLOW_API_KEY.
    const asKey = await cli(['whoami', '--api-key', token]);
    expect(asKey.code).toBe(0);
    expect(asKey.stdout).toMatch(/Person:\s+clerk-1/);
    expect(asKey.stdout).toMatch(/Signed in with:\s+an API key/);
    const fromEnv = await cli(['whoami', '--json'], { env: { CANCELFLOW_API_KEY: token } });
    expect(parse<{ person: { via: string } }>(fromEnv).person.via).toBe('api_key');

    const revoke = await cli(['keys', 'revoke', keyId], { configDir });
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toContain(`revoked ${keyId}`);

    const refused = await cli(['whoami', '--api-key', token]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^refused \(401 unauthorized\): the API key is unknown or revoked/);
  });
});

describe('an approver decides through the CLI', () => {
  test('a medium-risk cancellation waits for an approver; watch says so; the approver approves it', async () => {
    const clerk = await signedIn('clerk-1');
    const orderNumber = await newOrder('C-CLI-VIP');
    const accepted = parse<{ cancellationId: string }>(
      await cli(
        [
          'cancel',
          orderNumber,
          '--reason',
          'customer_changed_mind',
          '--confirm',
          'awaiting_shipment',
          '--json',
        ],
        { configDir: clerk },
      ),
    );
    const id = accepted.cancellationId;

    const waiting = await cli(['watch', id, '--interval', '0.2', '--timeout', '60'], { configDir: clerk });
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toContain('awaitingApproval.waitingForDecision');
    expect(waiting.stdout.trim().split('\n').at(-1)).toMatch(
      /^waits for an approver of level 1 \(manager-1, director-1\): cancelflow approve /,
    );

    // The requester may not approve their own request.
    const own = await cli(['approve', id], { configDir: clerk });
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/^refused \(40[39] \w+\): /);
    // Rejecting needs a reason: usage error before anything is sent.
    expect((await cli(['reject', id], { configDir: clerk })).code).toBe(2);

    const manager = await signedIn('manager-1');
    const inbox = await cli(['inbox'], { configDir: manager });
    expect(inbox.code).toBe(0);
    expect(inbox.stdout).toMatch(
      new RegExp(`${id}\\s+${orderNumber}\\s+awaitingApproval\\.waitingForDecision`),
    );
    expect(inbox.stdout).toMatch(/\d+ unread messages?/);
    const inboxJson = parse<{ waiting: { items: { cancellationId: string }[] }; unread: { unread: number } }>(
      await cli(['inbox', '--json'], { configDir: manager }),
    );
    expect(inboxJson.waiting.items.map((item) => item.cancellationId)).toContain(id);

    const approve = await cli(['approve', id, '--comment', 'VIP asked nicely'], { configDir: manager });
    expect(approve.code).toBe(0);
    expect(approve.stdout).toMatch(new RegExp(`^approved: cancellation ${id}`));

    // Approving twice: the API refuses, the CLI says why and exits 1.
    const twice = await cli(['approve', id], { configDir: manager });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^refused \(409 \w+\): /);

    const done = await cli(['watch', id, '--interval', '0.2', '--timeout', '60'], { configDir: clerk });
    expect(done.code).toBe(0);
    expect(done.stdout.trim().split('\n').at(-1)).toBe('ended completed, refunded 168.00 CNY');
    const view = parse<{ approval: { decisions: unknown[] } }>(
      await cli(['status', id, '--json'], { configDir: clerk }),
    );
    expect(view.approval.decisions).toEqual([
      expect.objectContaining({ approver: 'manager-1', approved: true, reason: 'VIP asked nicely' }),
    ]);
  });
});

describe('finance, the warehouse and ops act through the CLI', () => {
  let clerk: string;

  beforeAll(async () => {
    clerk = await signedIn('clerk-1');
  });

  /**
   * A paid order of two teas for a customer of its own (one customer's many cancellations would call for an
   * approval, R20), shipped in one parcel when asked; the clerk asks for its cancellation through the CLI.
   */
  async function cancelNew(
    options: { sku?: string; shipped?: boolean; beforeCancel?: () => Promise<unknown> } = {},
  ) {
    orderCount += 1;
    const orderNumber = `SO-CLI-${orderCount}`;
    const customerId = `C-${orderNumber}`;
    await addCustomer(stack.models, {
      customerId,
      name: '李娜',
      email: `${customerId}@example.cn`,
      language: 'zh-CN',
    });
    await placePaidOrder(stack.models, {
      orderNumber,
      customerId,
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: options.sku ?? 'CLI-TEA', quantity: 2, unitPriceMinor: 16800 }],
    });
    const shipmentId = `SH-${orderNumber}`;
    if (options.shipped) await shipOrder(stack.models, orderNumber, { shipmentId });
    await options.beforeCancel?.();
    const confirm = options.shipped ? 'shipped' : 'awaiting_shipment';
    const accepted = parse<{ cancellationId: string }>(
      await cli(
        ['cancel', orderNumber, '--reason', 'customer_changed_mind', '--confirm', confirm, '--json'],
        {
          configDir: clerk,
        },
      ),
    );
    return { orderNumber, shipmentId, id: accepted.cancellationId };
  }

  /** `watch` until it ends or waits for a person: its last line. */
  async function watched(id: string, configDir = clerk): Promise<string> {
    const run = await cli(['watch', id, '--interval', '0.2', '--timeout', '60'], { configDir });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    return run.stdout.trim().split('\n').at(-1) ?? '';
  }

  /** The person's inbox lists the cancellation as waiting for them (the list's database copy follows). */
  async function inInbox(configDir: string, id: string): Promise<void> {
    await eventually(async () => {
      const inbox = parse<{ waiting: { items: { cancellationId: string }[] } }>(
        await cli(['inbox', '--json'], { configDir }),
      );
      expect(inbox.waiting.items.map((item) => item.cancellationId)).toContain(id);
    }, 30_000);
  }

  test('a refund the gateway refused waits for finance; the finance clerk settles it with `settle`', async () => {
    stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
    const { id } = await cancelNew();
    expect(await watched(id)).toBe(
      `waits for finance to settle the refund by hand: cancelflow settle ${id} --reference …`,
    );

    const finance = await signedIn('finance-1');
    await inInbox(finance, id);
    // The reference is required: a usage error before anything is sent.
    const bare = await cli(['settle', id], { configDir: finance });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/required option '--reference <reference>' not specified/);
    // Only finance settles: the requester is refused by the API.
    const byClerk = await cli(['settle', id, '--reference', 'X'], { configDir: clerk });
    expect(byClerk.code).toBe(1);
    expect(byClerk.stderr).toMatch(/^refused \(403 forbidden\): clerk-1 may not do this/);

    const settle = await cli(['settle', id, '--reference', 'ICBC-2026-1128-001'], { configDir: finance });
    expect(settle).toMatchObject({ code: 0, stderr: '' });
    expect(settle.stdout).toMatch(new RegExp(`^settled: cancellation ${id} is now \\S+`));

    expect(await watched(id)).toBe('ended completed, refunded 336.00 CNY');
    const view = parse<{ refunds: { status: string; reference?: string }[] }>(
      await cli(['status', id, '--json'], { configDir: finance }),
    );
    expect(view.refunds).toEqual([
      expect.objectContaining({ status: 'failed' }),
      expect.objectContaining({ status: 'settled_manually', reference: 'manual:ICBC-2026-1128-001' }),
    ]);
    // Nothing to settle any more: refused with the reason, exit 1.
    const twice = await cli(['settle', id, '--reference', 'ICBC-2026-1128-002'], { configDir: finance });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^refused \(409 conflict\): .*completed/);
  });

  test('a recalled parcel is back: the warehouse clerk confirms it with `confirm-return`', async () => {
    stack.carrier.setBehaviour({ mode: 'accept' });
    const { id, shipmentId } = await cancelNew({ shipped: true });
    expect(await watched(id)).toBe(
      `waits for the warehouse to confirm the goods are back (${shipmentId}): cancelflow confirm-return ${id} --shipment …`,
    );

    const warehouse = await signedIn('warehouse-1');
    await inInbox(warehouse, id);
    const other = await cli(['confirm-return', id, '--shipment', 'SH-OTHER'], { configDir: warehouse });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^refused \(409 conflict\): .*SH-OTHER/);
    expect((await cli(['confirm-return', id], { configDir: warehouse })).code).toBe(2);

    const confirm = await cli(['confirm-return', id, '--shipment', shipmentId, '--note', '两盒完好'], {
      configDir: warehouse,
    });
    expect(confirm).toMatchObject({ code: 0, stderr: '' });
    expect(confirm.stdout).toMatch(new RegExp(`^return confirmed: cancellation ${id} is now \\S+`));

    expect(await watched(id)).toBe('ended completed, refunded 336.00 CNY');
    const view = parse<{ goods: { returned: { shipmentId: string; by: string }[] } }>(
      await cli(['status', id, '--json'], { configDir: warehouse }),
    );
    expect(view.goods.returned).toEqual([{ shipmentId, by: 'warehouse-1' }]);
  });

  test('stock that could not be released stops it for ops; repaired, ops resume it with `resume`', async () => {
    await addProduct(stack.models, {
      sku: 'CLI-RES',
      name: '普洱茶',
      unitPriceMinor: 16800,
      currency: 'CNY',
    });
    await receiveStock(stack.models, 'CLI-RES', 5);
    // The books disagree: someone zeroed the reservation by hand, so there is nothing to release.
    const stock = { sku: 'CLI-RES' };
    const { id } = await cancelNew({
      sku: 'CLI-RES',
      beforeCancel: () => stack.models.StockLevel.updateOne(stock, { $set: { reserved: 0 } }),
    });
    expect(await watched(id)).toBe(`waits for ops to repair what stopped it: cancelflow resume ${id}`);

    const ops = await signedIn('ops-1');
    await inInbox(ops, id);
    // Only ops resume: finance is refused by the API.
    const finance = await signedIn('finance-1');
    const byFinance = await cli(['resume', id], { configDir: finance });
    expect(byFinance.code).toBe(1);
    expect(byFinance.stderr).toMatch(/^refused \(403 forbidden\): finance-1 may not do this/);

    await stack.models.StockLevel.updateOne(stock, { $set: { reserved: 2 } });
    const resume = await cli(['resume', id, '--note', 'restored the reservation'], { configDir: ops });
    expect(resume).toMatchObject({ code: 0, stderr: '' });
    expect(resume.stdout).toMatch(new RegExp(`^resumed: cancellation ${id} is now \\S+`));

    expect(await watched(id)).toBe('ended completed, refunded 336.00 CNY');
    expect(await stack.models.StockLevel.findOne(stock).lean()).toMatchObject({ reserved: 0 });
  });
});

test('no password, session cookie or CSRF token ever reached the terminal', () => {
  expect(outputs.length).toBeGreaterThan(20);
  const printed = outputs.map((run) => run.stdout + run.stderr).join('\n');
  for (const secret of secrets) expect(printed).not.toContain(secret);
  expect(printed).not.toMatch(/cf_session|csrf/i);
});
