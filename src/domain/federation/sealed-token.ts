import type { Clock } from '../../ports/clock.ts';
import { seal, unseal } from '../crypto/secrets.ts';

/**
 * Short-lived state kept in the browser (the federation flow, a pending account link) as one
 * cookie value: AES-256-GCM through jose (`seal`), under a key derived for that one purpose.
 * Authenticated encryption gives what a signature would (the browser cannot forge or alter it)
 * and also hides the PKCE verifier, nonce and address inside from anyone who reads the cookie.
 * `kind` is inside the sealed payload too, so a token of one kind never opens as another.
 */
export class SealedTokens<T extends { id: string; expiresAt: number }> {
  readonly #key: Uint8Array;
  readonly #kind: string;
  readonly #clock: Clock;

  constructor(key: Uint8Array, kind: string, clock: Clock) {
    this.#key = key;
    this.#kind = kind;
    this.#clock = clock;
  }

  seal(payload: T): Promise<string> {
    return seal(this.#key, JSON.stringify({ kind: this.#kind, payload }));
  }

  /** The payload, or null when the token is malformed, forged, of another kind, or expired. */
  async open(token: string | undefined): Promise<T | null> {
    if (!token || token.length > 4096) return null;
    let parsed: { kind?: unknown; payload?: T };
    try {
      parsed = JSON.parse(await unseal(this.#key, token)) as typeof parsed;
    } catch {
      return null;
    }
    const payload = parsed.payload;
    if (parsed.kind !== this.#kind || !payload || typeof payload.expiresAt !== 'number') return null;
    return payload.expiresAt > this.#clock.now() ? payload : null;
  }
}
