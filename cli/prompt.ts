// Asking the person at the terminal: a line as typed, or a secret without echo. Prompts go to stderr, so
// stdout keeps only results.
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { UsageError } from './context';

function requireTerminal(what: string, instead: string): void {
  if (!process.stdin.isTTY) {
    throw new UsageError(`no terminal to ask for the ${what}: ${instead}`);
  }
}

/** One line typed at the terminal, echoed as it is typed (or not at all, for secrets). */
async function ask(question: string, echo: boolean): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const reader = createInterface({ input: process.stdin, output, terminal: true });
  // The terminal is in raw mode while reading: Ctrl-C arrives here rather than as a signal.
  reader.on('SIGINT', () => {
    reader.close();
    process.stderr.write('\n');
    process.exit(130);
  });
  try {
    process.stderr.write(question);
    muted = !echo;
    const answer = await reader.question('');
    return answer;
  } finally {
    muted = false;
    if (!echo) process.stderr.write('\n');
    reader.close();
  }
}

export async function askLine(question: string, instead: string): Promise<string> {
  requireTerminal(question.replace(/:\s*$/, '').toLowerCase(), instead);
  return (await ask(question, true)).trim();
}

/** A password typed without echo: nothing of it reaches the screen. */
export async function askSecret(question: string, instead: string): Promise<string> {
  requireTerminal(question.replace(/:\s*$/, '').toLowerCase(), instead);
  return ask(question, false);
}

/** All of stdin (e.g. `--password-stdin`), less the one line break a pipe or heredoc adds at its end. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
