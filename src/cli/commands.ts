import { ConfigError, configWarnings, loadConfig } from '../config/load.ts';
import { createGatehouse, SchemaOutOfDateError } from '../container.ts';
import { auditCommand } from './audit.ts';
import { oauthCommand } from './oauth.ts';
import { usersCommand } from './users.ts';
import { migrateToLatest, migrationStatus, openDatabase } from '../storage/sql/open-database.ts';

export const usage = `Usage: gatehouse <command> [options]

Commands:
  serve            Start the server (default). Applies pending migrations in development.
  migrate          Apply pending database migrations and exit.
  migrate --status Show applied and pending migrations.
  audit verify     Check the audit log's hash chain; names the first broken link (exit 3).
  audit export     Write audit events as JSON lines (--since, --until, --type, --user).
  clients …        OAuth clients: add, list, rotate-secret, remove (docs/oauth.md).
  keys rotate      Introduce new OAuth token signing keys.
  users …          Accounts: show, disable (signs out, revokes OAuth grants), enable, delete, import.
  help             Show this help.

Configuration comes from GATEHOUSE_* environment variables and the JSON file named by
GATEHOUSE_CONFIG; see docs/configuration.md. Common ones:
  GATEHOUSE_PORT, GATEHOUSE_ORIGIN, GATEHOUSE_DATA_DIR, GATEHOUSE_DATABASE_URL,
  GATEHOUSE_SECRET, GATEHOUSE_ENV, GATEHOUSE_SMTP_URL, GATEHOUSE_TRUSTED_PROXIES
`;

export async function serveCommand(): Promise<number> {
  const config = loadConfig();
  const gatehouse = await createGatehouse(config);
  const { log } = gatehouse.services;
  for (const warning of configWarnings(config)) log.warn(`WARNING: ${warning}`);
  const { port } = await gatehouse.listen();
  log.info(
    { port, origin: config.origin, storage: gatehouse.services.database.dialect },
    `Gatehouse is listening on ${config.host}:${port}; open ${config.origin}/sign-in`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    gatehouse.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return new Promise<number>(() => {});
}

export async function migrateCommand(args: string[]): Promise<number> {
  const config = loadConfig();
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    if (args.includes('--status')) {
      const status = await migrationStatus(database);
      console.log(JSON.stringify(status, null, 2));
      return 0;
    }
    const applied = await migrateToLatest(database);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database schema is up to date.');
    return 0;
  } finally {
    await database.close();
  }
}

export async function runCli(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand();
      case 'migrate':
        return await migrateCommand(rest);
      case 'audit':
        return await auditCommand(rest);
      case 'clients':
      case 'keys':
        return await oauthCommand(command, rest);
      case 'users':
        return await usersCommand(rest);
      case 'help':
      case '--help':
      case '-h':
        console.log(usage);
        return 0;
      default:
        console.error(`Unknown command "${command}".\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SchemaOutOfDateError) {
      console.error(`gatehouse: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
