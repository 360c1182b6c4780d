import type { JWK } from 'jose';
import type { Account, Configuration, KoaContext, TokenInstance } from 'oidc-provider';
import { errors, interactionPolicy } from 'oidc-provider';
import type { OAuthConfig } from '../../config/oauth-schema.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import { ACR_BASIC, ACR_PHISHING_RESISTANT, OIDC_SCOPES, SCOPE_CLAIMS, userClaims } from './claims.ts';
import type { ClientRegistry } from './client-registry.ts';
import { type DeviceFlowSources, USER_CODE_CHARSET, USER_CODE_MASK } from './device-flow.ts';
import type { Adapter } from 'oidc-provider';

/** Provider paths, all under /oauth/ so they never meet Gatehouse's own (/auth/{provider} is federation's). */
const PROVIDER_ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  jwks: '/oauth/jwks',
  userinfo: '/oauth/userinfo',
  end_session: '/oauth/logout',
  pushed_authorization_request: '/oauth/par',
  code_verification: '/oauth/device',
  device_authorization: '/oauth/device/auth',
  backchannel_authentication: '/oauth/backchannel',
  registration: '/oauth/register',
  challenge: '/oauth/challenge',
  credential: '/oauth/credential',
} as const;

/** The provider's own endpoint paths (not those with a uid in them, such as the authorization resume). */
export const PROVIDER_ENDPOINT_PATHS: ReadonlySet<string> = new Set(Object.values(PROVIDER_ROUTES));

export const INTERACTION_PATH = '/interaction';

/** What the configuration needs from the rest of the provider (oauth-provider.ts). */
export interface ConfigurationInputs {
  oauth: OAuthConfig;
  keys: JWK[];
  cookieKey: string;
  sessionTtlMs: number;
  adapter: (model: string) => Adapter;
  clients: ClientRegistry;
  findUser(id: string): Promise<UserRecord | undefined>;
  /**
   * Whether the Gatehouse session behind the request is the provider session's sign-in, recent
   * enough for max_age and strong enough for acr_values (login policy).
   */
  gatehouseSessionCurrent(ctx: KoaContext): Promise<boolean>;
  loadExistingGrant(ctx: KoaContext): Promise<unknown>;
  renderError(ctx: KoaContext, out: { error: string; error_description?: string }): void;
  logoutSource(ctx: KoaContext): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContext): Promise<void>;
  /** Outgoing calls may reach loopback hosts (development and tests; see providerFetch). */
  loopbackFetch?: boolean;
  /** The device authorization grant's pages (device-flow.ts). */
  deviceFlow: DeviceFlowSources;
}

/**
 * Outgoing calls (back-channel logout, a client's jwks_uri) may reach loopback addresses when
 * `loopbackFetch` is set (never in production). oidc-provider's fetch (configuration.fetch) gets
 * a dispatcher that drops connections to loopback, private and other special-use addresses (its
 * SSRF defence); only for a URL that names a loopback host literally is that dispatcher left
 * out, so the URL cannot resolve anywhere else through DNS.
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function providerFetch(loopback: boolean) {
  return (url: string | URL, options: RequestInit & { dispatcher?: unknown }): Promise<Response> => {
    if (loopback && LOOPBACK_HOSTS.has(new URL(url).hostname)) {
      const { dispatcher: _ssrfGuard, ...rest } = options;
      return globalThis.fetch(url, rest);
    }
    return globalThis.fetch(url, options);
  };
}

const seconds = (ms: number): number => Math.max(1, Math.floor(ms / 1000));
const GRANT_TTL_S = 365 * 24 * 3600;
const INTERACTION_TTL_S = 30 * 60;

/**
 * The profile (docs/oauth.md), as oidc-provider configuration. Everything not named here is off:
 * no implicit or hybrid response types, no password grant, no dynamic registration, no
 * development interactions, no symmetric client authentication.
 */
