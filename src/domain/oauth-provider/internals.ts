/**
 * The only place that reaches into oidc-provider's private state (DESIGN §2 principle 9, after
 * Logto's oidc-provider-internals.ts). Each function is one documented change to the engine that
 * its public configuration cannot express; a library upgrade is checked against this file.
 */
import type { ClientInstance, KoaContext, Provider } from 'oidc-provider';
import checkPKCE from 'oidc-provider/lib/helpers/pkce.js';
import validateDpop, { checkDpopReplay } from 'oidc-provider/lib/helpers/validate_dpop.js';
import instance, { type GrantHandler } from 'oidc-provider/lib/helpers/weak_cache.js';
import { verifyClientSecret } from './client-registry.ts';

/** Replaces a registered grant handler by a wrapper around it (lib/actions/token.js calls it). */
export function wrapGrantHandler(
  provider: Provider,
  grantType: string,
  wrap: (original: GrantHandler) => GrantHandler,
): void {
  const handlers = instance(provider).grantTypeHandlers;
  const original = handlers.get(grantType);
  if (!original) throw new Error(`grant type ${grantType} is not enabled`);
  handlers.set(grantType, wrap(original));
}

/**
 * The key of the request's DPoP proof (its RFC 7638 thumbprint), checked as the token endpoint
 * checks it (RFC 9449 §4.3: signature by the embedded key, htm, htu, iat); undefined without a
 * proof, an error for a bad one. `spend` also records the proof's jti as used (§11.1), for a
 * request the token endpoint will not see: the refresh grace window answers it (token-grants.ts).
 */
export async function dpopProofKey(
  provider: Provider,
  ctx: KoaContext,
  spend: boolean,
): Promise<string | undefined> {
  const proof = await validateDpop(provider, ctx);
  if (proof && spend && ctx.oidc.client)
    await checkDpopReplay(provider, ctx, proof, ctx.oidc.client.clientId);
  return proof?.thumbprint;
}

/**
 * Whether a token request presents the code's PKCE verifier, by the engine's own check
 * (lib/helpers/pkce.js): what only the code's first redeemer holds. `code` is the stored
 * AuthorizationCode payload.
 */
export function holdsCodeVerifier(
  code: { codeChallenge?: unknown; codeChallengeMethod?: unknown },
  params: Readonly<Record<string, unknown>> | undefined,
): boolean {
  if (!code.codeChallenge) return false;
  try {
    checkPKCE(params?.['code_verifier'], code.codeChallenge, code.codeChallengeMethod);
    return true;
  } catch {
    return false;
  }
}

/** Every grant type the provider serves at its token endpoint. */
export function grantTypes(provider: Provider): string[] {
  return [...instance(provider).grantTypeHandlers.keys()];
}

/**
 * The name of the provider route a request reaches ('token', 'authorization', …), decided by the
 * provider's own router: its case folding and trailing-slash rule included, so no spelling of a
 * path reaches a route without being seen as that route (rate limits, oauth-rate-limits.ts).
 */
export function routeName(provider: Provider, method: string, path: string): string | undefined {
  return instance(provider).router.match(method, path)?.route.name;
}

/**
 * Takes back-channel logout delivery off the request path. The provider awaits every logout
 * token's POST before it answers the logout confirmation (lib/actions/end_session.js), so one
 * slow app would hold the user's browser for up to the fetch timeout. The client method the
 * provider calls (Client.prototype.backchannelLogout) is replaced by one that hands the delivery
 * to `defer` and returns at once; the returned function is the original, for Gatehouse's own
 * deliveries (backchannel-logout.ts).
 */
export function deferBackchannelLogout(
  provider: Provider,
  defer: (client: ClientInstance, send: () => Promise<void>, sub: string, sid: string | undefined) => void,
): (client: ClientInstance, sub: string, sid: string | undefined) => Promise<void> {
  const prototype = provider.Client.prototype;
  const original = prototype.backchannelLogout;
  prototype.backchannelLogout = function deferred(sub, sid) {
    defer(this, () => original.call(this, sub, sid), sub, sid);
    return Promise.resolve();
  };
  return (client, sub, sid) => original.call(client, sub, sid);
}

/**
 * Keeps only the named response modes. The provider always registers query, fragment and
 * form_post. form_post answers with an auto-submitting page that posts the code to the client:
 * the profile leaves it out (ASVS 5.0 V10.4.12), so asking for it is unsupported_response_mode.
 * `fragment` stays: the provider delivers errors for implicit-style response types there
 * (RFC 6749 §4.2.2.1), and needs its handler to do so.
 */
export function restrictResponseModes(provider: Provider, allowed: readonly string[]): void {
  const modes = instance(provider).responseModes;
  for (const mode of [...modes.keys()]) if (!allowed.includes(mode)) modes.delete(mode);
}

/**
 * Client secrets are stored hashed (client-registry.ts): the provider's own comparison
 * (Client.prototype.compareClientSecret, awaited by lib/shared/client_auth.js) is replaced by
 * one that hashes the presented secret first.
 */
export function useHashedClientSecrets(provider: Provider): void {
  provider.Client.prototype.compareClientSecret = function compareHashed(presented: string): boolean {
    return verifyClientSecret(this.clientSecret, presented);
  };
}
