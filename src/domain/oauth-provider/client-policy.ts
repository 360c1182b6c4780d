import { hasUnsafeCharacters } from '../text.ts';

/**
 * What a client may be: the checks shared by the config file and `gatehouse clients add`, so a
 * client that breaks the profile is refused before the provider ever sees it.
 */

/** RFC 8628 §3.4: the device authorization grant, for input-constrained devices (TVs, CLIs). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export type ClientGrantType =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  | typeof DEVICE_CODE_GRANT;
export type ApplicationType = 'web' | 'native';
/**
 * How a confidential client authenticates (RFC 7591 §2). Absent: client_secret_basic with a
 * secret, none without. private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9) proves
 * possession of a private key whose public half the client registered: nothing replayable or
 * shared is stored here (ASVS 5.0 V10.4.16).
 */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];
/** A public JWK as a client registers it (RFC 7517); only its public members are accepted. */
export type ClientJwk = Record<string, unknown>;

/**
 * Access tokens for an API: `jwt` (RFC 9068) the API checks alone against the JWKS, which
 * cannot be recalled before it expires; `opaque`, a random reference the API introspects
 * (RFC 7662), so revoking it (or the grant, or disabling the user) stops it at once.
 */
export type AccessTokenFormat = 'jwt' | 'opaque';
export const ACCESS_TOKEN_FORMATS: readonly AccessTokenFormat[] = ['jwt', 'opaque'];

/** A client as Gatehouse defines it (DESIGN §5), in the provider's snake_case vocabulary. */
export interface ClientDefinition {
  client_id: string;
  client_name?: string | undefined;
  application_type: ApplicationType;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: ClientGrantType[];
  scope: string;
  resources: string[];
  trusted: boolean;
  require_par: boolean;
  require_dpop: boolean;
  /** Format of access tokens for its resources; `jwt` when absent (clients stored before it existed). */
  access_token_format?: AccessTokenFormat | undefined;
  /** OpenID Connect Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed. */
  backchannel_logout_uri?: string | undefined;
  /** The logout token carries `sid` (and ID tokens do too) so the app can end one session. */
  backchannel_logout_session_required?: boolean | undefined;
  token_endpoint_auth_method?: ClientAuthMethod | undefined;
  /** The client's public keys, for private_key_jwt (one of jwks or jwks_uri). */
  jwks?: { keys: ClientJwk[] } | undefined;
  jwks_uri?: string | undefined;
}

/** Whether a client authenticates at the token endpoint (a secret or a key), as opposed to a public one. */
export function isConfidential(
  client: Pick<ClientDefinition, 'token_endpoint_auth_method'>,
  hasSecret: boolean,
): boolean {
  return hasSecret || client.token_endpoint_auth_method === 'private_key_jwt';
}

/** Policy knobs that depend on the deployment, not the client. */
export interface ClientPolicyOptions {
  /**
   * Server-to-server URIs (back-channel logout, jwks_uri) may use http on a loopback address:
   * development and tests only, where the app runs on the same machine. Never in production.
   */
  loopbackHttp?: boolean;
}

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;
/** RFC 6749 §3.3 scope-token, restricted to a printable subset. */
export const SCOPE_TOKEN = /^[A-Za-z0-9:._/-]{1,64}$/;

const IP_LOOPBACKS = new Set(['127.0.0.1', '[::1]']);

/**
 * Why a redirect URI is refused, or null when it is allowed. Matching is by exact string
 * (RFC 9700 §4.1.3), so what is registered must already be in its one canonical form.
 * - web clients: https only;
 * - native clients (RFC 8252): https (claimed URLs, not on loopback), http only on a loopback IP
 *   literal (§7.3; §8.3 advises against `localhost`), or a private-use scheme in reverse-domain
 *   form (§7.1), such as com.example.app:/callback.
 * Never a fragment (RFC 6749 §3.1.2), credentials, or characters browsers "fix up".
 */
