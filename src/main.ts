// Command line: serve, migrate, API key management and resealing secrets. `npx rollcall <command>`.
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, redactUrl, type Config } from './config.ts';
import { DatabaseOpenError, openDatabase, type Database } from './db/database.ts';
import { holdServeLock, type SqliteServeLock } from './db/sqlite-serve-lock.ts';
import { isDatabaseOutage } from './db/database-health.ts';
import { createdSchema, currentSchemaVersion, latestVersion, migrate, SchemaTooNewError, type MigrationResult } from './db/migrator.ts';
import { systemClock } from './lib/clock.ts';
import { SecretBox } from './lib/secret-box.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './services/access/api-keys.ts';
import { opensNoneOfTheSealed, sealSecrets } from './services/access/secrets-at-rest.ts';
import { createRollcall } from './container.ts';
import { warmUpHttpClient } from './adapters/http-client-warm-up.ts';
import { warmUpZoneOffsets } from './adapters/calendars/zone-offsets.ts';

const USAGE = `Usage: rollcall <command>

Commands:
  serve                         Run the API and the dispatcher (default for npm start)
  migrate                       Apply database migrations and exit
  keys create --user <name>     Create an API key (and the user, if new); prints the key alone
  keys list --user <name>       List a user's keys (ids and prefixes, never the keys)
  keys revoke <key-id>          Revoke a key
  secrets reseal                Seal every stored secret with CREDENTIALS_ENCRYPTION_KEY (after a key
                                change, with the old key in CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS)

Settings come from the environment and ./.env; see .env.example.`;

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (typeof parsed === 'string') return usageError(parsed);
  const { positionals, values } = parsed;
  const [command, sub, arg] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 1 : 0;
  }
  const config = loadConfig();
  try {
    return await runCommand(config, command, sub, arg, values.user, positionals);
  } catch (error) {
    throw asStartupError(error, config);
  }
}

const KEYS_COMMANDS = ['create', 'list', 'revoke'];

/**
 * The command line's words and options, or what is wrong with them in the operator's terms: a
 * mistyped option (`--users`, `--user` with no name after it) is a usage error, not a stack trace.
 */
function parseCommandLine(argv: string[]): { positionals: string[]; values: { user?: string | undefined; help?: boolean | undefined } } | string {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: { user: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw error;
    const option = /'(-[^'\s]*)/.exec((error as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option?.startsWith('--user')) return '--user needs a name after it: --user <name>';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `Unknown option ${option}${isUserMistyped(option) ? ' (did you mean --user <name>?)' : ''}`;
    return (error as Error).message;
  }
}

/** An option that reads as a slip for --user: -u, --users, --usr, --username, -user. */
function isUserMistyped(option: string): boolean {
  const name = option.replace(/^-+/, '').split('=')[0]!.toLowerCase();
  return name === 'u' || name === 'usr' || (name.startsWith('user') && name.length <= 8);
}

