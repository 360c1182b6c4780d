/**
 * The only place that reaches into oidc-provider's private state (DESIGN §2 principle 9, after
 * Logto's oidc-provider-internals.ts). Each function is one documented change to the engine that
 * its public configuration cannot express; a library upgrade is checked against this file.
 */
import type { Provider } from 'oidc-provider';
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
