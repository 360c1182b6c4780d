import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ClientInstance, KoaContext, OIDCProviderError } from 'oidc-provider';
import { Provider } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  OAuthClientStore,
  OAuthModelStore,
  RefreshGraceStore,
  SigningKeyStore,
} from '../../ports/oauth-store.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { deriveKey } from '../crypto/secrets.ts';
import type { RateLimits } from '../ratelimit/rate-limits.ts';
import type { RequestContext } from '../request-context.ts';
import type { UserService } from '../users/user-service.ts';
import { ClientRegistry } from './client-registry.ts';
import { ConnectedApps } from './connected-apps.ts';
import { DEVICE_CODE_GRANT } from './client-policy.ts';
import { DeviceFlow, pacePolling } from './device-flow.ts';
import { BackchannelLogout } from './backchannel-logout.ts';
import {
  deferBackchannelLogout,
  dpopProofKey,
  grantTypes,
  restrictResponseModes,
  useHashedClientSecrets,
  wrapGrantHandler,
} from './internals.ts';
import { limitPerClient, providerRateLimits } from './oauth-rate-limits.ts';
import { type InteractionView, Interactions } from './interactions.ts';
import { type ProviderPages, providerResponses, setProviderCsp } from './provider-pages.ts';
import { buildConfiguration, INTERACTION_PATH, PROVIDER_ENDPOINT_PATHS } from './provider-config.ts';
import { routeAdditions } from './route-additions.ts';
import { type SessionBridge, sameSignIn } from './session-link.ts';
import { acrSatisfied, acrValuesOf } from './claims.ts';
import { createAdapterFactory } from './sql-adapter.ts';
import { type KeySet, SigningKeys } from './signing-keys.ts';
import { auditReplays, type ReplayEvent, withRefreshGrace } from './token-grants.ts';

export interface OAuthProviderDeps {
  config: Config;
  clock: Clock;
  log: Logger;
  audit: AuditRecorder;
  users: UserService;
  stores: {
    oauthModels: OAuthModelStore;
    oauthClients: OAuthClientStore;
    signingKeys: SigningKeyStore;
    refreshGrace: RefreshGraceStore;
  };
  sessions: SessionBridge;
  pages: ProviderPages;
  /** Limits on user codes entered for the device flow (device-flow.ts). */
  rateLimits: RateLimits;
}

const KEY_REFRESH_MS = 60_000;
const RESPONSE_MODES = ['query', 'fragment'];
const NO_CONTEXT: RequestContext = { ip: null, userAgent: null, requestId: null };

/**
 * Where a provider request carries its RequestContext: a property of the request object under a
 * symbol of this module. A WeakMap keyed by requests did the same with an ephemeron entry per
 * request, which every young-generation collection had to process (bench:oauth's profile showed
 * more collection time than the baseline's).
 */
const REQUEST_CONTEXT = Symbol('gatehouse.requestContext');
type CarriesContext = IncomingMessage & { [REQUEST_CONTEXT]?: RequestContext };
/** Margin on top of the longest token lifetime before a retired key leaves the JWKS. */
const CLOCK_MARGIN_MS = 60_000;

/** Paths the provider answers (the rest of the origin is Gatehouse's). */
export function isProviderPath(path: string): boolean {
  return (
    path.startsWith('/oauth/') ||
    path === '/.well-known/openid-configuration' ||
    path === '/.well-known/oauth-authorization-server'
  );
}

/**
 * The metrics label of a provider path: the endpoint itself, or `/oauth/*` for paths that carry
 * an id (the authorization resume, logout and device confirmations), so labels stay bounded.
 */
export function providerRouteLabel(path: string): string {
  return PROVIDER_ENDPOINT_PATHS.has(path) || path.startsWith('/.well-known/') ? path : '/oauth/*';
}

export { INTERACTION_PATH };
export type { InteractionView };
export type { SessionBridge, SignedInSession } from './session-link.ts';

/**
 * The OAuth 2.1 / OpenID Connect provider: oidc-provider behind one seam (DESIGN §2 principle 9).
 * Holds the current engine and rebuilds it when the signing keys change (the engine's keystore
 * is fixed at construction); its state lives in the database, so a rebuild loses nothing.
 */
export class OAuthProvider {
  readonly clients: ClientRegistry;
  readonly keys: SigningKeys;
  readonly interactions: Interactions;
  readonly connectedApps: ConnectedApps;
  /** Back-channel logout (backchannel-logout.ts); `idle()` waits for pending deliveries. */
  readonly backchannel: BackchannelLogout;
  readonly #deps: OAuthProviderDeps;
  #provider: Provider;
  /** Koa composes its middleware in callback(): once per build, not per request. */
  #callback: (request: IncomingMessage, response: ServerResponse) => void;
  #fingerprint: string;
  #timer: NodeJS.Timeout | null = null;
  /** The engine's own logout-token sender (set by #build; its deferred twin is what the engine calls). */
  #sendLogout: (client: ClientInstance, sub: string, sid: string | undefined) => Promise<void> = () =>
    Promise.resolve();

