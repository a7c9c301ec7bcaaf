// Signing in and out, and who the credentials name: login, logout, whoami.
import type { Command } from 'commander';
import { CancelflowClient } from '../../client/cancelflow-client';
import type { SessionAnswer } from '../../client/contract';
import { UsageError, withApi, type CliContext } from '../context';
import { formatFields } from '../output';
import { askLine, askSecret, readStdin } from '../prompt';

/** Who someone is, never the CSRF token that came with it. */
const personOf = (answer: SessionAnswer) => ({ person: answer.person });

export function registerAuthCommands(program: Command, context: CliContext): void {
  const { out, store } = context;

  program
    .command('login')
    .description('sign in as a person; the session is kept in the credentials file, readable by you only')
    .option('--login <login>', 'your person id (clerk-1) or e-mail address; asked for when not given')
    .option('--password-stdin', 'read the password from stdin (for scripts) rather than asking for it')
    .addHelpText(
      'after',
      [
        '',
        'The session is kept in $CANCELFLOW_CONFIG_DIR/credentials.json (default ~/.config/cancelflow), mode 0600.',
        '',
        'Examples:',
        '  cancelflow login',
        '  cancelflow login --api https://cancelflow.example.com --login clerk-1',
        '  printf %s "$PASSWORD" | cancelflow login --login clerk-1 --password-stdin',
      ].join('\n'),
    )
    .action(async (options: { login?: string; passwordStdin?: boolean }, command: Command) => {
      const { json } = context.globals(command);
      if (options.passwordStdin && !options.login) {
        throw new UsageError('--password-stdin needs --login: stdin carries the password only');
      }
      const apiUrl = await context.apiUrl(command);
      const login = options.login ?? (await askLine('Login: ', 'pass --login <login>'));
      const password = options.passwordStdin
        ? await readStdin()
        : await askSecret('Password: ', 'pass --password-stdin and pipe the password in');
      if (!login) throw new UsageError('no login given');
      if (!password) throw new UsageError('no password given');

      const client = new CancelflowClient({ baseUrl: apiUrl });
      const answer = await client.signIn(login, password);

      // A session signed in before on the same API is ended, not left behind.
      const previous = await store.read();
      if (previous && previous.apiUrl === apiUrl) {
        await new CancelflowClient({ baseUrl: apiUrl, session: previous.session })
          .signOut()
          .catch(() => undefined);
      }
      await store.write({
        apiUrl,
        session: client.currentSession(),
        personId: answer.person.personId,
        signedInAt: new Date().toISOString(),
      });

      if (json) return out.json(personOf(answer));
      const { person } = answer;
      out.line(
        `signed in to ${apiUrl} as ${person.personId} (${person.name}), roles: ${person.roles.join(', ')}`,
      );
      out.note(`session kept in ${store.path}`);
    });

  program
    .command('logout')
    .description('end the session on the server and forget it here')
    .action(async (_options: unknown, command: Command) => {
      const { json } = context.globals(command);
      const stored = await store.read();
      if (!stored) {
        await store.remove();
        if (json) return out.json({ signedOut: false });
        return out.line('not signed in: nothing to do');
      }
      const client = new CancelflowClient({ baseUrl: stored.apiUrl, session: stored.session });
      let endedOnServer = true;
      await client.signOut().catch((error: unknown) => {
        endedOnServer = false;
        out.note(
          `could not end the session at ${stored.apiUrl} (${error instanceof Error ? error.message : String(error)}); forgetting it here anyway`,
        );
      });
      await store.remove();
      if (json) return out.json({ signedOut: true, apiUrl: stored.apiUrl, endedOnServer });
      out.line(`signed out of ${stored.apiUrl} (${stored.personId})`);
    });

  program
    .command('whoami')
    .description('who your credentials name: person, roles, approval level, and how you are signed in')
    .action((_options: unknown, command: Command) =>
      withApi(context, command, async ({ client, apiUrl }) => {
        const answer = await client.whoAmI();
        if (context.globals(command).json) return out.json(personOf(answer));
        const { person } = answer;
        out.line(
          formatFields([
            ['Person', person.personId],
            ['Name', person.name],
            ['Roles', person.roles],
            ['Approval level', person.approvalLevel],
            ['Language', person.language],
            ['Signed in with', person.via === 'session' ? 'a session (cancelflow login)' : 'an API key'],
            ['API', apiUrl],
          ]),
        );
      }),
    );
}
