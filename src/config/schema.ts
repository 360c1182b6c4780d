import { z } from 'zod';

/**
 * The one configuration schema. Every setting has a safe default and a description;
 * `docs/configuration.md` is generated from this file (`npm run docs:config`) and a test
 * fails when the two disagree.
 *
 * `env` names the GATEHOUSE_* variable that sets a top-level value. Nested values are set in
 * the config file (GATEHOUSE_CONFIG, JSON).
 */

const duration = (description: string, defaultMs: number) =>
  z.number().int().positive().default(defaultMs).describe(description);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const sessionSchema = z
  .object({
    rollingLifetimeMs: duration(
      'Rolling session lifetime in milliseconds: a session used within this window stays alive (renewed at most once a day).',
      30 * DAY,
    ),
    idleTimeoutMs: duration(
      'A session not used for this long (milliseconds) expires even if its rolling lifetime has not run out.',
      14 * DAY,
    ),
    absoluteLifetimeMs: duration(
      'Hard cap on a session, counted from sign-in (milliseconds). No activity extends it.',
      90 * DAY,
    ),
    renewAfterMs: duration(
      'How old the rolling expiry must be before a request renews it (milliseconds). Keeps the hot path write-free.',
      DAY,
    ),
    touchAfterMs: duration(
      'Minimum interval between writes of last-activity time (milliseconds).',
      5 * MINUTE,
    ),
  })
  .strict()
  .prefault({});

export const emailAuthSchema = z
  .object({
    ttlMs: duration('Lifetime of a sign-in link and code (milliseconds).', 15 * MINUTE),
    maxCodeAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(5)
      .describe('Wrong codes allowed for one request before the code dies.'),
  })
  .strict()
  .prefault({});

export const passkeySchema = z
  .object({
    userVerification: z
      .enum(['required', 'preferred'])
      .default('required')
      .describe(
        'WebAuthn user verification. "required" makes a passkey a two-factor credential by itself; "preferred" lets authenticators without a PIN or biometric sign in (weaker).',
      ),
    challengeTtlMs: duration('Lifetime of a WebAuthn challenge (milliseconds).', 5 * MINUTE),
    rpName: z.string().min(1).default('Gatehouse').describe('Name shown in the platform passkey prompt.'),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    env: z
      .enum(['development', 'production', 'test'])
      .default('development')
      .describe(
        '`production` refuses unsafe settings: an http origin, a generated secret, the development mailbox.',
      )
      .meta({ env: 'GATEHOUSE_ENV' }),
    port: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(3000)
      .describe('TCP port to listen on.')
      .meta({ env: 'GATEHOUSE_PORT' }),
    host: z
      .string()
      .default('127.0.0.1')
      .describe('Address to listen on. Use 0.0.0.0 behind a proxy or in a container.')
      .meta({ env: 'GATEHOUSE_HOST' }),
    origin: z
      .url()
      .default('http://localhost:3000')
      .describe('Public origin users reach. The WebAuthn origin and RP ID (its host) derive from it.')
      .meta({ env: 'GATEHOUSE_ORIGIN' }),
    dataDir: z
      .string()
      .default('./data')
      .describe('Folder for the SQLite database, the generated development secret and nothing else.')
      .meta({ env: 'GATEHOUSE_DATA_DIR' }),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional()
      .describe('`postgres://…` switches storage from the embedded SQLite file to PostgreSQL.')
      .meta({ env: 'GATEHOUSE_DATABASE_URL' }),
    secret: z
      .string()
      .min(32, 'must be at least 32 characters')
      .optional()
      .describe(
        'Instance secret (≥32 random characters). Generated and kept under dataDir in development; required in production.',
      )
      .meta({ env: 'GATEHOUSE_SECRET' }),
    smtpUrl: z
      .string()
      .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
      .optional()
      .describe(
        'SMTP transport, e.g. `smtps://user:pass@mail.example.com:465`. Unset means the development mailbox.',
      )
      .meta({ env: 'GATEHOUSE_SMTP_URL' }),
    mailFrom: z
      .string()
      .default('Gatehouse <no-reply@localhost>')
      .describe('From address of every mail Gatehouse sends.')
      .meta({ env: 'GATEHOUSE_MAIL_FROM' }),
    trustedProxies: z
      .string()
      .optional()
      .describe('Comma-separated CIDRs whose `X-Forwarded-For` is believed. Anyone else’s is ignored.')
      .meta({ env: 'GATEHOUSE_TRUSTED_PROXIES' }),
    trustedOrigins: z
      .array(z.url())
      .default([])
      .describe(
        'Extra origins allowed to make cookie-authenticated state-changing requests (besides `origin`).',
      ),
    allowedRedirects: z
      .array(z.url())
      .default([])
      .describe(
        'Absolute URLs (exact match, or a prefix ending in `/`) that `redirectTo` may name. Relative paths on our origin are always allowed.',
      ),
    signUp: z
      .enum(['open', 'closed'])
      .default('open')
      .describe(
        '`closed`: continue-with-email signs in existing users only; unknown addresses get a "no account" mail.',
      )
      .meta({ env: 'GATEHOUSE_SIGN_UP' }),
    appName: z.string().default('Gatehouse').describe('Product name shown on pages and in mail.'),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info')
      .describe('Log level of the JSON log on stdout.')
      .meta({ env: 'GATEHOUSE_LOG_LEVEL' }),
    migrateOnStart: z
      .boolean()
      .optional()
      .describe(
        'Apply pending migrations when `serve` starts. Defaults to on in development, off in production (run `gatehouse migrate`).',
      ),
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024)
      .describe('Largest request body accepted; larger bodies get 413.'),
    session: sessionSchema.describe('Session lifetimes.'),
    emailAuth: emailAuthSchema.describe('Continue with email: links and one-time codes.'),
    passkeys: passkeySchema.describe('Passkeys (WebAuthn).'),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

/** The config the rest of the code sees: secret resolved, derived values filled in. */
export interface Config extends Omit<ParsedConfig, 'secret'> {
  secret: string;
  secretSource: 'configured' | 'generated';
  rpId: string;
  secureOrigin: boolean;
}
