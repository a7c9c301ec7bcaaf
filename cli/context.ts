// What every command needs: the global options, the typed client with the caller's credentials (an API key, or
// the session `cancelflow login` stored for that API), and where to print.
import type { Command } from 'commander';
import { CancelflowClient, type ClientSession } from '../client/cancelflow-client';
import type { CredentialsStore, StoredCredentials } from './credentials-store';
import type { Output } from './output';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

/** The options every command takes (commander hands them over with `optsWithGlobals`). */
export interface GlobalOptions {
  /** From --api or $CANCELFLOW_API_URL. */
  api?: string;
  /** From --api-key or $CANCELFLOW_API_KEY. */
  apiKey?: string;
  json?: boolean;
}

/** No credentials to call with: exit 1, telling to sign in. */
export class NotSignedInError extends Error {
  override readonly name = 'NotSignedInError';
}

/** The command line is wrong in a way commander cannot see (e.g. no terminal to ask a password): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The client as the caller, and what to do after the call. */
export interface Connection {
  client: CancelflowClient;
  apiUrl: string;
  via: 'session' | 'api_key';
  /** Keeps what the API changed in the session (a refreshed cookie or CSRF token) for the next run. */
  persist(): Promise<void>;
}

export interface CliContext {
  out: Output;
  store: CredentialsStore;
  globals(command: Command): GlobalOptions;
  /** The API's address: --api, $CANCELFLOW_API_URL, the one signed in to, or the local default. */
  apiUrl(command: Command): Promise<string>;
  /** A client with the caller's credentials; NotSignedInError when there are none for this API. */
  connect(command: Command): Promise<Connection>;
}

export function normaliseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

function sameSession(a: ClientSession, b: ClientSession): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function createContext(out: Output, store: CredentialsStore): CliContext {
  const globals = (command: Command) => command.optsWithGlobals<GlobalOptions>();

  async function apiUrlOf(command: Command, stored?: StoredCredentials): Promise<string> {
    const given = globals(command).api;
    if (given) return normaliseUrl(given);
    return normaliseUrl((stored ?? (await store.read()))?.apiUrl ?? DEFAULT_API_URL);
  }

  return {
    out,
    store,
    globals,
    apiUrl: (command) => apiUrlOf(command),
    async connect(command) {
      const { apiKey } = globals(command);
      const stored = await store.read();
      const apiUrl = await apiUrlOf(command, stored);
      if (apiKey) {
        return {
          client: new CancelflowClient({ baseUrl: apiUrl, apiKey }),
          apiUrl,
          via: 'api_key',
          persist: async () => {},
        };
      }
      if (!stored) {
        throw new NotSignedInError(
          'not signed in: run `cancelflow login` first (or pass --api-key / set CANCELFLOW_API_KEY)',
        );
      }
      // A session is only ever sent to the API that opened it.
      if (normaliseUrl(stored.apiUrl) !== apiUrl) {
        throw new NotSignedInError(
          `not signed in at ${apiUrl} (signed in at ${stored.apiUrl}): run \`cancelflow login --api ${apiUrl}\``,
        );
      }
      const client = new CancelflowClient({ baseUrl: apiUrl, session: stored.session });
      return {
        client,
        apiUrl,
        via: 'session',
        async persist() {
          const session = client.currentSession();
          if (Object.keys(session.cookies).length === 0) return; // signed out meanwhile: nothing to keep
          if (!sameSession(session, stored.session)) await store.write({ ...stored, session });
        },
      };
    },
  };
}

/** Runs a command's calls with the caller's client, keeping the session's changes even when a call fails. */
export async function withApi<T>(
  context: CliContext,
  command: Command,
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await context.connect(command);
  try {
    return await work(connection);
  } finally {
    await connection.persist().catch(() => undefined);
  }
}
