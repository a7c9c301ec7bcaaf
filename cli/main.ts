// `cancelflow`: the command line for people at a terminal. It talks to the HTTP API only, through the typed
// client, as the person who signed in (`cancelflow login`) or as a back-end's API key (--api-key).
//
// Exit codes scripts can rely on:
//   0  done
//   1  refused: the API answered 4xx/5xx (its reason on stderr), it could not be reached, or not signed in
//   2  usage: unknown command or option, a missing or malformed argument
//   3  `watch` gave up at --timeout while the cancellation still moved
import { Command, CommanderError, Option } from 'commander';
import { CancelflowApiError } from '../client/cancelflow-client';
import { registerAuthCommands } from './commands/auth';
import { registerBulkCommands } from './commands/bulk';
import { registerCancellationCommands, WatchTimeoutError } from './commands/cancellations';
import { registerDecisionCommands } from './commands/decisions';
import { registerDelegationCommands } from './commands/delegations';
import { registerKeyCommands } from './commands/keys';
import { registerMessageCommands } from './commands/messages';
import { registerOrderCommands } from './commands/orders';
import { registerWebhookCommands } from './commands/webhooks';
import { createContext, DEFAULT_API_URL, NotSignedInError, UsageError, type CliContext } from './context';
import { CredentialsStore, credentialsPath } from './credentials-store';
import { consoleOutput, type Output } from './output';

export const EXIT = { done: 0, refused: 1, usage: 2, timedOut: 3 } as const;

export function buildProgram(context: CliContext): Command {
  const program = new Command('cancelflow')
    .description('Cancel orders and follow their cancellations through the cancelflow API.')
    .version(readVersion(), '-V, --version')
    .addOption(
      new Option('--api <url>', `the API (default: the one you signed in to, or ${DEFAULT_API_URL})`).env(
        'CANCELFLOW_API_URL',
      ),
    )
    .addOption(
      new Option('--api-key <key>', "call as a back-end system's API key instead of your session").env(
        'CANCELFLOW_API_KEY',
      ),
    )
    .option('--json', "print the API's JSON answer (for scripts)")
    // Settings set here are inherited by every command added after them.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void process.stdout.write(text),
      writeErr: (text) => void process.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      [
        '',
        'Exit codes: 0 done, 1 refused by the API or not signed in, 2 usage error, 3 watch timed out.',
        '',
        'Start with:',
        '  cancelflow login',
        '  cancelflow orders search --customer wangf',
        '  cancelflow cancel SO-1001 --reason customer_changed_mind --confirm awaiting_shipment',
        '  cancelflow watch <cancellationId>',
      ].join('\n'),
    );

  registerAuthCommands(program, context);
  registerCancellationCommands(program, context);
  registerDecisionCommands(program, context);
  registerMessageCommands(program, context);
  registerOrderCommands(program, context);
  registerKeyCommands(program, context);
  registerDelegationCommands(program, context);
  registerWebhookCommands(program, context);
  registerBulkCommands(program, context);
  return program;
}

function readVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Why a call could not be made at all: the API is down, unreachable or slow. */
function unreachable(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'TimeoutError') return 'the API did not answer in time';
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return `cannot reach the API${cause ? ` (${cause})` : ''}`;
  }
  return undefined;
}

/** What an error means for the person and the script: a message on stderr and an exit code. */
export function explain(error: unknown, apiUrl: string): { message?: string; code: number } {
  if (error instanceof CommanderError) {
    // Commander printed its message (or the help) already; help and version asked for are no error.
    return { code: error.exitCode === 0 ? EXIT.done : EXIT.usage };
  }
  if (error instanceof UsageError) return { message: `error: ${error.message}`, code: EXIT.usage };
  if (error instanceof NotSignedInError) return { message: error.message, code: EXIT.refused };
  if (error instanceof WatchTimeoutError) return { message: error.message, code: EXIT.timedOut };
  if (error instanceof CancelflowApiError) {
    const { status, body } = error;
    let message = `refused (${status} ${body.error}): ${body.message}`;
    if (status === 401) message += '\n(sign in again with `cancelflow login`, or check the API key)';
    return { message, code: EXIT.refused };
  }
  const cannot = unreachable(error);
  if (cannot) return { message: `${cannot}: ${apiUrl}`, code: EXIT.refused };
  return {
    message: `error: ${error instanceof Error ? error.message : String(error)}`,
    code: EXIT.refused,
  };
}

/** Runs one command line (`argv` as process.argv has it) and answers with the exit code. */
export async function run(
  argv: readonly string[],
  options: { out?: Output; store?: CredentialsStore } = {},
): Promise<number> {
  const out = options.out ?? consoleOutput;
  const store = options.store ?? new CredentialsStore(credentialsPath());
  const context = createContext(out, store);
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv]);
    return EXIT.done;
  } catch (error) {
    const apiUrl = await context.apiUrl(program).catch(() => DEFAULT_API_URL);
    const { message, code } = explain(error, apiUrl);
    if (message) out.note(message);
    return code;
  }
}

if (require.main === module) {
  void run(process.argv).then((code) => {
    process.exitCode = code;
  });
}
