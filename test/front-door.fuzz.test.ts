// The front door under schemathesis (issue #12): the API's own OpenAPI document drives a property-based fuzzer
// against the real API (real MongoDB, real Temporal), as ops/admin and as a requester. Every answer must be no
// 5xx, a status the operation declares, the content type it declares, and a body its schema accepts.
// Schemathesis (PyPI, pinned) lives in .tools/fuzz; its reports and output go to .data/fuzz (ignored by git).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PersonRole } from '../contracts/books.contract';
import { seedDemoData } from '../generators/demo-data';
import { issueApiKey } from '../models/credentials';
import { startTestStack, type TestStack } from './support/stack';

const ROOT = join(__dirname, '..');
const SCHEMATHESIS = join(ROOT, '.tools', 'fuzz', 'bin', 'schemathesis');
const REPORT_DIR = join(ROOT, '.data', 'fuzz');
/**
 * Test cases per operation and phase: about 1,600 requests a run, enough to find the shape bugs and few
 * enough for two cores in CI. CANCELFLOW_FUZZ_EXAMPLES asks for a deeper run locally.
 */
const MAX_EXAMPLES = Number(process.env.CANCELFLOW_FUZZ_EXAMPLES ?? 15);
/** The same inputs every run, so that a failure in CI reproduces locally. */
const SEED = 12;
const CHECKS = [
  'not_a_server_error',
  'response_schema_conformance',
  'status_code_conformance',
  'content_type_conformance',
];
/**
 * Revoking an API key: the fuzzer learns key ids from GET /v1/api-keys and sooner or later revokes its own,
 * after which every request of the run is the same 401. So the ops run leaves it out, and a run of its own
 * (with a key of its own, and the list to learn ids from) covers it.
 */
const REVOKE_KEY = 'DELETE /v1/api-keys/{keyId}';
const LIST_KEYS = 'GET /v1/api-keys';

let stack: TestStack;

/** Runs a command without blocking the event loop (the API under test answers from this same process). */
function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function tokenFor(personId: string, scopes: PersonRole[]): Promise<string> {
  const { token } = await issueApiKey(stack.models, {
    name: `fuzz ${personId}`,
    personId,
    scopes,
    createdBy: 'front-door.fuzz.test',
  });
  return token;
}

/** One schemathesis run over the document (less `filters`) as the bearer of `token`. */
async function fuzz(name: string, token: string, filters: string[]) {
  mkdirSync(REPORT_DIR, { recursive: true });
  const { code, output } = await run(
    SCHEMATHESIS,
    [
      'run',
      `${stack.apiUrl}/openapi.json`,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      String(SEED),
      '--workers',
      '1',
      '--header',
      `Authorization: Bearer ${token}`,
      ...filters,
      // Examples remembered from earlier runs would make runs differ from one another.
      '--generation-database',
      'none',
      '--no-color',
      '--report',
      'junit',
      '--report-junit-path',
      join(REPORT_DIR, `${name}.junit.xml`),
    ],
    // Schemathesis keeps its own state in its working directory: there, not in the tree.
    REPORT_DIR,
  );
  writeFileSync(join(REPORT_DIR, `${name}.txt`), output);
  return { code, output };
}

beforeAll(async () => {
  if (!existsSync(SCHEMATHESIS)) {
    const install = await run('bash', [join(ROOT, 'scripts', 'install-fuzz.sh')], ROOT);
    if (install.code !== 0) throw new Error(`scripts/install-fuzz.sh failed:\n${install.output}`);
  }
  // A run sends some 1,600 requests with one key in well under a minute: far past the default per-caller limit.
  stack = await startTestStack('front-door-fuzz', undefined, {
    settings: { RATE_LIMIT_PER_MINUTE: '1000000' },
  });
  // The demo books (people, orders, one shipped) and one running cancellation: lists answer with real items,
  // so their response schemas meet real data, and the fuzzer picks up ids from them to use in paths.
  await seedDemoData(stack.models);
  const requester = await stack.as('clerk-1');
  await requester.createCancellation({
    orderNumber: 'SO-2026-0003',
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

// The webhooks stay in: no generated request carries Twilio's or the carrier's signature, so they only ever
// see the refusal (a 401 before the body is parsed), but that refusal must still be declared and well-formed,
// whatever the bytes and content type. Their accepted path is test/webhooks.test.ts's.
describe.each([
  {
    name: 'ops-admin',
    personId: 'ops-1',
    scopes: ['ops', 'admin'] as PersonRole[],
    filters: ['--exclude-name', REVOKE_KEY],
  },
  { name: 'requester', personId: 'clerk-1', scopes: ['requester'] as PersonRole[], filters: [] },
  {
    name: 'ops-admin-revoking',
    personId: 'ops-1',
    scopes: ['ops', 'admin'] as PersonRole[],
    filters: ['--include-name', LIST_KEYS, '--include-name', REVOKE_KEY],
  },
])('schemathesis as $name', ({ name, personId, scopes, filters }) => {
  test('every answer is declared, well-formed and no server error', async () => {
    const { code, output } = await fuzz(name, await tokenFor(personId, scopes), filters);
    // Schemathesis's output is the failure message: each failing case, with a curl line that reproduces it.
    if (code !== 0) throw new Error(`schemathesis as ${name} exited with ${String(code)}:\n${output}`);
    expect(code).toBe(0);
  }, 600_000);
});
