import { importPKCS8, SignJWT } from 'jose';
import type { Clock } from '../../ports/clock.ts';

/** Apple accepts up to six months; a short life limits what a leaked request body is worth. */
const LIFETIME_SECONDS = 5 * 60;

/**
 * Sign in with Apple has no static client secret: each token request carries a JWT signed
 * (ES256) with the developer's "Sign in with Apple" key, naming the team (iss), the Services ID
 * (sub) and Apple (aud). Apple's developer documentation, "Creating a client secret".
 */
export class AppleClientSecret {
  readonly #apple: { teamId: string; keyId: string; privateKey: string };
  readonly #clientId: string;
  readonly #audience: string;
  readonly #clock: Clock;
  #key: Promise<CryptoKey> | null = null;

  constructor(
    apple: { teamId: string; keyId: string; privateKey: string },
    clientId: string,
    audience: string,
    clock: Clock,
  ) {
    this.#apple = apple;
    this.#clientId = clientId;
    this.#audience = audience;
    this.#clock = clock;
  }

  async sign(): Promise<string> {
    this.#key ??= importPKCS8(this.#apple.privateKey, 'ES256');
    const now = Math.floor(this.#clock.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.#apple.keyId })
      .setIssuer(this.#apple.teamId)
      .setSubject(this.#clientId)
      .setAudience(this.#audience)
      .setIssuedAt(now)
      .setExpirationTime(now + LIFETIME_SECONDS)
      .sign(await this.#key);
  }
}
