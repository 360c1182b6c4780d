/**
 * The typed seam around oidc-provider 9, which ships no types (DESIGN §2 principle 9: the big
 * dependency sits behind one seam; only src/domain/oauth-provider/ imports it). Declared here is
 * exactly the surface Gatehouse uses, no more: a new use of the library starts with a line here.
 * Shapes follow the library's source (lib/provider.js, lib/models/*, lib/helpers/*).
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type Awaitable<T> = T | Promise<T>;

  /** The Koa context the provider hands to configuration functions and middleware. */
  export interface KoaContext {
    req: IncomingMessage;
    res: ServerResponse;
    method: string;
    path: string;
    status: number;
    body: unknown;
    type: string;
    headers: Record<string, string | string[] | undefined>;
    /** A request header ('' when absent). */
    get(field: string): string;
    /** Content negotiation on the Accept header: the first type it prefers, or false. */
    accepts(...types: string[]): string | false;
    readonly response: { get(field: string): string };
    set(field: string, value: string): void;
    append(field: string, value: string): void;
    oidc: OIDCContext;
  }

  export interface OIDCContext {
    /** The route name ('authorization', 'resume', 'token', 'end_session', …); undefined before routing. */
    readonly route: string | undefined;
    readonly params: Record<string, unknown> | undefined;
    readonly client: ClientInstance | undefined;
    readonly session: SessionInstance;
    readonly result: InteractionResults | undefined;
    readonly entities: {
      readonly IdTokenHint?: { payload: { sub?: string; aud?: string | string[] } };
      readonly Grant?: GrantInstance;
      /** The code being exchanged at the token endpoint: when and how the user signed in. */
      readonly AuthorizationCode?: SignInRecord;
      /** The device code a user code was found for (code_verification, device_resume), or being exchanged. */
      readonly DeviceCode?: { readonly clientId: string } & Partial<SignInRecord>;
      /**
       * The refresh token presented at the token endpoint, as found, once the grant checked its
       * client, expiry and grant, and before the reuse check (lib/actions/grants/refresh_token.js).
       */
      readonly RefreshToken?: {
        readonly clientId: string;
        readonly grantId: string;
        readonly accountId: string;
        readonly consumed?: unknown;
      } & Partial<SignInRecord>;
    };
    readonly requestParamOIDCScopes: Set<string>;
    readonly requestParamScopes: Set<string>;
    readonly requestParamClaims: Set<string>;
    readonly resourceServers: Record<string, ResourceServer>;
    urlFor(name: string): string;
  }

  export interface ResourceServer {
    readonly scope: string;
  }

  export interface ClientInstance {
    readonly clientId: string;
    readonly clientName: string | undefined;
    readonly clientAuthMethod: string;
    readonly clientSecret: string | undefined;
    readonly backchannelLogoutUri?: string | undefined;
  }

  export interface SessionInstance {
    readonly accountId: string | undefined;
    readonly loginTs: number | undefined;
    /** RP-initiated logout's pending state; `secret` is the logout form's xsrf value. */
    readonly state?: { readonly secret?: string };
    grantIdFor(clientId: string): string | undefined;
  }

  /** What a code, device code or refresh token remembers of the sign-in behind it. */
  export interface SignInRecord {
    /** Epoch seconds. */
    readonly authTime?: number;
    readonly acr?: string;
  }

  export interface TokenInstance {
    /** The model: AccessToken, ClientCredentials, RefreshToken… */
    readonly kind: string;
    readonly clientId: string;
    readonly iiat: number;
    readonly aud?: string;
  }

  export interface GrantInstance {
    readonly jti: string;
    readonly accountId: string;
    readonly clientId: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantClass {
    new (init: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  }

  export interface ClientClass {
    prototype: {
      compareClientSecret(this: ClientInstance, actual: string): Promise<boolean> | boolean;
      /** Signs a logout token for (sub, sid) and POSTs it to the client's backchannel_logout_uri. */
      backchannelLogout(this: ClientInstance, sub: string, sid: string | undefined): Promise<void>;
    };
    find(id: string): Promise<ClientInstance | undefined>;
  }

  export interface LoginResult {
    accountId: string;
    /** Epoch seconds of the authentication. */
    ts: number;
    amr?: string[];
    acr?: string;
    remember?: boolean;
  }

  export interface InteractionResults {
    /** Gatehouse's own note on a pending interaction (the provider ignores unknown keys). */
    gatehouse?: { signInAfter: string };
    login?: LoginResult;
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export interface InteractionDetails {
    readonly uid: string;
    /** Epoch seconds when the interaction began. */
    readonly iat: number;
    readonly params: Record<string, unknown>;
    readonly prompt: {
      readonly name: string;
      readonly reasons: string[];
      readonly details: {
        readonly missingOIDCScope?: string[];
        readonly missingOIDCClaims?: string[];
        readonly missingResourceScopes?: Record<string, string[]>;
      };
    };
    readonly session?: { readonly accountId: string; readonly uid: string };
    readonly grantId?: string;
    readonly result?: InteractionResults;
    /** Set when the interaction belongs to a device authorization (RFC 8628) rather than a redirect. */
    readonly deviceCode?: string;
  }

  /** Storage adapter: https://github.com/panva/node-oidc-provider/blob/main/example/my_adapter.js */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export type AdapterPayload = Record<string, unknown>;

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Awaitable<Record<string, unknown>>;
  }

  export class Check {
    constructor(
      reason: string,
      description: string,
      error: string,
      check: (ctx: KoaContext) => Awaitable<boolean>,
    );
  }

  export interface Prompt {
    readonly name: string;
    readonly checks: Check[] & { add(check: Check, index?: number): void };
  }

  export interface Policy extends Array<Prompt> {
    get(name: string): Prompt | undefined;
  }

  export const interactionPolicy: {
    base(): Policy;
    Check: typeof Check;
  };

  export interface OIDCProviderError extends Error {
    readonly error: string;
  }

  export const errors: {
    InvalidGrant: new (detail?: string) => OIDCProviderError;
    InvalidTarget: new (detail?: string) => OIDCProviderError;
    /** An error with any `error` code; its status can be changed (rate limits answer 429). */
    CustomOIDCProviderError: new (
      error: string,
      description?: string,
    ) => OIDCProviderError & { status: number; statusCode: number };
    /** RFC 8628 §3.5: the device polls faster than its interval. */
    SlowDown: new (
      description?: string,
    ) => OIDCProviderError;
  };

  /**
   * What the device flow's page hooks receive when the code entry page is shown again after a
   * failure (lib/helpers/re_render_errors.js): NotFoundError, ExpiredError, AlreadyUsedError,
   * NoCodeError, AbortedError (the user refused); any other error is the provider's own.
   */
  export interface DeviceFlowError extends Error {
    readonly userCode?: string;
    readonly statusCode?: number;
  }

  /** The provider's configuration object; the keys Gatehouse sets (lib/helpers/defaults.js). */
  export type Configuration = Record<string, unknown>;

  export type ProviderEvent =
    | 'grant.error'
    | 'introspection.error'
    | 'revocation.error'
    | 'pushed_authorization_request.error'
    | 'device_authorization.error'
    | 'server_error';

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    /** The Koa context of the provider request being served (AsyncLocalStorage), if any. */
    static readonly ctx: KoaContext | undefined;
    proxy: boolean;
    readonly Grant: GrantClass;
    readonly Client: ClientClass;
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): this;
    on(event: ProviderEvent, listener: (ctx: KoaContext, error: OIDCProviderError) => void): this;
    interactionDetails(request: IncomingMessage, response: ServerResponse): Promise<InteractionDetails>;
    interactionResult(
      request: IncomingMessage,
      response: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
  }

  export default Provider;
}

