import type { Clock } from '../../ports/clock.ts';
import type { KnownDeviceStore } from '../../ports/known-device-store.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { sha256 } from '../crypto/secrets.ts';
import type { RequestContext } from '../request-context.ts';
import { deviceLabel } from '../sessions/device-label.ts';

/** Browsers keep a cookie at most 400 days (RFC 6265bis); a device unseen that long is gone. */
export const DEVICE_LIFETIME_MS = 400 * 24 * 60 * 60_000;

/**
 * Which browsers an account has used, keyed by a random device token the browser keeps in a
 * cookie (stored here only as its SHA-256). Not an authenticator: it only decides whether a
 * sign-in is worth telling the owner about, and exempts the owner's own browsers from an
 * account-wide stuffing delay. Stealing the cookie gains neither a session nor a way in.
 */
export class KnownDevices {
  readonly #store: KnownDeviceStore;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;

  constructor(store: KnownDeviceStore, clock: Clock, audit: AuditRecorder) {
    this.#store = store;
    this.#clock = clock;
    this.#audit = audit;
  }

  /**
   * After a sign-in from the browser holding `deviceToken`. A browser new to an account that
   * has signed in elsewhere before is recorded as `sign_in.new_device` (which mails the
   * owner); the very first browser of an account is not news.
   */
  async signedIn(
    userId: string,
    deviceToken: string,
    sessionId: string,
    context: RequestContext,
  ): Promise<void> {
    const deviceHash = sha256(deviceToken);
    const added = await this.#store.remember(userId, deviceHash, this.#clock.now());
    // An account's first device is not news to its owner; only a further one is.
    if (!added || !(await this.#store.hasOther(userId, deviceHash))) return;
    await this.#audit.record(context, {
      type: 'sign_in.new_device',
      outcome: 'success',
      userId,
      sessionId,
      details: { device: deviceLabel(context.userAgent) },
    });
  }

  isKnown(userId: string, deviceToken: string): Promise<boolean> {
    return this.#store.isKnown(userId, sha256(deviceToken));
  }

  /** Forgets devices whose cookie has expired anyway. */
  prune(): Promise<number> {
    return this.#store.deleteUnseenSince(this.#clock.now() - DEVICE_LIFETIME_MS);
  }
}
