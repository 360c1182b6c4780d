import { z } from 'zod';
import { oauthSchema } from './oauth-schema.ts';
import { rateLimitsSchema } from './rate-limits-schema.ts';

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

export const passwordsSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Offer password sign-up and sign-in. Off by default: passkeys and email need no secret to remember or leak.',
      ),
    minLength: z
      .number()
      .int()
      .min(8)
      .max(64)
      .default(8)
      .describe(
        'Shortest password accepted, in characters. At least 8 (NIST SP 800-63B); 15 or more is recommended. No composition rules.',
      ),
    maxLength: z
      .number()
      .int()
      .min(64)
      .max(4096)
      .default(256)
      .describe('Longest password accepted, in characters (at least 64, so passphrases fit).'),
    argon2: z
      .object({
        memoryKiB: z
          .number()
          .int()
          .min(19_456)
          .max(4_194_304)
          .default(19_456)
          .describe(
            'argon2id memory cost in KiB. At least 19456 (19 MiB, the OWASP minimum); lower values are refused.',
          ),
        iterations: z
          .number()
          .int()
          .min(2)
          .max(100)
          .default(2)
          .describe(
            'argon2id time cost (passes over memory). At least 2 (the OWASP minimum for 19 MiB); lower values are refused.',
          ),
        parallelism: z
          .number()
          .int()
          .min(1)
          .max(16)
          .default(1)
          .describe('argon2id lanes. At least 1 (OWASP: 1).'),
      })
      .strict()
      .prefault({})
      .describe('Hashing cost. Raising it rehashes each password at its next successful sign-in.'),
    signUpTtlMs: duration('Lifetime of the link that confirms a password sign-up (milliseconds).', DAY),
    resetTtlMs: duration('Lifetime of a password reset link (milliseconds).', 30 * MINUTE),
  })
  .strict()
  .prefault({});

export const mfaSchema = z
  .object({
    required: z
      .boolean()
      .default(false)
      .describe(
        'Require a second factor from every user who signs in without a passkey that verified them; users without one must enrol an authenticator app first.',
      ),
    pendingLifetimeMs: duration(
      'How long a half-authenticated session (first factor done, second pending) may wait (milliseconds).',
      10 * MINUTE,
    ),
    maxFailures: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe('Wrong second factors or re-authentications a session may make before it is ended.'),
    stepUpMaxAgeMs: duration(
      'How recent a sign-in must be for sensitive changes (adding a passkey, changing the address…) without re-authenticating (milliseconds).',
      10 * MINUTE,
    ),
  })
  .strict()
  .prefault({});

export const emailChangeSchema = z
  .object({
    confirmTtlMs: duration('Lifetime of the link that confirms a new address (milliseconds).', DAY),
    revertTtlMs: duration('How long the old address can undo a change of address (milliseconds).', 7 * DAY),
  })
  .strict()
  .prefault({});

/** Presets for well-known providers; `oidc` is any standards-compliant OpenID Connect issuer. */
export const FEDERATION_PRESETS = ['oidc', 'google', 'apple', 'microsoft', 'gitlab', 'github'] as const;

