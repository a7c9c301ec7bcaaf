// Where `cancelflow login` keeps a person's session between runs: one JSON file, readable by its owner only
// (0600, in a 0700 folder). It holds the client's session (cookies and CSRF token) and the API it belongs to,
// so the session is only ever sent back to that API.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ClientSession } from '../client/cancelflow-client';

export interface StoredCredentials {
  /** The API the session was opened with; it is sent nowhere else. */
  apiUrl: string;
  session: ClientSession;
  /** Who signed in, for messages only (whoami asks the API). */
  personId: string;
  signedInAt: string;
}

/** `$CANCELFLOW_CONFIG_DIR/credentials.json`, or `~/.config/cancelflow/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const folder = env.CANCELFLOW_CONFIG_DIR || join(homedir(), '.config', 'cancelflow');
  return join(folder, 'credentials.json');
}

export class CredentialsStore {
  constructor(readonly path: string = credentialsPath()) {}

  /** The stored credentials; undefined when nobody signed in (or the file is not ours to understand). */
  async read(): Promise<StoredCredentials | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<StoredCredentials>;
      if (typeof parsed.apiUrl !== 'string' || typeof parsed.session?.cookies !== 'object') return undefined;
      return parsed as StoredCredentials;
    } catch {
      return undefined;
    }
  }

  /** Writes the whole file anew: to a private temporary file first, then renamed over the old one. */
  async write(credentials: StoredCredentials): Promise<void> {
    const folder = dirname(this.path);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    // The mode given to writeFile is masked by the umask and ignored for an existing file: set it outright.
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }

  async remove(): Promise<boolean> {
    const existed = (await this.read().catch(() => undefined)) !== undefined;
    await rm(this.path, { force: true });
    return existed;
  }
}
