import { compactVerify, createLocalJWKSet, errors, type JSONWebKeySet } from 'jose';
import type { Clock } from '../../ports/clock.ts';
import { type Fetch, FederationError, fetchJson } from './http.ts';

/**
 * Asymmetric algorithms only. `none` would accept any token; an HMAC (HS*) token is keyed with
 * the client secret, so it proves nothing about the issuer that our own copy of the secret could
 * not have produced (OIDC Core §10.1: the issuer's keys come from its jwks_uri).
 */
export const ID_TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** How long a fetched key set is used before it is fetched again. */
const MAX_AGE_MS = 10 * 60_000;
/**
 * A token signed with a key we have not seen (the provider rotated) triggers one refetch, but
 * not more often than this: a provider answering with random key ids must not make every
 * callback fetch its key set.
 */
const REFETCH_COOLDOWN_MS = 30_000;

/**
 * The provider's signing keys (its jwks_uri), cached, and the ID token signature check.
 *
 * openid-client validates the ID token's claims but, for a token from the token endpoint, leaves
 * the signature to TLS (OIDC Core §3.1.3.7 item 6). Gatehouse verifies it anyway: a TLS
 * intermediary or a compromised token endpoint response must not be able to mint identities.
 * The cache runs on the injected clock, so key rotation is testable without waiting.
 */
export class ProviderKeys {
  readonly #jwksUri: string;
  readonly #fetch: Fetch;
  readonly #clock: Clock;
  #keys: { jwks: JSONWebKeySet; fetchedAt: number } | null = null;
  #pending: Promise<JSONWebKeySet> | null = null;

  constructor(jwksUri: string, fetch: Fetch, clock: Clock) {
    this.#jwksUri = jwksUri;
    this.#fetch = fetch;
    this.#clock = clock;
  }

  /** Throws unless `jws` carries a valid signature by one of the provider's keys. */
  async verify(jws: string): Promise<void> {
    const now = this.#clock.now();
    let jwks =
      this.#keys && now - this.#keys.fetchedAt < MAX_AGE_MS ? this.#keys.jwks : await this.#refetch();
    try {
      await verifyWith(jws, jwks);
    } catch (error) {
      const canRefetch =
        this.#keys !== null && this.#clock.now() - this.#keys.fetchedAt >= REFETCH_COOLDOWN_MS;
      if (!(error instanceof errors.JWKSNoMatchingKey) || !canRefetch) throw error;
      jwks = await this.#refetch();
      await verifyWith(jws, jwks);
    }
  }

  /** One request at a time: concurrent callbacks share a refetch. */
  #refetch(): Promise<JSONWebKeySet> {
    this.#pending ??= fetchJson(this.#fetch, this.#jwksUri, {})
      .then((body) => {
        const keys = (body as { keys?: unknown }).keys;
        if (!Array.isArray(keys))
          throw new FederationError('unavailable', 'jwks_uri did not return a key set');
        const jwks = { keys } as JSONWebKeySet;
        this.#keys = { jwks, fetchedAt: this.#clock.now() };
        return jwks;
      })
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }
}

async function verifyWith(jws: string, jwks: JSONWebKeySet): Promise<void> {
  const keySet = createLocalJWKSet(jwks);
  const options = { algorithms: ID_TOKEN_ALGORITHMS };
  try {
    await compactVerify(jws, keySet, options);
  } catch (error) {
    // Several keys fit the header (no `kid`): the signature must verify with one of them.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        await compactVerify(jws, key, options);
        return;
      } catch {
        // Try the next candidate.
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}