export const federationProviderSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'lower-case letters, digits and dashes, 1 to 32')
      .describe(
        'Stable id used in paths: sign-in starts at `/auth/<id>`; register `<origin>/auth/<id>/callback` as the redirect URI at the provider.',
      ),
    preset: z
      .enum(FEDERATION_PRESETS)
      .default('oidc')
      .describe('Which provider this is. `oidc`: any OpenID Connect issuer, set `issuer`.'),
    issuer: z
      .url()
      .optional()
      .describe(
        'OpenID Connect issuer URL (discovered at `<issuer>/.well-known/openid-configuration`). Required for `oidc`. For `gitlab` a self-managed instance, for `github` a GitHub Enterprise Server origin; presets know their own.',
      ),
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,64}$/, 'a tenant id, domain, `common`, `organizations` or `consumers`')
      .optional()
      .describe(
        '`microsoft` only: `common` (default: work, school and personal accounts), `organizations`, `consumers`, or one tenant id or domain.',
      ),
    apiUrl: z
      .url()
      .optional()
      .describe(
        '`github` only: REST API base URL. Default `https://api.github.com`; GitHub Enterprise Server: `https://HOST/api/v3`.',
      ),
    clientId: z
      .string()
      .min(1)
      .max(512)
      .describe('Client id (Apple: the Services ID) issued by the provider.'),
    clientSecret: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        'Client secret issued by the provider. Required except for `apple` (which signs one from `privateKey`).',
      ),
    teamId: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'a 10-character Apple team id')
      .optional()
      .describe('`apple` only: your Apple Developer team id.'),
    keyId: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'a 10-character Apple key id')
      .optional()
      .describe('`apple` only: the id of the "Sign in with Apple" key.'),
    privateKey: z
      .string()
      .regex(/-----BEGIN PRIVATE KEY-----/, 'a PKCS#8 PEM private key (the .p8 file)')
      .optional()
      .describe(
        '`apple` only: the contents of the .p8 key file; Gatehouse signs the client secret with it (ES256).',
      ),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'a scope token (RFC 6749 §3.3)'))
      .min(1)
      .max(20)
      .optional()
      .describe(
        'Scopes to request. Presets default to what sign-in needs (`openid email profile`; GitHub `read:user user:email`).',
      ),
    responseMode: z
      .enum(['query', 'form_post'])
      .optional()
      .describe(
        'How the provider returns to Gatehouse. `apple` uses `form_post`; everything else defaults to `query`.',
      ),
    displayName: z
      .string()
      .min(1)
      .max(40)
      .optional()
      .describe(
        'Name on the "Continue with …" button. Presets default to the provider name; `oidc` to the id.',
      ),
    icon: z
      .string()
      .max(16_384)
      .regex(
        /^(data:image\/(png|svg\+xml|webp);base64,[A-Za-z0-9+/=]+|\/[A-Za-z0-9._~/-]*)$/,
        'a data:image URL or a path on this origin',
      )
      .optional()
      .describe(
        'Button icon: a `data:image/…;base64,` URL or a path on this origin (the page CSP allows no other images).',
      ),
  })
  .strict()
  .superRefine((provider, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const only = (field: 'tenant' | 'apiUrl' | 'teamId' | 'keyId' | 'privateKey', preset: string) => {
      if (provider[field] !== undefined && provider.preset !== preset)
        issue(field, `only for preset "${preset}"`);
    };
    only('tenant', 'microsoft');
    only('apiUrl', 'github');
    for (const field of ['teamId', 'keyId', 'privateKey'] as const) only(field, 'apple');
    if (provider.preset === 'oidc' && !provider.issuer) issue('issuer', 'required for preset "oidc"');
    if (provider.preset === 'apple') {
      for (const field of ['teamId', 'keyId', 'privateKey'] as const)
        if (!provider[field]) issue(field, 'required for preset "apple"');
      if (provider.clientSecret)
        issue('clientSecret', 'not used by "apple": the secret is signed from privateKey');
    } else if (provider.preset !== 'oidc' && !provider.clientSecret) {
      issue('clientSecret', `required for preset "${provider.preset}"`);
    }
  });

export const federationSchema = z
  .object({
    providers: z
      .array(federationProviderSchema)
      .max(20)
      .default([])
      .refine(
        (providers) => new Set(providers.map((p) => p.id)).size === providers.length,
        'provider ids must be unique',
      )
      .describe(
        'Upstream providers, each a "Continue with …" button on the sign-in pages. Empty (the default): federation is off.',
      ),
    flowTtlMs: duration(
      'How long a sign-in at a provider may take, from the button to the return to Gatehouse (milliseconds).',
      10 * MINUTE,
    ),
    linkTtlMs: duration(
      'How long a pending account link waits for the owner of the matching account to sign in (milliseconds).',
      15 * MINUTE,
    ),
  })
  .strict()
  .prefault({});

export const auditSchema = z
  .object({
    retentionMs: duration(
      'How long audit events are kept (milliseconds); older ones are pruned by a background job, and the hash chain stays verifiable through an anchor.',
      90 * DAY,
    ),
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
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional()
      .describe(
        'Redis for rate-limit counters shared by every node (required with more than one node), and for the OAuth provider’s short-lived records (codes, interactions, opaque access tokens; docs/oauth.md#storage). Unset: counters live in process memory and those records in the database. If Redis fails, each node falls back to its own counters and to the database until it answers again.',
      )
      .meta({ env: 'GATEHOUSE_REDIS_URL' }),
    metricsToken: z
      .string()
      .min(32, 'must be at least 32 characters')
      .optional()
      .describe(
        'Bearer token Prometheus must send to read `GET /metrics` (≥32 random characters). Unset: metrics are off, `/metrics` is 404 and nothing is counted.',
      )
      .meta({ env: 'GATEHOUSE_METRICS_TOKEN' }),
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
    adminEmails: z
      .array(z.email())
      .default([])
      .describe(
        'Addresses whose accounts are administrators (they may read the audit log at `GET /api/v1/audit`), once the address is verified.',
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
    federation: federationSchema.describe(
      'Sign in with Google, Apple, Microsoft, GitHub, GitLab or any OpenID Connect provider.',
    ),
    passwords: passwordsSchema.describe('Passwords (argon2id), off by default.'),
    mfa: mfaSchema.describe('Second factors (TOTP, recovery codes) and step-up re-authentication.'),
    emailChange: emailChangeSchema.describe('Changing the address of an account.'),
    oauth: oauthSchema.describe('OAuth 2.1 / OpenID Connect provider (docs/oauth.md), off by default.'),
    rateLimits: rateLimitsSchema.describe('Rate limits and brute-force delays (docs/abuse-protection.md).'),
    audit: auditSchema.describe('Audit log retention.'),
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