async function runCommand(config: Config, command: string, sub: string | undefined, arg: string | undefined, user: string | undefined, positionals: string[]): Promise<number> {
  if (command === 'serve') return serve(config);
  // Before the database is opened: a mistyped command changes nothing, not even an empty file's schema.
  if (command === 'keys' && !KEYS_COMMANDS.includes(sub ?? '')) {
    return usageError(sub === undefined ? 'keys needs create, list or revoke' : `Unknown keys command: ${sub} (create, list or revoke)`);
  }
  if (command !== 'migrate' && command !== 'keys' && !(command === 'secrets' && sub === 'reseal')) {
    return usageError(`Unknown command: ${positionals.join(' ')}`);
  }
  // A keys command missing what it needs (`--user=` and `--user ""` name no one) is refused here too.
  if (command === 'keys' && (sub === 'create' || sub === 'list') && !user) return usageError(`keys ${sub} needs --user <name>`);
  if (command === 'keys' && sub === 'revoke' && !arg) return usageError('keys revoke needs <key-id>');

  const database = await openDatabase(config.databaseUrl);
  try {
    if (command === 'migrate') {
      const result = await migrate(database.db, database.engine);
      const names = result.applied.map((m) => `${m.version} ${m.name}`).join(', ');
      process.stderr.write(`${redactUrl(config.databaseUrl)}: ${result.applied.length > 0 ? `applied ${names}` : 'already up to date'} (schema version ${result.currentVersion})\n`);
      return 0;
    }
    if (command === 'keys') {
      await requireSchema(database, config);
      if (sub === 'create' && user) {
        // With CREDENTIALS_ENCRYPTION_KEY set, a new user's webhook secret is sealed from the start.
        const secretBox = SecretBox.fromKeys(config.credentialsEncryptionKey, config.credentialsPreviousKeys);
        if (secretBox && await opensNoneOfTheSealed(database.db, secretBox)) return failure(WRONG_KEY);
        const { key } = await createApiKey(database.db, user, systemClock, { secretBox });
        process.stdout.write(`${key}\n`);
        return 0;
      }
      if (sub === 'list' && user) {
        const keys = await listApiKeys(database.db, user);
        if (keys === null) return failure(`No user named "${user}"`);
        for (const k of keys) process.stdout.write(`${k.id}\t${k.prefix}...\tcreated ${k.created_at}\t${k.revoked_at ? `revoked ${k.revoked_at}` : 'active'}\n`);
        return 0;
      }
      if (sub === 'revoke' && arg) {
        const revoked = await revokeApiKey(database.db, arg, systemClock);
        if (!revoked) return failure(`No key ${arg}`);
        // Revoking twice is not an error (a script may run again), but it says so.
        const at = new Date(revoked.revokedAtMs).toISOString();
        process.stdout.write(revoked.wasRevokedBefore ? `Key ${arg} was already revoked (at ${at}); nothing changed\n` : `Revoked key ${arg} at ${at}: requests with it are refused from now on, and its dashboard sessions end\n`);
        return 0;
      }
    }
    if (command === 'secrets' && sub === 'reseal') {
      await requireSchema(database, config);
      const box = SecretBox.fromKeys(config.credentialsEncryptionKey, config.credentialsPreviousKeys);
      if (!box) return failure('secrets reseal needs CREDENTIALS_ENCRYPTION_KEY (and the old keys in CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS)');
      if (await opensNoneOfTheSealed(database.db, box)) return failure(`${WRONG_KEY} Or add the key that sealed them to CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS.`);
      const report = await sealSecrets(database.db, box, 'all');
      process.stdout.write(`sealed ${report.sealed} plaintext values, moved ${report.resealed} to the current key, ${report.unreadable} opened by no configured key\n`);
      // Values no key opens would be lost for good if the previous keys were now removed: say so.
      if (report.unreadable > 0) return failure('Some values were sealed with a key that is not configured: add it to CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS and run this again before removing any key.');
      return 0;
    }
    return usageError(`Unknown command: ${positionals.join(' ')}`);
  } finally {
    await database.close();
  }
}

/**
 * The schema the key and secret commands need. Only `serve` and `migrate` apply migrations: a
 * command that did would leave an older instance still running in an upgrade unable to start again.
 * An empty database (a first setup that creates a key before the first start) gets its schema, as
 * `serve` would give it; one behind this release is refused.
 */
async function requireSchema(database: Database, config: Config): Promise<void> {
  const version = await currentSchemaVersion(database.db);
  const latest = latestVersion();
  if (version === 0) {
    warnIfCreated(await migrate(database.db, database.engine), config);
    return;
  }
  if (version < latest) {
    throw new StartupError(`${redactUrl(config.databaseUrl)} is at schema version ${version}, behind this release's ${latest}: run \`npx rollcall migrate\` first (this command does not migrate)`);
  }
  // Newer than this release: migrate() refuses it with the usual message, changing nothing.
  if (version > latest) await migrate(database.db, database.engine);
}

/** As `serve` does at start-up: a database that was empty had its schema created just now. */
function warnIfCreated(result: MigrationResult, config: Config): void {
  if (createdSchema(result)) process.stderr.write(`${redactUrl(config.databaseUrl)} was empty: its schema was created now (check DATABASE_URL if you meant an existing database)\n`);
}

/** Why `listen` failed, in the operator's terms, by the error's code. */
const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'the port is already in use',
  ENOTFOUND: 'HOST does not resolve to an address of this machine',
  EAI_AGAIN: 'HOST does not resolve to an address of this machine',
  EADDRNOTAVAIL: 'HOST is not an address of this machine',
  EACCES: 'not allowed to listen there (a port below 1024 needs privileges)',
};

