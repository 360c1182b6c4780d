import { hasUnsafeCharacters } from '../text.ts';

/**
 * What a client may be: the checks shared by the config file and `gatehouse clients add`, so a
 * client that breaks the profile is refused before the provider ever sees it.
 */

export type ClientGrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export type ApplicationType = 'web' | 'native';

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

/** Every problem with a client definition, empty when it fits the profile. */
export function clientProblems(client: ClientDefinition, confidential: boolean): string[] {
  const problems: string[] = [];
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
  if (grants.has('refresh_token') && !grants.has('authorization_code'))
    problems.push('refresh_token needs authorization_code');
  if (grants.has('authorization_code') && client.redirect_uris.length === 0)
    problems.push('authorization_code needs at least one redirect URI');
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
  return problems;
}
