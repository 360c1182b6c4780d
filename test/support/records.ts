/** Builders for store records in tests: random ids, fixed times, overridable fields. */
import { randomBytes } from 'node:crypto';
import type { EmailChallengeRecord } from '../../src/ports/email-challenge-store.ts';
import type { PasskeyRecord } from '../../src/ports/passkey-store.ts';
import type { SessionRecord } from '../../src/ports/session-store.ts';
import type { UserRecord } from '../../src/ports/user-store.ts';

/** A fixed "now" (2025-06-15T15:06:40Z) so expiry arithmetic in tests is readable. */
export const T0 = 1_750_000_000_000;
export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

export function randomId(prefix = ''): string {
  return prefix + randomBytes(16).toString('base64url');
}

export function userRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: randomId('usr_'),
    email: `${randomId().toLowerCase()}@example.test`,
    emailVerifiedAt: null,
    displayName: null,
    createdAt: T0,
    updatedAt: T0,
    disabledAt: null,
    ...overrides,
  };
}

export function sessionRecord(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomId('ses_'),
    tokenHash: randomId(),
    userId,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 30 * DAY,
    absoluteExpiresAt: T0 + 90 * DAY,
    authTime: T0,
    amr: ['hwk', 'user'],
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (test)',
    mfaPending: false,
    ...overrides,
  };
}

export function passkeyRecord(userId: string, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: randomId('pk_'),
    userId,
    credentialId: randomId(),
    publicKey: randomBytes(77).toString('base64url'),
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'multiDevice',
    backedUp: true,
    aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd',
    name: 'iCloud Keychain',
    createdAt: T0,
    lastUsedAt: null,
    ...overrides,
  };
}

export function emailChallengeRecord(overrides: Partial<EmailChallengeRecord> = {}): EmailChallengeRecord {
  return {
    id: randomId('ec_'),
    email: 'ada@example.test',
    linkHash: randomId(),
    flowHash: randomId(),
    codeHash: randomId(),
    attempts: 0,
    redirectTo: null,
    expiresAt: T0 + 15 * MINUTE,
    usedAt: null,
    createdAt: T0,
    ...overrides,
  };
}

/** Runs `count` calls at once and returns the results in call order. */
export function concurrently<T>(count: number, call: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => call(index)));
}