/** A start that cannot go on, said in one line (no stack): the process exits 1 at once. */
class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * The database's refusals that no retry mends: no such database (3D000), the role or its
 * password refused (class 28), or a role without the rights the schema needs (42501). Like an unreachable server, they are the operator's to fix.
 */
function isDatabaseRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(28...|3D000|42501)$/.test(code);
}

function asStartupError(error: unknown, config: Config): unknown {
  if (isDatabaseOutage(error) || isDatabaseRefusal(error)) return new StartupError(`Cannot use the database (${redactUrl(config.databaseUrl)}): ${(error as Error).message}`);
  return error;
}

async function serve(config: Config): Promise<number> {
  const rollcall = await createRollcall(config);
  const { app, logger } = rollcall;
  let closing = false;
  let serveLock: SqliteServeLock | null = null;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    // A stop that hangs (a runtime or receiver that never answers) must not keep the process
    // alive forever; what was in flight is launched or delivered again by the next instance.
    setTimeout(() => {
      logger.error({ afterMs: SHUTDOWN_DEADLINE_MS }, 'graceful shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    try {
      await rollcall.close();
      // Once the dispatcher has stopped: a process waiting for the file may take over now.
      serveLock?.release();
      logger.info('stopped');
      process.exitCode = 0;
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
      process.exitCode = 1;
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // Not the database's doing (a host that does not resolve fails like a lost server would).
    await rollcall.close().catch(() => {});
    const why = LISTEN_FAILURES[(error as NodeJS.ErrnoException).code ?? ''] ?? (error as Error).message;
    throw new StartupError(`Cannot listen on ${config.host}:${config.port} (HOST, PORT): ${why}`);
  }
  // Read now: a stop asked for from here on closes the server, which then has no address.
  const listening = app.server.address() as AddressInfo;
  // In the background, a few zones per turn of the event loop: the IANA zones' formatters, which
  // the first feed with a VTIMEZONE no name resolves would otherwise wait for (zone-offsets.ts).
  // Every run mode reads feeds (a connect is an API request).
  const zonesFrom = performance.now();
  void warmUpZoneOffsets(systemClock.now()).then(() => logger.debug({ ms: Math.round(performance.now() - zonesFrom) }, 'IANA zone offsets read for VTIMEZONE comparisons'));
  // Before the dispatcher starts: the first launches after a start should not pay for the HTTP
  // client's first use.
  if (config.runMode !== 'api') {
    const startedAt = performance.now();
    const isWarm = await warmUpHttpClient(listening, '/healthz');
    logger.debug({ isWarm, ms: Math.round(performance.now() - startedAt) }, 'HTTP client warmed up against this process');
  }
  // A stop asked for meanwhile closes everything, and nothing is started after it (startBackground).
  if (closing) return -1;
  // One process per SQLite file: a second one waits here, answering the API, until the first
  // stops (sqlite-serve-lock.ts). The lock goes with the process.
  // Held in this scope until the stop below: a lock nothing refers to could be collected, and
  // closed with it, while the server still runs.
  serveLock = config.runMode !== 'api' ? await holdServeLock(config.databaseUrl, logger, () => closing) : null;
  if (closing) return -1;
  await rollcall.startBackground();
  if (closing) return -1;
  logger.info({ database: redactUrl(config.databaseUrl), runMode: config.runMode, dispatcher: rollcall.dispatcher.owner, address: listening.address, port: listening.port }, 'Rollcall is ready');
  return -1;
}

const SHUTDOWN_DEADLINE_MS = 10_000;

/** What a command that would seal with a key that opens none of the sealed values says, and does nothing. */
const WRONG_KEY = 'CREDENTIALS_ENCRYPTION_KEY opens none of the sealed webhook secrets and calendar credentials: it is not the key that sealed them, and what it sealed now the right key could not open. Nothing was changed; set the right key.';

function usageError(message: string): number {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  return 2;
}

function failure(message: string): number {
  process.stderr.write(`${message}\n`);
  return 1;
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exitCode = code;
} catch (error) {
  if (error instanceof ConfigError || error instanceof SchemaTooNewError || error instanceof DatabaseOpenError || error instanceof StartupError) {
    // At start-up there is nothing to keep serving: say what is wrong and let the supervisor
    // retry. Exit now: a part opened before the failure (a pool, a timer) must not keep a process
    // that serves nothing alive.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  } else {
    throw error;
  }
}
