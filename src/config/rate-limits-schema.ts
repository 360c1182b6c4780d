import { z } from 'zod';

/**
 * The `rateLimits` section of the configuration (docs/abuse-protection.md explains each limit).
 * Defaults are meant for production: generous enough for many people behind one address
 * (offices, carrier NAT), tight enough that guessing and mail-bombing stop early.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const count = (description: string, value: number) =>
  z.number().int().positive().default(value).describe(description);
const millis = (description: string, value: number) =>
  z.number().int().positive().default(value).describe(description);

/** `limit` requests per `windowMs`, per key; `what` names the key in the generated docs. */
function windowLimit(what: string, limit: number, windowMs: number) {
  return z
    .object({
      limit: count(`${what}: requests allowed per window.`, limit),
      windowMs: millis(`${what}: window length (milliseconds).`, windowMs),
    })
    .strict()
    .prefault({});
}

const perIp = (endpoint: string, limit: number, windowMs: number) =>
  windowLimit(`${endpoint}, per client IP (IPv6: per /64)`, limit, windowMs);
const overall = (endpoint: string, limit: number, windowMs: number) =>
  windowLimit(`${endpoint}, all clients together (per node without Redis)`, limit, windowMs);

export const rateLimitsSchema = z
  .object({
    emailSignIn: z
      .object({
        perIp: perIp('Continue with email', 100, HOUR),
        global: overall('Continue with email', 1000, MINUTE),
      })
      .strict()
      .prefault({}),
    mailPerAddress: windowLimit(
      'Sign-in mails per address (over budget: the same 202, no mail)',
      5,
      15 * MINUTE,
    ),
    emailVerify: z
      .object({
        perIp: perIp('Email link/code verification', 60, 15 * MINUTE),
        perIdentifier: windowLimit('Email code verification, per address', 20, 15 * MINUTE),
        global: overall('Email link/code verification', 2000, MINUTE),
      })
      .strict()
      .prefault({}),
    passkeySignInOptions: z
      .object({
        perIp: perIp('Passkey sign-in options', 300, 15 * MINUTE),
        global: overall('Passkey sign-in options', 5000, MINUTE),
      })
      .strict()
      .prefault({}),
    passkeySignInVerify: z
      .object({
        perIp: perIp('Passkey sign-in verification', 60, 15 * MINUTE),
        global: overall('Passkey sign-in verification', 2000, MINUTE),
      })
      .strict()
      .prefault({}),
    passkeyRegister: z
      .object({
        perIp: perIp('Passkey registration (options and verify each)', 60, 15 * MINUTE),
        perIdentifier: windowLimit('Passkey registration, per signed-in user', 20, 15 * MINUTE),
        global: overall('Passkey registration', 1000, MINUTE),
      })
      .strict()
      .prefault({}),
    passwordSignIn: z
      .object({
        perIp: perIp('Password sign-in', 60, 15 * MINUTE),
        perIdentifier: windowLimit('Password sign-in, per address', 20, 15 * MINUTE),
        global: overall('Password sign-in', 2000, MINUTE),
      })
      .strict()
      .prefault({}),
    accountMail: z
      .object({
        perIp: perIp('Password sign-up, "forgot password" and change of address (each)', 30, HOUR),
        perIdentifier: windowLimit(
          'Password sign-up, "forgot password" and change of address, per address mailed',
          5,
          15 * MINUTE,
        ),
        global: overall('Password sign-up, "forgot password" and change of address', 1000, MINUTE),
      })
      .strict()
      .prefault({}),
    accountLinks: z
      .object({
        perIp: perIp('Redeeming a mailed account link (sign-up, reset, change of address)', 30, 15 * MINUTE),
        global: overall('Redeeming a mailed account link (sign-up, reset, change of address)', 1000, MINUTE),
      })
      .strict()
      .prefault({}),
    secondFactor: z
      .object({
        perIp: perIp('Second factor (authenticator or recovery code)', 60, 15 * MINUTE),
        perIdentifier: windowLimit('Second factor, per account', 20, 15 * MINUTE),
        global: overall('Second factor', 2000, MINUTE),
      })
      .strict()
      .prefault({}),
    reauth: z
      .object({
        perIp: perIp('Re-authentication and password change', 60, 15 * MINUTE),
        perIdentifier: windowLimit(
          'Re-authentication and password change, per signed-in user',
          20,
          15 * MINUTE,
        ),
        global: overall('Re-authentication and password change', 1000, MINUTE),
      })
      .strict()
      .prefault({}),
    federation: z
      .object({
        perIp: perIp('Federated sign-in (/auth/…)', 100, 15 * MINUTE),
        global: overall('Federated sign-in (/auth/…)', 3000, MINUTE),
      })
      .strict()
      .prefault({}),
    // OAuth provider endpoints (/oauth/…, docs/abuse-protection.md "OAuth provider endpoints").
    // Refused with 429, an OAuth-style JSON error `too_many_requests` and Retry-After.
    oauthToken: z
      .object({
        perIp: perIp('OAuth token endpoint (/oauth/token)', 600, MINUTE),
        perClient: windowLimit(
          'OAuth token endpoint, per confidential client, counted once it has authenticated',
          1200,
          MINUTE,
        ),
        global: overall('OAuth token endpoint', 20_000, MINUTE),
      })
      .strict()
      .prefault({}),
    oauthAuthorization: z
      .object({
        perIp: perIp(
          'OAuth authorization requests (/oauth/authorize and /oauth/par, each)',
          600,
          15 * MINUTE,
        ),
        global: overall('OAuth authorization requests (/oauth/authorize and /oauth/par, each)', 6000, MINUTE),
      })
      .strict()
      .prefault({}),
    oauthIntrospection: z
      .object({
        perIp: perIp(
          'OAuth introspection and revocation (/oauth/introspect, /oauth/revoke, each)',
          3000,
          MINUTE,
        ),
        global: overall('OAuth introspection and revocation (each)', 30_000, MINUTE),
      })
      .strict()
      .prefault({}),
    oauthDeviceAuthorization: z
      .object({
        perIp: perIp('OAuth device authorization requests (/oauth/device/auth)', 60, 15 * MINUTE),
        global: overall('OAuth device authorization requests (/oauth/device/auth)', 1000, MINUTE),
      })
      .strict()
      .prefault({}),
    failures: z
      .object({
        freeAttempts: count(
          'Consecutive failed attempts per (account, client IP) before each further attempt has to wait.',
          10,
        ),
        baseDelayMs: millis(
          'Wait after the first failure beyond `freeAttempts`; doubles with each further failure (milliseconds).',
          1000,
        ),
        maxDelayMs: millis(
          'Longest wait between attempts for one (account, client IP) (milliseconds).',
          15 * MINUTE,
        ),
        windowMs: millis(
          'A run of failures is forgotten this long after it started, or at the next success (milliseconds).',
          24 * HOUR,
        ),
      })
      .strict()
      .prefault({}),
    stuffing: z
      .object({
        threshold: count(
          'Failed attempts against one account, from any number of IPs, that start the account-wide delay (credential stuffing) and mail its owner.',
          20,
        ),
        windowMs: millis('Window in which those failures are counted (milliseconds).', HOUR),
        delayMs: millis(
          'Account-wide delay: attempts from devices the account has not used are refused this long (milliseconds). Known devices and signed-in sessions are exempt.',
          15 * MINUTE,
        ),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type RateLimitsConfig = z.output<typeof rateLimitsSchema>;
export type WindowLimit = RateLimitsConfig['emailVerify']['perIp'];