/**
 * The provider's private per-instance state (lib/helpers/weak_cache.js). Used in exactly one
 * place, internals.ts, for the two things the public API cannot do: wrap a built-in grant
 * handler and withdraw response modes the profile forbids.
 */
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  import type { KoaContext, Provider } from 'oidc-provider';

  export type GrantHandler = (ctx: KoaContext) => Promise<void>;

  export interface ProviderInternals {
    grantTypeHandlers: Map<string, GrantHandler>;
    responseModes: Map<string, unknown>;
    /** The provider's router (lib/helpers/router.js): the route a method and path reach. */
    router: { match(method: string, path: string): { route: { name: string } } | undefined };
  }

  export default function instance(provider: Provider): ProviderInternals;
}

/**
 * The provider's DPoP proof check (lib/helpers/validate_dpop.js), for the refresh grace window
 * (internals.ts dpopProofKey): the same RFC 9449 §4.3 checks the token endpoint runs, its result
 * remembered per request, so the endpoint does not check the proof twice.
 */
declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  import type { KoaContext, Provider } from 'oidc-provider';

  export interface DpopProof {
    /** RFC 7638 thumbprint of the proof's key. */
    thumbprint: string;
    jti: string;
    iat: number;
  }

  export default function validateDpop(provider: Provider, ctx: KoaContext): Promise<DpopProof | undefined>;
  /** Spends the proof's jti (RFC 9449 §11.1); throws when it was used before. */
  export function checkDpopReplay(
    provider: Provider,
    ctx: KoaContext,
    proof: DpopProof | undefined,
    clientId: string,
  ): Promise<void>;
}

/** The engine's PKCE check (lib/helpers/pkce.js): throws InvalidGrant when the verifier does not match. */
declare module 'oidc-provider/lib/helpers/pkce.js' {
  export default function checkPKCE(verifier: unknown, challenge: unknown, method: unknown): void;
}
