import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../../ports/clock.ts';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyStore } from '../../ports/oauth-store.ts';
import { randomId, seal, unseal } from '../crypto/secrets.ts';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256'];

/** What the provider is built with: the JWKS (private parts) in signing order, and its fingerprint. */
export interface KeySet {
  /** Per algorithm the signing key comes first: the provider signs with the first key of an alg. */
  keys: JWK[];
  /** Changes whenever the set or the signing order changes: the provider is rebuilt then. */
  fingerprint: string;
}

export interface SigningKeyOptions {
  /** How long a new key is published before it signs. */
  publishLeadMs: number;
  /** How long anything a key signed can stay valid: a retired key is published that much longer. */
  tokenLifetimeMs: number;
}

/**
 * Signing keys for ID tokens and JWT access tokens (DESIGN §3: private keys encrypted at rest).
 * A key's life: published from creation; signs from `signsFrom` (after `publishLeadMs`, so
 * relying parties that cache the JWKS know it before they see a token it signed); stops signing
 * at `retiresAt` (when its successor starts); published until `retiresAt + tokenLifetimeMs`,
 * when every token it signed has expired; then deleted.
 */
export class SigningKeys {
  readonly #store: SigningKeyStore;
  readonly #sealingKey: Uint8Array;
  readonly #clock: Clock;
  readonly #options: SigningKeyOptions;
  readonly #unsealed = new Map<string, JWK>();

  constructor(store: SigningKeyStore, sealingKey: Uint8Array, clock: Clock, options: SigningKeyOptions) {
    this.#store = store;
    this.#sealingKey = sealingKey;
    this.#clock = clock;
    this.#options = options;
  }

  /** First start: one key per algorithm that has none able to sign, signing at once. */
  async ensure(): Promise<void> {
    const now = this.#clock.now();
    const keys = await this.#store.list();
    for (const alg of SIGNING_ALGORITHMS) {
      const usable = keys.some((key) => key.alg === alg && (key.retiresAt === null || key.retiresAt > now));
      if (!usable) await this.#create(alg, now, now);
    }
  }

  /**
   * Introduces a successor for every algorithm: published now, signing after the lead time, when
   * the keys it replaces stop signing.
   */
  async rotate(): Promise<Array<{ kid: string; alg: SigningAlgorithm; signsFrom: number }>> {
    const now = this.#clock.now();
    const signsFrom = now + this.#options.publishLeadMs;
    const keys = await this.#store.list();
    const created: Array<{ kid: string; alg: SigningAlgorithm; signsFrom: number }> = [];
    for (const alg of SIGNING_ALGORITHMS) {
      for (const key of keys) {
        if (key.alg === alg && (key.retiresAt === null || key.retiresAt > signsFrom))
          await this.#store.setRetiresAt(key.kid, signsFrom);
      }
      created.push({ kid: await this.#create(alg, now, signsFrom), alg, signsFrom });
    }
    return created;
  }

  /** The keys to publish now, signing keys first; prunes keys whose tokens have all expired. */
  async current(): Promise<KeySet> {
    const now = this.#clock.now();
    await this.#store.deleteRetiredBefore(now - this.#options.tokenLifetimeMs);
    const records = await this.#store.list();
    const published = records.filter(
      (key) => key.retiresAt === null || key.retiresAt + this.#options.tokenLifetimeMs > now,
    );
    const signers = new Set<string>();
    for (const alg of SIGNING_ALGORITHMS) {
      // The newest key of the algorithm that is already allowed to sign and not yet retired.
      const signer = published
        .filter(
          (key) => key.alg === alg && key.signsFrom <= now && (key.retiresAt === null || key.retiresAt > now),
        )
        .sort((a, b) => b.signsFrom - a.signsFrom)[0];
      if (signer) signers.add(signer.kid);
    }
    const ordered = [
      ...published.filter((key) => signers.has(key.kid)),
      ...published.filter((key) => !signers.has(key.kid)),
    ];
    const keys = await Promise.all(ordered.map((key) => this.#jwk(key)));
    return {
      keys,
      fingerprint: ordered.map((key) => `${key.kid}${signers.has(key.kid) ? '*' : ''}`).join(','),
    };
  }

  async #create(alg: SigningAlgorithm, now: number, signsFrom: number): Promise<string> {
    const { privateKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
    });
    const kid = randomId();
    const jwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
    const record: SigningKeyRecord = {
      kid,
      alg,
      sealedJwk: await seal(this.#sealingKey, JSON.stringify(jwk)),
      createdAt: now,
      signsFrom,
      retiresAt: null,
    };
    await this.#store.insert(record);
    return kid;
  }

  async #jwk(record: SigningKeyRecord): Promise<JWK> {
    let jwk = this.#unsealed.get(record.kid);
    if (!jwk) {
      jwk = JSON.parse(await unseal(this.#sealingKey, record.sealedJwk)) as JWK;
      this.#unsealed.set(record.kid, jwk);
    }
    return jwk;
  }
}
