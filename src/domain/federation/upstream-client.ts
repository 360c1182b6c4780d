import * as oidc from 'openid-client';
import type { Clock } from '../../ports/clock.ts';
import { AppleClientSecret } from './apple-client-secret.ts';
import { type Fetch, FederationError, UPSTREAM_TIMEOUT_MS } from './http.ts';
import { ProviderKeys } from './id-token-keys.ts';
import { isLoopbackHttp, type UpstreamProvider } from './providers.ts';

/** What one authorization request was bound to; kept in the browser's flow cookie. */
export interface AuthorizationBinding {
  state: string;
  /** OIDC only: echoed in the ID token, binding it to this request (OIDC Core §3.1.2.1). */
  nonce: string | null;
  /** PKCE (RFC 7636), S256, for every provider. */
  codeVerifier: string;
}

export interface UpstreamTokens {
  accessToken: string;
  /** OIDC: the ID token's claims, after every check below. */
  claims: oidc.IDToken | null;
}

/** Discovery documents change rarely; re-read them daily so key and endpoint moves are picked up. */
const DISCOVERY_MAX_AGE_MS = 24 * 60 * 60_000;

/**
 * One upstream provider, through openid-client (certified relying party). It builds the
 * authorization request and checks the response: `state`, the `iss` response parameter when the
 * provider sends or promises one (RFC 9207: a response from provider A replayed into B's
 * callback is refused), the code exchange with the PKCE verifier, and the ID token's claims
 * (iss = the discovered issuer, aud = our client id, azp, exp, iat, sub, nonce). The ID token's
 * signature is verified on top, against the provider's JWKS (id-token-keys.ts).
 */
export class UpstreamClient {
  readonly provider: UpstreamProvider;
  readonly #fetch: Fetch;
  readonly #clock: Clock;
  readonly #appleSecret: AppleClientSecret | null;
  #configuration: { value: Promise<oidc.Configuration>; at: number } | null = null;
  /** The signing keys of the provider's current jwks_uri. */
  #keys: { uri: string; keys: ProviderKeys } | null = null;
  /**
   * Apple's client secret for the next token request, signed just before it. Concurrent
   * exchanges may send each other's: every one is a fresh, valid secret.
   */
  #currentAppleSecret = '';

  constructor(provider: UpstreamProvider, fetch: Fetch, clock: Clock) {
    this.provider = provider;
    this.#fetch = fetch;
    this.#clock = clock;
    this.#appleSecret = provider.apple
      ? new AppleClientSecret(provider.apple, provider.clientId, provider.issuer, clock)
      : null;
  }

  async authorizationUrl(binding: AuthorizationBinding): Promise<URL> {
    const config = await this.#config();
    const { provider } = this;
    const parameters: Record<string, string> = {
      redirect_uri: provider.callbackUrl,
      scope: provider.scopes.join(' '),
      state: binding.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(binding.codeVerifier),
      code_challenge_method: 'S256',
    };
    if (binding.nonce) parameters.nonce = binding.nonce;
    if (provider.responseMode === 'form_post') parameters.response_mode = 'form_post';
    return oidc.buildAuthorizationUrl(config, parameters);
  }