  private constructor(deps: OAuthProviderDeps, clients: ClientRegistry, keys: SigningKeys, keySet: KeySet) {
    this.#deps = deps;
    this.clients = clients;
    this.keys = keys;
    this.backchannel = new BackchannelLogout({
      models: deps.stores.oauthModels,
      sessions: deps.sessions,
      audit: deps.audit,
      log: deps.log,
      clock: deps.clock,
      engine: () => ({ provider: this.#provider, send: this.#sendLogout }),
    });
    deps.audit.subscribe(this.backchannel.onEvent);
    this.#provider = this.#build(keySet);
    this.#callback = this.#provider.callback();
    this.#fingerprint = keySet.fingerprint;
    this.connectedApps = new ConnectedApps(deps.stores.oauthModels, clients, deps.clock);
    this.interactions = new Interactions(
      () => this.#provider,
      clients,
      this.connectedApps,
      deps.audit,
      deps.clock,
    );
  }

  static async create(deps: OAuthProviderDeps): Promise<OAuthProvider> {
    const clients = clientRegistryFor(deps.config, deps.stores.oauthClients, deps.clock);
    const keys = signingKeysFor(deps.config, deps.stores.signingKeys, deps.clock);
    await keys.ensure();
    return new OAuthProvider(deps, clients, keys, await keys.current());
  }

  /** Serves one provider request; `context` is what the audit log records about it. */
  handle(request: IncomingMessage, response: ServerResponse, context: RequestContext): void {
    (request as CarriesContext)[REQUEST_CONTEXT] = context;
    this.#callback(request, response);
  }

  /** Picks up rotated keys (a key starting or stopping to sign, one published or withdrawn). */
  async refreshKeys(): Promise<boolean> {
    const keySet = await this.keys.current();
    if (keySet.fingerprint === this.#fingerprint) return false;
    this.#provider = this.#build(keySet);
    this.#callback = this.#provider.callback();
    this.#fingerprint = keySet.fingerprint;
    this.#deps.log.info({ keys: keySet.fingerprint }, 'oauth signing keys changed');
    return true;
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.refreshKeys().catch((error: unknown) => this.#deps.log.warn({ err: error }, 'key refresh failed'));
    }, KEY_REFRESH_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async pruneExpired(): Promise<void> {
    const now = this.#deps.clock.now();
    await Promise.all([
      this.#deps.stores.oauthModels.deleteExpired(Date.now()),
      this.#deps.stores.refreshGrace.deleteExpired(now),
    ]);
  }

  #contextOf(ctx: KoaContext): RequestContext {
    return (ctx.req as CarriesContext)[REQUEST_CONTEXT] ?? NO_CONTEXT;
  }

  #build(keySet: KeySet): Provider {
    const { config, stores, users, sessions, audit, clock, log } = this.#deps;
    const oauth = config.oauth;
    const responses = providerResponses(this.#deps.pages, (ctx) => this.#contextOf(ctx), sessions, audit);
    const device = new DeviceFlow({
      pages: this.#deps.pages,
      sessions,
      audit,
      rateLimits: this.#deps.rateLimits,
      settings: oauth.deviceFlow,
      contextOf: (ctx) => this.#contextOf(ctx),
    });
    const provider = new Provider(
      config.origin,
      buildConfiguration({
        oauth,
        keys: keySet.keys,
        cookieKey: Buffer.from(deriveKey(config.secret, 'oauth-cookies')).toString('base64url'),
        sessionTtlMs: config.session.rollingLifetimeMs,
        adapter: createAdapterFactory(
          stores.oauthModels,
          this.clients,
          deriveKey(config.secret, 'oauth-sealed-ids'),
        ),
        clients: this.clients,
        findUser: (id) => users.findById(id),
        gatehouseSessionCurrent: async (ctx) => {
          const session = await sessions.fromCookies(ctx.get('cookie') || undefined);
          if (!session || !sameSignIn(session, ctx.oidc.session)) return false;
          // A login just finished on the interaction page met max_age and acr_values there.
          if (ctx.oidc.result?.login !== undefined) return true;
          const maxAge = Number(ctx.oidc.params?.['max_age']);
          return (
            (Number.isNaN(maxAge) || clock.now() - session.authTime <= maxAge * 1000) &&
            acrSatisfied(acrValuesOf(ctx.oidc.params?.['acr_values']), session.amr)
          );
        },
        loadExistingGrant: (ctx) => this.interactions.loadExistingGrant(ctx),
        renderError: responses.renderError,
        logoutSource: responses.logoutSource,
        postLogoutSuccessSource: responses.postLogoutSuccessSource,
        loopbackFetch: config.env !== 'production',
        deviceFlow: device.sources(),
      }),
    );
    // Behind a proxy the provider must believe X-Forwarded-Proto to see https (cookies, issuer).
    provider.proxy = Boolean(config.trustedProxies);
    useHashedClientSecrets(provider);
    restrictResponseModes(provider, RESPONSE_MODES);
    const replay = (event: ReplayEvent, ctx: KoaContext): void => {
      void audit.record(this.#contextOf(ctx), {
        type:
          event.model === 'RefreshToken' ? 'oauth.refresh_token_reused' : 'oauth.authorization_code_replayed',
        outcome: 'failure',
        userId: event.accountId,
        details: { clientId: event.clientId, grantRevoked: event.grantId !== null },
      });
    };
    wrapGrantHandler(provider, 'authorization_code', (original) =>
      auditReplays(original, 'AuthorizationCode', 'code', stores.oauthModels, replay),
    );
    wrapGrantHandler(provider, 'refresh_token', (original) =>
      withRefreshGrace(auditReplays(original, 'RefreshToken', 'refresh_token', stores.oauthModels, replay), {
        store: stores.refreshGrace,
        sealingKey: deriveKey(config.secret, 'oauth-refresh-grace'),
        graceMs: oauth.refreshGraceMs,
        clock,
        proofKey: (ctx, spend) => dpopProofKey(provider, ctx, spend),
      }),
    );
    wrapGrantHandler(provider, DEVICE_CODE_GRANT, (original) =>
      pacePolling(original, {
        models: stores.oauthModels,
        clock,
        intervalMs: oauth.deviceFlow.pollIntervalMs,
      }),
    );
    // Rate limits (oauth-rate-limits.ts): per network and overall before the router; per
    // authenticated client around every grant, outermost, so a refused request costs nothing more.
    const limitDeps = {
      limiter: this.#deps.rateLimits.requests,
      limits: config.rateLimits,
      contextOf: (ctx: KoaContext) => this.#contextOf(ctx),
      renderError: responses.renderError,
    };
    for (const grantType of grantTypes(provider))
      wrapGrantHandler(provider, grantType, (original) => limitPerClient(original, limitDeps));
    // The engine awaits every logout token before answering the logout; Gatehouse sends them
    // after the answer instead, and audits the outcome (backchannel-logout.ts).
    this.#sendLogout = deferBackchannelLogout(provider, (client, send, sub, sid) => {
      const ctx = Provider.ctx;
      this.backchannel.deliver(client, send, sub, sid, 'rp_logout', ctx ? this.#contextOf(ctx) : NO_CONTEXT);
    });
    // Additions in front of the router, per route (route-additions.ts): the base CSP on every
    // response; the rate limits first, so a refused request costs nothing more; then the logout
    // pages' and the device flow's own.
    provider.use(
      routeAdditions(
        provider,
        setProviderCsp,
        providerRateLimits(limitDeps),
        responses.routes,
        device.routes(),
      ),
    );
    const clientAuthFailed = (ctx: KoaContext, error: OIDCProviderError): void => {
      if (error.error !== 'invalid_client') return;
      void audit.record(this.#contextOf(ctx), {
        type: 'oauth.client_auth_failed',
        outcome: 'failure',
        details: { endpoint: ctx.oidc.route ?? null, clientId: ctx.oidc.client?.clientId ?? null },
      });
    };
    for (const event of [
      'grant.error',
      'introspection.error',
      'revocation.error',
      'pushed_authorization_request.error',
      'device_authorization.error',
    ] as const)
      provider.on(event, clientAuthFailed);
    provider.on('server_error', (_ctx, error) => log.error({ err: error }, 'oauth provider error'));
    return provider;
  }
}

export function clientRegistryFor(config: Config, store: OAuthClientStore, clock: Clock): ClientRegistry {
  const { clients, resources } = config.oauth;
  return new ClientRegistry(
    clients,
    resources.map((resource) => resource.indicator),
    store,
    clock,
    { loopbackHttp: config.env !== 'production' },
  );
}

export function signingKeysFor(config: Config, store: SigningKeyStore, clock: Clock): SigningKeys {
  const oauth = config.oauth;
  return new SigningKeys(store, deriveKey(config.secret, 'oauth-signing-keys'), clock, {
    publishLeadMs: oauth.keyPublishLeadMs,
    tokenLifetimeMs:
      Math.max(oauth.idTokenTtlMs, oauth.accessTokenTtlMs, oauth.clientCredentialsTtlMs) + CLOCK_MARGIN_MS,
  });
}
