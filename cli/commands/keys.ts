// API keys for back-end systems (ops, admins): keys create, keys list, keys revoke. A key's token is printed
// once, by `keys create`; the API keeps only its digest.
import { Option, type Command } from 'commander';
import { PERSON_ROLES, type PersonRole } from '../../contracts/books.contract';
import { withApi, type CliContext } from '../context';
import { formatFields, formatTable, formatTime } from '../output';
import { nonEmpty } from './arguments';

export function registerKeyCommands(program: Command, context: CliContext): void {
  const { out } = context;
  const keys = program.command('keys').description('API keys of back-end systems (ops, admin)');

  keys
    .command('create')
    .description('issue a key acting as a person in some of their roles; its token is shown this once')
    .requiredOption('--name <name>', 'what the key is for, e.g. "ERP nightly sync"', nonEmpty)
    .requiredOption('--person <personId>', 'the person whose identity the key carries', nonEmpty)
    .addOption(
      new Option('--scope <role...>', 'the roles the key acts in')
        .choices(PERSON_ROLES)
        .makeOptionMandatory(),
    )
    .action((options: { name: string; person: string; scope: PersonRole[] }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const issued = await client.createApiKey({
          name: options.name,
          personId: options.person,
          scopes: [...new Set(options.scope)],
        });
        if (context.globals(command).json) return out.json(issued);
        out.line(
          formatFields([
            ['Key', issued.key.keyId],
            ['Name', issued.key.name],
            ['Person', issued.key.personId],
            ['Scopes', issued.key.scopes],
          ]),
        );
        out.line();
        out.line(issued.token);
        out.note('this is the only time the token is shown: keep it in your secret store now');
      }),
    );

  keys
    .command('list')
    .description('every API key, newest first (never their tokens)')
    .action((_options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const items = await client.listApiKeys();
        if (context.globals(command).json) return out.json({ items });
        if (items.length === 0) return out.line('no API keys');
        out.line(
          formatTable(
            ['key', 'name', 'person', 'scopes', 'created by', 'created', 'last used', 'revoked'],
            items.map((key) => [
              key.keyId,
              key.name,
              key.personId,
              key.scopes,
              key.createdBy,
              formatTime(key.createdAt),
              formatTime(key.lastUsedAt),
              formatTime(key.revokedAt),
            ]),
          ),
        );
      }),
    );

  keys
    .command('revoke')
    .description('revoke a key: the API refuses it from the next call on')
    .argument('<keyId>')
    .action((keyId: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const key = await client.revokeApiKey(keyId);
        if (context.globals(command).json) return out.json(key);
        out.line(`revoked ${key.keyId} (${key.name}, acting as ${key.personId})`);
      }),
    );
}
