import { z } from 'zod';
import {
  ACCESS_TOKEN_FORMATS,
  type ClientDefinition,
  clientProblems,
  DEVICE_CODE_GRANT,
  isConfidential,
  SCOPE_TOKEN,
} from '../domain/oauth-provider/client-policy.ts';

/**
 * The `oauth` section of the configuration: the OAuth 2.1 / OpenID Connect provider. Off unless
 * `enabled`; the defaults are the strict profile (docs/oauth.md), and every setting that loosens
 * it is reported by oauthConfigWarnings.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const lifetime = (description: string, defaultMs: number, minMs: number, maxMs: number) =>
  z.number().int().min(minMs).max(maxMs).default(defaultMs).describe(description);

const scopeList = z
  .string()
  .refine(
    (value) => value.split(' ').every((scope) => SCOPE_TOKEN.test(scope)),
    'must be space-separated scope tokens',
  );

export const oauthClientSchema = z
  .object({
    client_id: z.string().min(1).max(128).describe('The client’s id (A–Z a–z 0–9 . _ ~ -).'),
    client_secret: z
      .string()
      .min(32, 'must be at least 32 characters (generate one with `gatehouse clients add`)')
      .max(512)
      .optional()
      .describe('Makes the client confidential. Kept in memory only as its SHA-256.'),
    client_name: z.string().max(100).optional().describe('Shown on the consent page and the account page.'),
    application_type: z
      .enum(['web', 'native'])
      .default('web')
      .describe('`native` (RFC 8252) allows http on 127.0.0.1/[::1] (any port) and private-use schemes.'),
    redirect_uris: z.array(z.string()).default([]).describe('Exact redirect URIs; web clients https only.'),
    post_logout_redirect_uris: z
      .array(z.string())
      .default([])
      .describe('Where RP-initiated logout may return.'),
    grant_types: z
      .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT]))
      .default(['authorization_code', 'refresh_token'])
      .describe(
        `Grants this client may use. \`${DEVICE_CODE_GRANT}\` enables the device authorization grant (RFC 8628) for this client.`,
      ),
    scope: scopeList.default('openid').describe('Scopes this client may request (space-separated).'),
    resources: z
      .array(z.url())
      .default([])
      .describe('Resource indicators (from oauth.resources) this client may get access tokens for.'),
    trusted: z
      .boolean()
      .default(false)
      .describe('First-party app: no consent page. Not for public native apps.'),
    require_par: z.boolean().default(false).describe('Authorization requests must be pushed (RFC 9126).'),
    require_dpop: z.boolean().default(false).describe('Tokens must be DPoP-bound (RFC 9449).'),
    access_token_format: z
      .enum(ACCESS_TOKEN_FORMATS)
      .default('jwt')
      .describe(
        'Access tokens for its resources: `jwt` (RFC 9068; the API verifies them against the JWKS; they cannot be recalled before they expire) or `opaque` (the API introspects each one, RFC 7662; revocation stops them at once).',
      ),
    backchannel_logout_uri: z
      .string()
      .optional()
      .describe(
        'OpenID Connect Back-Channel Logout: where logout tokens are POSTed when the user’s session ends (https; http on loopback outside production).',
      ),
    backchannel_logout_session_required: z
      .boolean()
      .optional()
      .describe('Logout tokens (and ID tokens) carry `sid`, so the app can end exactly that session.'),
    token_endpoint_auth_method: z
      .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
      .optional()
      .describe(
        'How a confidential client authenticates: client_secret_basic (default with a secret), client_secret_post, or private_key_jwt (no secret; give jwks or jwks_uri).',
      ),
    jwks: z
      .object({
        keys: z
          .array(z.record(z.string(), z.unknown()))
          .describe('Public JWKs, EC (P-256) or RSA; a key with private parts is refused.'),
      })
      .optional()
      .describe('The client’s public keys (JWK Set) for private_key_jwt.'),
    jwks_uri: z
      .string()
      .optional()
      .describe('Where the client publishes its public keys for private_key_jwt (https).'),
  })
  .strict()
  .superRefine((client, context) => {
    const { client_secret: secret, ...definition } = client;
    if (secret !== undefined && definition.token_endpoint_auth_method === 'private_key_jwt')
      context.addIssue({ code: 'custom', message: 'a private_key_jwt client has no client_secret' });
    // The environment is not known here: http on loopback is allowed by this check and refused
    // in production when the provider starts (ClientRegistry).
    const confidential = isConfidential(definition, secret !== undefined);
    for (const problem of clientProblems(definition as ClientDefinition, confidential, {
      loopbackHttp: true,
    })) {
      context.addIssue({ code: 'custom', message: problem });
    }
  });

/** `limit` requests per `windowMs` (the shape the rate limiter takes, src/domain/ratelimit). */
const attemptLimit = (what: string, limit: number, windowMs: number) =>
  z
    .object({
      limit: z
        .number()
        .int()
        .positive()
        .default(limit)
        .describe(
          `${what}: attempts allowed per window. More than ${limit}, or a higher rate, is reported as a warning.`,
        ),
      windowMs: z
        .number()
        .int()
        .positive()
        .default(windowMs)
        .describe(`${what}: window length (milliseconds).`),
    })
    .strict()
    .prefault({});