export function redirectUriProblem(uri: string, applicationType: ApplicationType): string | null {
  if (uri.length > 2048 || hasUnsafeCharacters(uri) || uri.includes('\\') || /\s/.test(uri))
    return 'contains characters that are not allowed';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain credentials';
  const special = url.protocol === 'https:' || url.protocol === 'http:';
  if (special && url.href !== uri) return `is not in canonical form (use ${url.href})`;
  if (url.protocol === 'https:') {
    if (applicationType === 'native' && IP_LOOPBACKS.has(url.hostname))
      return 'must use http, not https, on a loopback address (RFC 8252 §7.3)';
    if (url.hostname === 'localhost' && applicationType === 'native')
      return 'must use a loopback IP literal, not localhost (RFC 8252 §8.3)';
    return null;
  }
  if (url.protocol === 'http:') {
    if (applicationType !== 'native') return 'must use https (http only for native apps on loopback)';
    if (!IP_LOOPBACKS.has(url.hostname)) return 'may use http only on 127.0.0.1 or [::1] (RFC 8252 §7.3)';
    return null;
  }
  if (applicationType !== 'native') return 'must use https';
  const scheme = url.protocol.slice(0, -1);
  if (!scheme.includes('.')) return 'private-use schemes must be in reverse-domain form (RFC 8252 §7.1)';
  if (['javascript', 'data', 'file', 'vbscript', 'blob'].includes(scheme)) return 'uses a forbidden scheme';
  return null;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Why a URI the provider itself calls (back-channel logout, a client's jwks_uri) is refused, or
 * null. https only: a logout token or a key set over plain http could be read or swapped on the
 * way (Back-Channel Logout 1.0 §2.2 and RFC 7591 §2 ask for TLS). `loopbackHttp` lets a
 * development setup on one machine use http://127.0.0.1 or http://localhost.
 */
export function serverUriProblem(uri: string, loopbackHttp: boolean): string | null {
  if (uri.length > 2048 || hasUnsafeCharacters(uri) || /\s/.test(uri))
    return 'contains characters that are not allowed';
  const url = URL.parse(uri);
  if (!url) return 'is not an absolute URI';
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
    return loopbackHttp ? null : 'must use https (http on loopback only in development)';
  return 'must use https';
}

/** Private or symmetric key material must never be registered: the provider would hold a secret. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

function jwksProblems(jwks: { keys: ClientJwk[] }): string[] {
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) return ['jwks must hold at least one key'];
  if (jwks.keys.length > 10) return ['jwks may hold at most 10 keys'];
  const problems: string[] = [];
  for (const [index, key] of jwks.keys.entries()) {
    if (typeof key !== 'object' || key === null) {
      problems.push(`jwks key ${index} is not an object`);
      continue;
    }
    // ES256 and RS256 are the client assertion algorithms on offer (provider-config.ts).
    if (key['kty'] !== 'EC' && key['kty'] !== 'RSA')
      problems.push(`jwks key ${index} must be an EC or RSA public key`);
    if (PRIVATE_JWK_MEMBERS.some((member) => member in key))
      problems.push(`jwks key ${index} contains private key material: register the public key only`);
  }
  return problems;
}

/** Every problem with a client definition, empty when it fits the profile. */
export function clientProblems(
  client: ClientDefinition,
  confidential: boolean,
  options: ClientPolicyOptions = {},
): string[] {
  const problems: string[] = [];
  const loopbackHttp = options.loopbackHttp === true;
  if (!CLIENT_ID_PATTERN.test(client.client_id))
    problems.push('client_id must be 1–128 characters of A–Z a–z 0–9 . _ ~ -');
  if (
    client.client_name !== undefined &&
    (client.client_name.length > 100 || hasUnsafeCharacters(client.client_name))
  )
    problems.push('client_name must be at most 100 printable characters');
  const grants = new Set(client.grant_types);
  if (grants.size === 0) problems.push('grant_types must not be empty');
  if (grants.has('client_credentials') && !confidential)
    problems.push('client_credentials needs a confidential client (with a secret)');
  if (grants.has('refresh_token') && !grants.has('authorization_code') && !grants.has(DEVICE_CODE_GRANT))
    problems.push('refresh_token needs authorization_code or the device code grant');
  if (grants.has('authorization_code') && client.redirect_uris.length === 0)
    problems.push('authorization_code needs at least one redirect URI');
  if (client.access_token_format === 'opaque' && client.resources.length === 0)
    problems.push('access_token_format applies to tokens for an API: give the client resources');
  for (const [label, uris] of [
    ['redirect URI', client.redirect_uris],
    ['post-logout redirect URI', client.post_logout_redirect_uris],
  ] as const) {
    for (const uri of uris) {
      const problem = redirectUriProblem(uri, client.application_type);
      if (problem) problems.push(`${label} ${uri} ${problem}`);
    }
  }
  for (const scope of client.scope.split(' ').filter(Boolean)) {
    if (!SCOPE_TOKEN.test(scope)) problems.push(`scope "${scope}" is not a valid scope token`);
  }
  if (client.trusted && !confidential && client.application_type === 'native')
    problems.push('trusted (consent skipped) is only for confidential clients or first-party web apps');
  if (client.backchannel_logout_uri !== undefined) {
    const problem = serverUriProblem(client.backchannel_logout_uri, loopbackHttp);
    if (problem) problems.push(`backchannel_logout_uri ${client.backchannel_logout_uri} ${problem}`);
  }
  if (client.backchannel_logout_session_required && client.backchannel_logout_uri === undefined)
    problems.push('backchannel_logout_session_required needs a backchannel_logout_uri');
  problems.push(...authMethodProblems(client, confidential, loopbackHttp));
  return problems;
}

/** token_endpoint_auth_method and the keys it needs. `confidential` here means: has a secret or a key. */
function authMethodProblems(
  client: ClientDefinition,
  confidential: boolean,
  loopbackHttp: boolean,
): string[] {
  const method = client.token_endpoint_auth_method;
  const problems: string[] = [];
  if (method !== undefined && !CLIENT_AUTH_METHODS.includes(method))
    problems.push(`token_endpoint_auth_method must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
  if (method !== undefined && !confidential)
    problems.push(`token_endpoint_auth_method ${method} is for confidential clients`);
  const hasKeys = client.jwks !== undefined || client.jwks_uri !== undefined;
  if (method === 'private_key_jwt') {
    if (client.jwks !== undefined && client.jwks_uri !== undefined)
      problems.push('jwks and jwks_uri must not be used together');
    else if (!hasKeys) problems.push('private_key_jwt needs the client’s public keys (jwks or jwks_uri)');
  } else if (hasKeys) {
    problems.push('jwks and jwks_uri are only for token_endpoint_auth_method private_key_jwt');
  }
  if (client.jwks !== undefined) problems.push(...jwksProblems(client.jwks));
  if (client.jwks_uri !== undefined) {
    const problem = serverUriProblem(client.jwks_uri, loopbackHttp);
    if (problem) problems.push(`jwks_uri ${client.jwks_uri} ${problem}`);
  }
  return problems;
}
