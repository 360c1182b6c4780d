import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import pino, { type Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { AuditRecorder } from './domain/audit/audit-recorder.ts';
import { deriveKey } from './domain/crypto/secrets.ts';
import { EmailAuthService } from './domain/email-auth/email-auth-service.ts';
import { MailService, type MailServiceOptions } from './domain/mail/mail-service.ts';
import { devMailboxTransport, smtpTransport } from './domain/mail/transports.ts';
import { PasskeyService } from './domain/passkeys/passkey-service.ts';
import { RedirectPolicy } from './domain/redirects/redirect-policy.ts';
import { SessionService } from './domain/sessions/session-service.ts';
import { UserService } from './domain/users/user-service.ts';
import type { AppEnv } from './http/app-env.ts';
import { createApp } from './http/app.ts';
import { createNodeListener } from './http/node-listener.ts';
import { type Clock, systemClock } from './ports/clock.ts';
import type { MailTransport } from './ports/mail.ts';
import type { Services } from './services.ts';
import { migrateToLatest, migrationStatus, openDatabase } from './storage/sql/open-database.ts';
import { createSqlStores } from './storage/sql/stores.ts';

export interface GatehouseOptions {
  clock?: Clock;
  log?: Logger;
  /** Replaces the configured mail transport (tests that need delivery to fail). */
  mailTransport?: MailTransport;
  mail?: MailServiceOptions;
  /** SQLite file, or ':memory:'; default is <dataDir>/gatehouse.sqlite. */
  sqlitePath?: string;
}

export interface Gatehouse {
  app: Hono<AppEnv>;
  services: Services;
  /** Starts the HTTP server on config.host:config.port (port 0 picks a free one). */
  listen(): Promise<{ port: number; server: Server }>;
  /** Graceful: stops accepting, lets in-flight requests finish, stops workers, closes storage. */
  close(): Promise<void>;
}

export class SchemaOutOfDateError extends Error {
  override name = 'SchemaOutOfDateError';
}

const PRUNE_INTERVAL_MS = 10 * 60_000;

/**
 * The composition root. It holds no process-global state, so several instances can live in
 * one process (tests run many) and the same instance could be mounted in another app.
 */
export async function createGatehouse(config: Config, options: GatehouseOptions = {}): Promise<Gatehouse> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? pino({ level: config.logLevel, base: { service: 'gatehouse' } });
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    sqlitePath: options.sqlitePath,
    dataDir: config.dataDir,
  });
  try {
    if (config.migrateOnStart) {
      const applied = await migrateToLatest(database);
      if (applied.length) log.info({ applied }, 'migrations applied');
    } else {
      const status = await migrationStatus(database);
      if (status.pending.length) {
        throw new SchemaOutOfDateError(
          `database schema is behind this version (pending: ${status.pending.join(', ')}); run \`gatehouse migrate\` first`,
        );
      }
    }
  } catch (error) {
    await database.close();
    throw error;
  }

  const stores = createSqlStores(database);
  const audit = new AuditRecorder(stores.audit, clock, (error) =>
    log.error({ err: error }, 'audit write failed'),
  );
  const users = new UserService(stores.users, stores.passkeys, clock);
  const sessions = new SessionService(stores.sessions, clock, config.session);
  const redirects = new RedirectPolicy(config.origin, config.allowedRedirects, config.env);
  const transport =
    options.mailTransport ??
    (config.smtpUrl
      ? smtpTransport(config.smtpUrl, config.mailFrom)
      : devMailboxTransport(stores.devMailbox, clock, log, config.origin));
  const mail = new MailService(
    stores.outbox,
    transport,
    deriveKey(config.secret, 'mail-outbox'),
    clock,
    log,
    options.mail,
  );
  const emailAuth = new EmailAuthService({
    challenges: stores.emailChallenges,
    users,
    mail,
    audit,
    redirects,
    clock,
    config,
  });
  const passkeys = new PasskeyService({
    passkeys: stores.passkeys,
    challenges: stores.challenges,
    users,
    config,
    clock,
    audit,
  });
  const services: Services = {
    config,
    clock,
    log,
    database,
    stores,
    audit,
    users,
    sessions,
    mail,
    emailAuth,
    passkeys,
    redirects,
  };
  const { app } = createApp(services);

  mail.start();
  const prune = setInterval(() => {
    const now = clock.now();
    Promise.all([
      sessions.pruneExpired(),
      stores.challenges.deleteExpired(now),
      stores.emailChallenges.deleteExpired(now),
    ]).catch((error: unknown) => log.warn({ err: error }, 'pruning failed'));
  }, PRUNE_INTERVAL_MS);
  prune.unref();

  let server: Server | null = null;
  let closed = false;
  return {
    app,
    services,
    listen() {
      return new Promise((resolve, reject) => {
        const started = createServer(createNodeListener(app));
        started.once('error', reject);
        // Slow-client protection: a request must arrive whole within this time.
        started.requestTimeout = 30_000;
        started.headersTimeout = 20_000;
        started.listen(config.port, config.host, () => {
          resolve({ port: (started.address() as AddressInfo).port, server: started });
        });
        server = started;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(prune);
      if (server) {
        const current = server;
        await new Promise<void>((resolve) => {
          // Keep-alive connections go idle only once their in-flight request is answered;
          // sweep them as they do instead of waiting out the keep-alive timeout.
          const sweep = setInterval(() => current.closeIdleConnections(), 50);
          current.close(() => {
            clearInterval(sweep);
            resolve();
          });
          current.closeIdleConnections();
        });
      }
      await mail.stop();
      await database.close();
    },
  };
}
