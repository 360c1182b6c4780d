import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import pino, { type Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { AuditRecorder } from './domain/audit/audit-recorder.ts';
import { Metrics } from './metrics/metrics.ts';
import { AuditRetention } from './domain/audit/audit-retention.ts';
import { AUDIT_CHAIN_KEY_PURPOSE } from './domain/audit/chain.ts';
import { AdminPolicy } from './domain/authz/admin.ts';
import { deriveKey } from './domain/crypto/secrets.ts';
import { KnownDevices } from './domain/devices/known-devices.ts';
import { AccountService } from './domain/account/account-service.ts';
import { AccountTokens } from './domain/account/account-tokens.ts';
import { CredentialNotices } from './domain/account/credential-notices.ts';
import { EmailChangeService } from './domain/account/email-change-service.ts';
import { EmailAuthService } from './domain/email-auth/email-auth-service.ts';
import { FederationService } from './domain/federation/federation-service.ts';
import { type Fetch, platformFetch } from './domain/federation/http.ts';
import { resolveProviders } from './domain/federation/providers.ts';
import { FactorPolicy } from './domain/mfa/factor-policy.ts';
import { MfaService } from './domain/mfa/mfa-service.ts';
import { PasswordHasher } from './domain/passwords/password-hasher.ts';
import { PasswordPolicy } from './domain/passwords/password-policy.ts';
import { PasswordService } from './domain/passwords/password-service.ts';
import { MailService, type MailServiceOptions } from './domain/mail/mail-service.ts';
import { PruningJob } from './domain/maintenance/pruning-job.ts';
import { SecurityNotifications } from './domain/notifications/security-notifications.ts';
import { devMailboxTransport, smtpTransport } from './domain/mail/transports.ts';
import { OAuthProvider } from './domain/oauth-provider/oauth-provider.ts';
import { PasskeyService } from './domain/passkeys/passkey-service.ts';
import { RedirectPolicy } from './domain/redirects/redirect-policy.ts';
import { SessionService } from './domain/sessions/session-service.ts';
import { UserAdministration } from './domain/users/user-administration.ts';
import { UserService } from './domain/users/user-service.ts';
import type { AppEnv } from './http/app-env.ts';
import { createApp } from './http/app.ts';
import { SecureServerResponse } from './http/middleware/security-headers.ts';
import { createNodeListener } from './http/node-listener.ts';
import { providerRoute } from './http/oauth-listener.ts';
import { sessionCheckFastPath } from './http/session-check-fast-path.ts';
import { ClientIpResolver } from './http/client-ip.ts';
import { sessionBridge } from './http/oauth-session-bridge.ts';
import { oauthProviderPages } from './http/pages/oauth-provider-pages.ts';
import { type Clock, systemClock } from './ports/clock.ts';
import type { MailTransport } from './ports/mail.ts';
import { createRateLimiting } from './rate-limiting.ts';
import type { Services } from './services.ts';
import { withShortLivedModelsInRedis } from './storage/routed-oauth-model-store.ts';
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
  /** Outbound HTTP to federation providers (tests route a provider's public host to a local server). */
  fetch?: Fetch;
  /**
   * `false` for a one-off command (the CLI) that builds the services to run one operation the
   * way the server would: no mail worker, pruning job, signing-key refresh or WAL checkpoint
   * thread. The running server does that work; a short-lived process must not lease it away.
   */
  background?: boolean;
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
  // Before the database opens: an unusable provider stops the start with a ConfigError.
  const federationProviders = resolveProviders(config);
  const database = openDatabase(
    {
      databaseUrl: config.databaseUrl,
      sqlitePath: options.sqlitePath,
      dataDir: config.dataDir,
    },
    {
      walCheckpointThread: options.background !== false,
      onCheckpointThreadError: (error) =>
        log.warn(
          { err: error },
          'the WAL checkpoint thread ended; SQLite checkpoints on the server connection',
        ),
    },
  );
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
  const chainKey = deriveKey(config.secret, AUDIT_CHAIN_KEY_PURPOSE);
  const audit = new AuditRecorder(
    stores.audit,
    clock,
    (error) => log.error({ err: error }, 'audit write failed'),
    chainKey,
  );
  // Prometheus metrics (docs/operations.md#metrics), only when a scrape token is configured.
  const metrics = config.metricsToken ? new Metrics() : null;
  if (metrics) audit.subscribe(metrics.onAuditEvent);
  const users = new UserService(stores.users, stores.passkeys, clock, stores.federatedIdentities);
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
  // Issue #4: rate limits and brute-force delays, known devices, security notices by mail.
  const rateLimiting = await createRateLimiting(config, { clock, log, audit, users });
  if (rateLimiting.redis && config.oauth.enabled) {
    // Issue #5: the provider's short-lived models (codes, interactions, …) in Redis, with the
    // database behind them (routed-oauth-model-store.ts).
    stores.oauthModels = withShortLivedModelsInRedis(
      stores.oauthModels,
      rateLimiting.redis,
      (error, operation) =>
        log.warn({ err: error, operation }, 'oauth models: Redis failed; using the database'),
    );
  }
  const devices = new KnownDevices(stores.knownDevices, clock, audit);
  audit.subscribe(new SecurityNotifications({ users, mail, config, log }).onEvent);
  // Issue #3: passwords, second factors, step-up and the account lifecycle.
  const accountTokens = new AccountTokens(stores.accountTokens, clock);
  const notices = new CredentialNotices(mail, config, clock);
  const account = new AccountService({
    users,
    passwords: stores.passwords,
    totp: stores.totp,
    recoveryCodes: stores.recoveryCodes,
    passkeys: stores.passkeys,
    tokens: accountTokens,
    sessions,
    mail,
    audit,
    config,
    oauthModels: stores.oauthModels,
  });
  const factorPolicy = new FactorPolicy(stores.totp, config);
  const mfa = new MfaService({
    totp: stores.totp,
    recoveryCodes: stores.recoveryCodes,
    secretKey: deriveKey(config.secret, 'totp-secrets'),
    notices,
    audit,
    clock,
    config,
  });
  const passwordHasher = new PasswordHasher(config.passwords.argon2);
  if (config.passwords.enabled) {
    void passwordHasher
      .warmUp()
      .then((lowered) => log.debug({ lowered }, 'password hashing threads run below the event loop'))
      .catch((error: unknown) => log.warn({ err: error }, 'password hashing warm-up failed'));
  }
  const passwords = new PasswordService({
    users,
    passwords: stores.passwords,
    tokens: accountTokens,
    hasher: passwordHasher,
    policy: new PasswordPolicy({ ...config.passwords, appName: config.appName }),
    account,
    sessions,
    notices,
    mail,
    audit,
    clock,
    config,
  });
  const emailChange = new EmailChangeService({
    users,
    tokens: accountTokens,
    sessions,
    mail,
    audit,
    config,
    clock,
  });
  const emailAuth = new EmailAuthService({
    challenges: stores.emailChallenges,
    users,
    mail,
    audit,
    redirects,
    clock,
    config,
    account,
    mailBudget: rateLimiting.rateLimits.requests,
  });
  const passkeys = new PasskeyService({
    passkeys: stores.passkeys,
    challenges: stores.challenges,
    users,
    config,
    clock,
    audit,
  });
  const federation = new FederationService({
    providers: federationProviders,
    identities: stores.federatedIdentities,
    replay: stores.federationReplay,
    users,
    audit,
    redirects,
    clock,
    config,
    fetch: options.fetch ?? platformFetch,
  });
  // Issue #5: the OAuth 2.1 / OpenID Connect provider, only when configured.
  const oauth = config.oauth.enabled
    ? await OAuthProvider.create({
        config,
        clock,
        log,
        audit,
        users,
        stores,
        sessions: sessionBridge(sessions, audit),
        pages: oauthProviderPages(config.appName),
        rateLimits: rateLimiting.rateLimits,
      })
    : null;
  const auditRetention = new AuditRetention({
    log: stores.audit,
    audit,
    clock,
    chainKey,
    retentionMs: config.audit.retentionMs,
  });
  const pruning = new PruningJob({
    leases: stores.jobLeases,
    clock,
    log,
    intervalMs: PRUNE_INTERVAL_MS,
    work: () => {
      const now = clock.now();
      return Promise.all([
        sessions.pruneExpired(),
        stores.challenges.deleteExpired(now),
        stores.emailChallenges.deleteExpired(now),
        stores.accountTokens.deleteExpired(now),
        stores.federationReplay.deleteExpired(now),
        auditRetention.run(),
        devices.prune(),
        oauth?.pruneExpired(),
      ]);
    },
  });
  const services: Services = {
    config,
    clock,
    log,
    database,
    stores,
    audit,
    admins: new AdminPolicy(config.adminEmails),
    pruning,
    users,
    userAdministration: new UserAdministration({
      users: stores.users,
      sessions: stores.sessions,
      oauthModels: stores.oauthModels,
      audit,
      clock,
    }),
    sessions,
    mail,
    emailAuth,
    passkeys,
    federation,
    redirects,
    account,
    notices,
    factorPolicy,
    mfa,
    passwords,
    emailChange,
    rateLimits: rateLimiting.rateLimits,
    devices,
    oauth,
    metrics,
  };
  const { app } = createApp(services);

  if (options.background !== false) {
    mail.start();
    pruning.start();
    oauth?.start();
  }

  let server: Server | null = null;
  let closed = false;
  return {
    app,
    services,
    listen() {
      return new Promise((resolve, reject) => {
        const started = createServer(
          { ServerResponse: SecureServerResponse },
          createNodeListener(app, {
            ...(oauth ? { routeFirst: providerRoute(oauth, config.trustedProxies, log, metrics) } : {}),
            sessionCheck: sessionCheckFastPath(services, new ClientIpResolver(config.trustedProxies)),
          }),
        );
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
      await pruning.stop();
      oauth?.stop();
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
      await rateLimiting.close();
      await database.close();
    },
  };
}