  /** Checks the authorization response and redeems the code; throws FederationError. */
  async exchange(response: URLSearchParams, binding: AuthorizationBinding): Promise<UpstreamTokens> {
    const config = await this.#config();
    // The redirect URI is ours, from configuration: never the Host header of this request.
    const current = new URL(this.provider.callbackUrl);
    for (const [name, value] of response) current.searchParams.append(name, value);
    if (this.#appleSecret) this.#currentAppleSecret = await this.#appleSecret.sign();
    const oidcProvider = this.provider.protocol === 'oidc';
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        expectedState: binding.state,
        pkceCodeVerifier: binding.codeVerifier,
        ...(binding.nonce ? { expectedNonce: binding.nonce } : {}),
        idTokenExpected: oidcProvider,
      });
    } catch (error) {
      throw asFederationError(error);
    }
    if (!oidcProvider) return { accessToken: tokens.access_token, claims: null };
    const idToken = tokens.id_token;
    const claims = tokens.claims();
    if (!idToken || !claims) throw new FederationError('failed', 'no ID token');
    const jwksUri = config.serverMetadata().jwks_uri;
    if (!jwksUri) throw new FederationError('failed', 'the provider publishes no jwks_uri');
    if (this.#keys?.uri !== jwksUri) {
      this.#checkUrl(jwksUri);
      this.#keys = { uri: jwksUri, keys: new ProviderKeys(jwksUri, this.#fetch, this.#clock) };
    }
    try {
      await this.#keys.keys.verify(idToken);
    } catch (error) {
      if (error instanceof FederationError) throw error;
      throw new FederationError('failed', `ID token signature: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return { accessToken: tokens.access_token, claims };
  }

  #config(): Promise<oidc.Configuration> {
    const now = this.#clock.now();
    if (this.#configuration && now - this.#configuration.at < DISCOVERY_MAX_AGE_MS)
      return this.#configuration.value;
    const value = this.#createConfig();
    this.#configuration = { value, at: now };
    // A failed discovery is retried by the next sign-in, not remembered.
    value.catch(() => {
      if (this.#configuration?.value === value) this.#configuration = null;
    });
    return value;
  }

  async #createConfig(): Promise<oidc.Configuration> {
    const { provider } = this;
    const auth = this.#clientAuthentication();
    const execute = provider.allowHttp ? [oidc.allowInsecureRequests] : [];
    let config: oidc.Configuration;
    if (provider.protocol === 'github') {
      // Plain OAuth 2.0 with fixed endpoints: nothing to discover, no ID token.
      config = new oidc.Configuration(
        {
          issuer: provider.issuer,
          authorization_endpoint: `${provider.issuer}/login/oauth/authorize`,
          token_endpoint: `${provider.issuer}/login/oauth/access_token`,
          token_endpoint_auth_methods_supported: ['client_secret_post'],
        },
        provider.clientId,
        {},
        auth,
      );
      for (const apply of execute) apply(config);
    } else {
      try {
        config = await oidc.discovery(new URL(provider.issuer), provider.clientId, {}, auth, {
          execute,
          timeout: UPSTREAM_TIMEOUT_MS / 1000,
          [oidc.customFetch]: this.#fetch,
        });
      } catch (error) {
        throw new FederationError('unavailable', `discovery: ${describe(error)}`, { cause: error });
      }
    }
    config.timeout = UPSTREAM_TIMEOUT_MS / 1000;
    config[oidc.customFetch] = this.#fetch;
    return config;
  }

  /**
   * client_secret_basic when the provider supports it (the RFC 8414 default), else
   * client_secret_post; Apple's secret is the JWT signed for this request.
   */
  #clientAuthentication(): oidc.ClientAuth {
    const { clientSecret } = this.provider;
    if (!clientSecret && !this.#appleSecret) return oidc.None();
    return (as, client, body, headers) => {
      const secret = this.#appleSecret ? this.#currentAppleSecret : (clientSecret ?? '');
      const methods = as.token_endpoint_auth_methods_supported;
      const method =
        !methods || methods.includes('client_secret_basic')
          ? oidc.ClientSecretBasic(secret)
          : oidc.ClientSecretPost(secret);
      method(as, client, body, headers);
    };
  }

  #checkUrl(url: string): void {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && !(this.provider.allowHttp && isLoopbackHttp(parsed)))
      throw new FederationError('failed', 'jwks_uri is not https');
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** openid-client's errors, sorted into what the person is told. */
function asFederationError(error: unknown): FederationError {
  if (error instanceof FederationError) return error;
  if (error instanceof oidc.AuthorizationResponseError) {
    return new FederationError(
      error.error === 'access_denied' ? 'cancelled' : 'failed',
      `provider answered error=${error.error.slice(0, 64)}`,
      { cause: error },
    );
  }
  if (error instanceof oidc.ResponseBodyError) {
    return new FederationError('failed', `token endpoint answered error=${error.error.slice(0, 64)}`, {
      cause: error,
    });
  }
  const code = (error as { code?: unknown }).code;
  const unreachable =
    code === 'OAUTH_TIMEOUT' ||
    code === 'OAUTH_ABORT' ||
    code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' ||
    code === 'OAUTH_RESPONSE_IS_NOT_JSON' ||
    (error instanceof TypeError && error.message === 'fetch failed');
  return new FederationError(unreachable ? 'unavailable' : 'failed', describe(error), { cause: error });
}