export function buildConfiguration(inputs: ConfigurationInputs): Configuration {
  const { oauth } = inputs;
  const resources = new Map(oauth.resources.map((resource) => [resource.indicator, resource]));

  const policy = interactionPolicy.base();
  // First login check: the provider's session is only as good as the Gatehouse session behind
  // it. Signed out, revoked, signed in again (a new auth time), older than max_age (counted in
  // milliseconds, where the provider's own check counts whole seconds), or of a weaker class
  // than acr_values asks (the library itself enforces only essential acr claims, which need the
  // claims parameter) means: log in again, which the interaction page does by step-up.
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check(
        'gatehouse_session',
        'the Gatehouse session ended, changed, is older than max_age or weaker than acr_values',
        'login_required',
        async (ctx) =>
          ctx.oidc.session.accountId !== undefined && !(await inputs.gatehouseSessionCurrent(ctx)),
      ),
      0,
    );

  return {
    adapter: inputs.adapter,
    clients: inputs.clients.configuredMetadata(),
    jwks: { keys: inputs.keys },
    findAccount: async (_ctx: KoaContext, sub: string): Promise<Account | undefined> => {
      const user = await inputs.findUser(sub);
      // A disabled account is no account here: the provider then refuses the refresh token,
      // authorization code or device code (invalid_grant) and answers userinfo with
      // invalid_token, even for a grant that escaped the revocation done by disabling.
      if (!user || user.disabledAt !== null) return undefined;
      return {
        accountId: user.id,
        claims: (_use, scope) => userClaims(user, new Set(scope.split(' '))),
      };
    },
    claims: SCOPE_CLAIMS,
    // A client's `scope` may only name scopes the server knows: the OpenID ones and the APIs'.
    scopes: [...new Set([...OIDC_SCOPES, ...oauth.resources.flatMap((resource) => resource.scopes)])],
    // Browsers may call the token endpoint only for public clients (SPAs), from the origin of
    // one of their redirect URIs; a confidential client's secret never belongs in a browser.
    clientBasedCORS: (
      _ctx: KoaContext,
      origin: string,
      client: { clientAuthMethod: string; redirectUris: string[] },
    ) =>
      client.clientAuthMethod === 'none' &&
      client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin),
    acrValues: [ACR_PHISHING_RESISTANT, ACR_BASIC],
    // A user's access token says when and how strongly the user signed in (RFC 9068 §2.2.1), so
    // an API can judge it and, when it is not enough, answer with RFC 9470's
    // insufficient_user_authentication challenge; the client's new request with acr_values or
    // max_age then goes through step-up (interaction page). Opaque tokens give the same two
    // claims at introspection. Client-credentials tokens have no user and get neither.
    extraTokenClaims: async (ctx: KoaContext, token: TokenInstance) => {
      if (token.kind !== 'AccessToken') return undefined;
      const { AuthorizationCode, RefreshToken, DeviceCode } = ctx.oidc.entities;
      const signIn = AuthorizationCode ?? RefreshToken ?? DeviceCode;
      if (signIn?.authTime === undefined) return undefined;
      return { auth_time: signIn.authTime, ...(signIn.acr ? { acr: signIn.acr } : {}) };
    },
    responseTypes: ['code'],
    // PKCE for every client, public or confidential (OAuth 2.1 §4.1.1); S256 is the only method
    // the library offers, so `plain` is refused.
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: KoaContext, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    // private_key_jwt (RFC 7523): a signed, single-use assertion instead of a shared secret
    // (ASVS 5.0 V10.4.16); its jti is remembered until it expires (the ReplayDetection model).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    fetch: providerFetch(inputs.loopbackFetch === true),
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: oauth.idTokenSigningAlg,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256'],
      requestObjectSigningAlgValues: ['ES256', 'RS256'],
      clientAuthSigningAlgValues: ['ES256', 'RS256'],
      dPoPSigningAlgValues: ['ES256', 'EdDSA'],
    },
    // OAuth 2.1 §4.1.3: redirect_uri is always sent and compared, even with one registered.
    allowOmittingSingleRegisteredRedirectUri: false,
    ttl: {
      AuthorizationCode: seconds(oauth.authorizationCodeTtlMs),
      AccessToken: seconds(oauth.accessTokenTtlMs),
      ClientCredentials: seconds(oauth.clientCredentialsTtlMs),
      IdToken: seconds(oauth.idTokenTtlMs),
      // Idle lifetime from each rotation, never past the absolute lifetime counted from the
      // first token of the chain (iiat): ASVS 5.0 V10.4.8.
      RefreshToken: (_ctx: KoaContext, token: TokenInstance) =>
        Math.max(
          1,
          Math.min(
            seconds(oauth.refreshTokenIdleMs),
            seconds(oauth.refreshTokenAbsoluteMs) - (Math.floor(Date.now() / 1000) - token.iiat),
          ),
        ),
      Interaction: INTERACTION_TTL_S,
      DeviceCode: seconds(oauth.deviceFlow.userCodeTtlMs),
      Session: seconds(inputs.sessionTtlMs),
      Grant: GRANT_TTL_S,
    },
    cookies: {
      keys: [inputs.cookieKey],
      names: {
        session: 'gatehouse_oidc_session',
        interaction: 'gatehouse_oidc_interaction',
        resume: 'gatehouse_oidc_resume',
      },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    routes: PROVIDER_ROUTES,
    interactions: {
      policy,
      url: (_ctx: KoaContext, interaction: { uid: string }) => `${INTERACTION_PATH}/${interaction.uid}`,
    },
    loadExistingGrant: inputs.loadExistingGrant,
    renderError: (ctx: KoaContext, out: { error: string; error_description?: string }) =>
      inputs.renderError(ctx, out),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // RFC 7662 §2.1: only an authenticated (confidential) client, and only about tokens it
        // holds or that are meant for a resource it is allowed to call.
        allowedPolicy: async (
          _ctx: KoaContext,
          client: { clientId: string; clientAuthMethod: string },
          token: TokenInstance,
        ) => {
          if (client.clientAuthMethod === 'none') return false;
          if (token.clientId === client.clientId) return true;
          const definition = await inputs.clients.definition(client.clientId);
          return token.aud !== undefined && (definition?.resources.includes(token.aud) ?? false);
        },
      },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke only tokens issued to it.
        allowedPolicy: async (_ctx: KoaContext, client: { clientId: string }, token: TokenInstance) =>
          token.clientId === client.clientId,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: inputs.logoutSource,
        postLogoutSuccessSource: inputs.postLogoutSuccessSource,
      },
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: oauth.requirePar,
      },
      resourceIndicators: {
        enabled: true,
        // A client-credentials request for a client with one API needs not name it.
        defaultResource: async (ctx: KoaContext, client: { clientId: string }, oneOf?: string[]) => {
          if (oneOf) return oneOf;
          if (ctx.oidc.params?.['grant_type'] !== 'client_credentials') return undefined;
          const definition = await inputs.clients.definition(client.clientId);
          return definition?.resources.length === 1 ? definition.resources[0] : undefined;
        },
        useGrantedResource: async () => true,
        // RFC 8707 + RFC 9068: an access token per resource, its audience that resource (a JWT,
        // or opaque per client).
        getResourceServerInfo: async (_ctx: KoaContext, indicator: string, client: { clientId: string }) => {
          const resource = resources.get(indicator);
          const definition = await inputs.clients.definition(client.clientId);
          if (!resource || !definition?.resources.includes(indicator))
            throw new errors.InvalidTarget('resource indicator not allowed for this client');
          const scope = resource.scopes.join(' ');
          // Opaque per client (access_token_format): the engine stores the token and its API
          // introspects it; JWTs are signed ES256 and never stored.
          return definition.access_token_format === 'opaque'
            ? { scope, audience: indicator, accessTokenFormat: 'opaque' as const }
            : {
                scope,
                audience: indicator,
                accessTokenFormat: 'jwt' as const,
                jwt: { sign: { alg: 'ES256' as const } },
              };
        },
      },
      userinfo: { enabled: true },
      dPoP: { enabled: true },
      // OpenID Connect Back-Channel Logout 1.0: logout tokens to the apps of an ending session,
      // delivered off the request path (backchannel-logout.ts).
      backchannelLogout: { enabled: true },
      // RFC 8628, for clients whose grant_types include the device code grant; the provider
      // refuses every other client with unauthorized_client.
      deviceFlow: {
        enabled: true,
        charset: USER_CODE_CHARSET,
        mask: USER_CODE_MASK,
        ...inputs.deviceFlow,
      },
      registration: { enabled: false },
      claimsParameter: { enabled: false },
      requestObjects: { enabled: false },
    },
  };
}