/**
 * The device authorization grant (RFC 8628). User codes are 8 characters of a 20-letter
 * alphabet (about 34.6 bits, §6.1); guessing is held back by the short lifetime, sign-in before
 * any attempt, and these attempt limits.
 */
export const oauthDeviceFlowSchema = z
  .object({
    userCodeTtlMs: lifetime(
      'How long a device code and its user code live (milliseconds): the user has this long to enter the code. Longer than 10 minutes is reported as a warning.',
      10 * MINUTE,
      MINUTE,
      30 * MINUTE,
    ),
    pollIntervalMs: z
      .number()
      .int()
      .min(SECOND)
      .max(MINUTE)
      .multipleOf(SECOND)
      .default(5 * SECOND)
      .describe(
        'Minimum time between two token requests for one device code (milliseconds, whole seconds; sent as `interval`). A device polling sooner gets `slow_down` and must wait 5 s longer from then on (RFC 8628 §3.5). Shorter than 5 s is reported as a warning.',
      ),
    userCodeAttempts: z
      .object({
        perIp: attemptLimit(
          'User codes entered at /oauth/device, per client IP (IPv6: per /64)',
          30,
          15 * MINUTE,
        ),
        perIdentifier: attemptLimit(
          'User codes entered at /oauth/device, per signed-in user',
          20,
          15 * MINUTE,
        ),
        global: attemptLimit(
          'User codes entered at /oauth/device, all users together (per node without Redis)',
          1000,
          MINUTE,
        ),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export const oauthResourceSchema = z
  .object({
    indicator: z.url().describe('The resource indicator (RFC 8707): the audience of its access tokens.'),
    scopes: z.array(z.string().regex(SCOPE_TOKEN)).default([]).describe('Scopes this resource server knows.'),
  })
  .strict();

export const oauthSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Turns on the OAuth 2.1 / OpenID Connect provider (discovery at /.well-known/openid-configuration).',
      ),
    clients: z
      .array(oauthClientSchema)
      .default([])
      .describe(
        'Clients: client_id, client_secret (confidential only), redirect_uris, grant_types, scope, resources, trusted, require_par, require_dpop, access_token_format, backchannel_logout_uri, token_endpoint_auth_method, jwks / jwks_uri (see docs/oauth.md). More can be added with `gatehouse clients add`.',
      ),
    resources: z
      .array(oauthResourceSchema)
      .default([])
      .describe(
        'Resource servers (APIs) that receive access tokens (JWT, or opaque for clients that ask): {indicator, scopes}.',
      ),
    authorizationCodeTtlMs: lifetime(
      'Lifetime of an authorization code (milliseconds). Longer than 60 s is reported as a warning.',
      MINUTE,
      10 * SECOND,
      10 * MINUTE,
    ),
    accessTokenTtlMs: lifetime(
      'Lifetime of an access token issued to a user (milliseconds). Longer than 15 minutes is reported as a warning.',
      15 * MINUTE,
      MINUTE,
      HOUR,
    ),
    clientCredentialsTtlMs: lifetime(
      'Lifetime of a client-credentials access token (milliseconds). Longer than 5 minutes is reported as a warning.',
      5 * MINUTE,
      MINUTE,
      HOUR,
    ),
    idTokenTtlMs: lifetime(
      'Lifetime of an ID token (milliseconds). Longer than 1 hour is reported as a warning.',
      HOUR,
      MINUTE,
      DAY,
    ),
    refreshTokenIdleMs: lifetime(
      'A refresh token not used for this long (milliseconds) expires; each rotation starts a new idle period, never past the absolute lifetime. Longer than 14 days is reported as a warning.',
      14 * DAY,
      SECOND,
      90 * DAY,
    ),
    refreshTokenAbsoluteMs: lifetime(
      'Hard cap on a chain of rotated refresh tokens, counted from the first one (milliseconds). Longer than 30 days is reported as a warning.',
      30 * DAY,
      SECOND,
      365 * DAY,
    ),
    refreshGraceMs: lifetime(
      'After a refresh token rotates, requests from the same client with the old token during this window get the same successor instead of revoking the grant (parallel refreshes). Longer than 10 s is reported as a warning.',
      5 * SECOND,
      0,
      MINUTE,
    ),
    idTokenSigningAlg: z
      .enum(['ES256', 'RS256'])
      .default('ES256')
      .describe('ID token signature algorithm. Keys for both are generated and published.'),
    keyPublishLeadMs: lifetime(
      'How long a new signing key is published in the JWKS before it signs (milliseconds), so relying parties that cache the JWKS know it first. Shorter than 1 hour is reported as a warning.',
      HOUR,
      0,
      7 * DAY,
    ),
    requirePar: z
      .boolean()
      .default(false)
      .describe(
        'Require pushed authorization requests (RFC 9126) from every client, not only those with require_par.',
      ),
    deviceFlow: oauthDeviceFlowSchema.describe(
      `Device authorization grant (RFC 8628) for clients with the grant \`${DEVICE_CODE_GRANT}\`; users enter the code at /oauth/device.`,
    ),
  })
  .strict()
  .superRefine((oauth, context) => {
    const ids = new Set<string>();
    for (const client of oauth.clients) {
      if (ids.has(client.client_id))
        context.addIssue({ code: 'custom', message: `client_id ${client.client_id} is listed twice` });
      ids.add(client.client_id);
      for (const resource of client.resources) {
        if (!oauth.resources.some((declared) => declared.indicator === resource))
          context.addIssue({
            code: 'custom',
            message: `client ${client.client_id} names resource ${resource}, which is not in oauth.resources`,
          });
      }
    }
    if (oauth.refreshTokenIdleMs > oauth.refreshTokenAbsoluteMs)
      context.addIssue({
        code: 'custom',
        message: 'refreshTokenIdleMs must not exceed refreshTokenAbsoluteMs',
      });
  })
  .prefault({});

export type OAuthConfig = z.output<typeof oauthSchema>;
export type OAuthClientConfig = OAuthConfig['clients'][number];

/** The strict profile's user-code attempt limits (RFC 8628 §5.1), which the warnings compare with. */
const USER_CODE_ATTEMPTS = oauthDeviceFlowSchema.parse({}).userCodeAttempts;

function duration(ms: number): string {
  return ms === MINUTE ? 'minute' : `${ms / MINUTE} minutes`;
}

/** Settings looser than the profile: each is allowed, none silently. */
export function oauthConfigWarnings(oauth: OAuthConfig): string[] {
  if (!oauth.enabled) return [];
  const warnings: string[] = [];
  if (oauth.authorizationCodeTtlMs > MINUTE)
    warnings.push('oauth.authorizationCodeTtlMs is longer than 60 s: a stolen code stays usable longer');
  if (oauth.accessTokenTtlMs > 15 * MINUTE)
    warnings.push('oauth.accessTokenTtlMs is longer than 15 minutes: access tokens cannot be recalled');
  if (oauth.clientCredentialsTtlMs > 5 * MINUTE)
    warnings.push('oauth.clientCredentialsTtlMs is longer than 5 minutes');
  // An ID token is a signed statement that the user signed in; apps that (wrongly) accept one
  // as a credential, or keep it for id_token_hint, hold a usable proof for longer. Its lifetime
  // also keeps retired signing keys published longer (SigningKeys' tokenLifetimeMs).
  if (oauth.idTokenTtlMs > HOUR)
    warnings.push('oauth.idTokenTtlMs is longer than 1 hour: a leaked ID token is accepted longer');
  // The idle limit is what ends a refresh token left on a lost or abandoned device (RFC 9700
  // §4.14.2); the absolute limit below only caps an active chain.
  if (oauth.refreshTokenIdleMs > 14 * DAY)
    warnings.push(
      'oauth.refreshTokenIdleMs is longer than 14 days: an unused refresh token (a lost device) stays usable longer',
    );
  if (oauth.refreshTokenAbsoluteMs > 30 * DAY)
    warnings.push('oauth.refreshTokenAbsoluteMs is longer than 30 days');
  if (oauth.refreshGraceMs > 10 * SECOND)
    warnings.push(
      'oauth.refreshGraceMs is longer than 10 s: a stolen rotated refresh token is accepted longer',
    );
  // Relying parties cache the JWKS; one that meets a token signed by a key it has not fetched
  // yet refuses it unless its library refetches on an unknown kid. An hour covers the usual
  // caching; less turns a key rotation into failed sign-ins.
  if (oauth.keyPublishLeadMs < HOUR)
    warnings.push(
      'oauth.keyPublishLeadMs is shorter than 1 hour: a new key may sign before apps caching the JWKS know it, and they refuse its tokens',
    );
  if (oauth.deviceFlow.userCodeTtlMs > 10 * MINUTE)
    warnings.push(
      'oauth.deviceFlow.userCodeTtlMs is longer than 10 minutes: a user code can be guessed or phished for longer (RFC 8628 §5.1)',
    );
  if (oauth.deviceFlow.pollIntervalMs < 5 * SECOND)
    warnings.push(
      'oauth.deviceFlow.pollIntervalMs is shorter than 5 s (the RFC 8628 default): devices poll more often',
    );
  // 8 letters of 20 are about 34.6 bits: enough only while guesses stay this scarce (RFC 8628
  // §5.1). Looser means a higher burst (limit) or a higher rate (limit per window).
  for (const key of ['perIp', 'perIdentifier', 'global'] as const) {
    const { limit, windowMs } = oauth.deviceFlow.userCodeAttempts[key];
    const strict = USER_CODE_ATTEMPTS[key];
    if (limit > strict.limit || limit * strict.windowMs > strict.limit * windowMs)
      warnings.push(
        `oauth.deviceFlow.userCodeAttempts.${key} allows more than ${strict.limit} per ${duration(strict.windowMs)}: user codes can be guessed faster`,
      );
  }
  return warnings;
}
