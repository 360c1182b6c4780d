import { readFileSync } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { SchemaOutOfDateError } from '../container.ts';
import { AuditRecorder, type AuditEntry } from '../domain/audit/audit-recorder.ts';
import { AUDIT_CHAIN_KEY_PURPOSE } from '../domain/audit/chain.ts';
import { deriveKey } from '../domain/crypto/secrets.ts';
import {
  ACCESS_TOKEN_FORMATS,
  type AccessTokenFormat,
  CLIENT_AUTH_METHODS,
  type ClientAuthMethod,
  type ClientDefinition,
  type ClientGrantType,
  DEVICE_CODE_GRANT,
} from '../domain/oauth-provider/client-policy.ts';
import {
  ClientAdministration,
  type ClientAdministrator,
} from '../domain/oauth-provider/client-administration.ts';
import { ClientError } from '../domain/oauth-provider/client-registry.ts';
import { clientRegistryFor, signingKeysFor } from '../domain/oauth-provider/oauth-provider.ts';
import { systemClock } from '../ports/clock.ts';
import { openRedis } from '../storage/redis/open-redis.ts';
import { withShortLivedModelsInRedis } from '../storage/routed-oauth-model-store.ts';
import { migrationStatus, openDatabase } from '../storage/sql/open-database.ts';
import { createSqlStores, type Stores } from '../storage/sql/stores.ts';

export const oauthUsage = `Usage:
  gatehouse clients add --id ID --type public|confidential --redirect-uri URI … [--grant GRANT …]
                        [--scope "openid email …"] [--resource URI …] [--name NAME] [--native]
                        [--post-logout-redirect-uri URI …] [--trusted] [--require-par] [--require-dpop]
      Adds an OAuth client and prints {"client_id", "client_secret"} as JSON. The secret of a
      confidential client is shown this once; only its hash is kept. GRANT is
      authorization_code (default, with refresh_token), refresh_token, client_credentials, or
      device_code (short for urn:ietf:params:oauth:grant-type:device_code: the device
      authorization grant of RFC 8628, for TVs and command-line tools; no redirect URI needed).
      More options: [--backchannel-logout-uri URI [--backchannel-logout-session-required]]
      (OpenID Connect Back-Channel Logout: https, or http on loopback outside production);
      [--auth-method client_secret_basic|client_secret_post|private_key_jwt] for a confidential
      client, with private_key_jwt [--jwks-file FILE | --jwks-uri URI] (its public keys as a JWK
      Set; such a client gets no secret: "client_secret" is null);
      [--access-token-format jwt|opaque] for its --resource tokens (default jwt; opaque tokens
      are introspected by the API and stop working the moment they are revoked).
  gatehouse clients list
      Prints every client (config file and CLI) as JSON; never a secret.
  gatehouse clients rotate-secret --id ID
      A new secret for a confidential client, printed once; the old one stops working at once.
  gatehouse clients remove --id ID
      Removes a client with every grant and token issued to it.
  gatehouse keys rotate
      Introduces new token signing keys: published at once, signing after oauth.keyPublishLeadMs;
      the old keys stay published until every token they signed has expired.
`;

class UsageError extends Error {}

const clientOptions = {
  id: { type: 'string' },
  type: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  grant: { type: 'string', multiple: true },
  scope: { type: 'string' },
  resource: { type: 'string', multiple: true },
  name: { type: 'string' },
  native: { type: 'boolean' },
  trusted: { type: 'boolean' },
  'require-par': { type: 'boolean' },
  'require-dpop': { type: 'boolean' },
  'backchannel-logout-uri': { type: 'string' },
  'backchannel-logout-session-required': { type: 'boolean' },
  'auth-method': { type: 'string' },
  'jwks-file': { type: 'string' },
  'jwks-uri': { type: 'string' },
  'access-token-format': { type: 'string' },
} satisfies ParseArgsOptionsConfig;

/** --auth-method and the keys that go with it, as client metadata. */
function authMethodOptions(values: {
  'auth-method'?: string | undefined;
  'jwks-file'?: string | undefined;
  'jwks-uri'?: string | undefined;
}): Pick<ClientDefinition, 'token_endpoint_auth_method' | 'jwks' | 'jwks_uri'> {
  const method = values['auth-method'];
  if (method !== undefined && !(CLIENT_AUTH_METHODS as readonly string[]).includes(method))
    throw new UsageError(`--auth-method must be one of ${CLIENT_AUTH_METHODS.join(', ')}.`);
  let jwks: ClientDefinition['jwks'];
  if (values['jwks-file'] !== undefined) {
    try {
      jwks = JSON.parse(readFileSync(values['jwks-file'], 'utf8')) as ClientDefinition['jwks'];
    } catch (error) {
      throw new UsageError(`--jwks-file: ${(error as Error).message}`);
    }
  }
  return {
    ...(method !== undefined ? { token_endpoint_auth_method: method as ClientAuthMethod } : {}),
    ...(jwks !== undefined ? { jwks } : {}),
    ...(values['jwks-uri'] !== undefined ? { jwks_uri: values['jwks-uri'] } : {}),
  };
}

function parse(args: string[]): ReturnType<typeof parseArgs<{ options: typeof clientOptions }>>['values'] {
  try {
    return parseArgs({ args, options: clientOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function requireId(id: string | undefined): string {
  if (!id) throw new UsageError('--id is required.');
  return id;
}

const GRANTS = new Set<string>([
  'authorization_code',
  'refresh_token',
  'client_credentials',
  DEVICE_CODE_GRANT,
]);
/** Short names accepted for grants whose real name is a URN. */
const GRANT_ALIASES: Record<string, string> = { device_code: DEVICE_CODE_GRANT };

/** Runs `work` with the stores of the configured database, refusing a schema that is behind. */
export async function withStores(
  work: (stores: Stores, config: Config, audit: AuditRecorder) => Promise<number>,
): Promise<number> {
  const config = loadConfig();
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let redis: Redis | null = null;
  try {
    const status = await migrationStatus(database);
    if (status.pending.length > 0) {
      throw new SchemaOutOfDateError(
        `database schema is behind this version (pending: ${status.pending.join(', ')}); run \`gatehouse migrate\` first`,
      );
    }
    const stores = createSqlStores(database);
    // Where the server keeps short-lived OAuth records in Redis, a revocation here reaches them.
    if (config.redisUrl && config.oauth.enabled) {
      redis = await openRedis(config.redisUrl);
      redis.on('error', () => {}); // reported below, once, when a command fails
      await redis.connect().catch(() => {});
      stores.oauthModels = withShortLivedModelsInRedis(stores.oauthModels, redis, (error) =>
        console.error(
          `gatehouse: Redis did not answer (${(error as Error).message}); its short-lived OAuth records are left to expire`,
        ),
      );
    }
    const audit = new AuditRecorder(
      stores.audit,
      systemClock,
      (error) => console.error('gatehouse: audit write failed:', (error as Error).message),
      deriveKey(config.secret, AUDIT_CHAIN_KEY_PURPOSE),
    );
    return await work(stores, config, audit);
  } finally {
    redis?.disconnect();
    await database.close();
  }
}

/** The operator at a terminal: no IP, user agent, request or signed-in user. */
const TERMINAL: ClientAdministrator = {
  context: { ip: null, userAgent: null, requestId: null },
  actorId: null,
  sessionId: null,
  via: 'cli',
};

function recordCli(audit: AuditRecorder, entry: AuditEntry): Promise<void> {
  return audit.record(TERMINAL.context, entry);
}

function print(value: unknown): number {
  console.log(JSON.stringify(value, null, 2));
  return 0;
}

async function clients(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const values = parse(rest);
  return withStores(async (stores, config, audit) => {
    const registry = clientRegistryFor(config, stores.oauthClients, systemClock);
    // The same administration the admin API uses: registry, revocation and audit in one place.
    const administration = new ClientAdministration(registry, stores.oauthModels, audit);
    switch (sub) {
      case 'add': {
        // Stored either way (an operator may prepare clients before turning the provider on),
        // but a silent success would leave them wondering why /oauth/* answers 404.
        if (!config.oauth.enabled)
          console.error(
            'gatehouse: note: the OAuth provider is off (oauth.enabled is false); this client works once it is on.',
          );
        if (values.type !== 'public' && values.type !== 'confidential')
          throw new UsageError('--type must be public or confidential.');
        const grants = (values.grant ?? ['authorization_code', 'refresh_token']).map(
          (grant) => GRANT_ALIASES[grant] ?? grant,
        );
        const unknown = grants.filter((grant) => !GRANTS.has(grant));
        if (unknown.length) throw new UsageError(`unknown grant ${unknown.join(', ')}.`);
        const definition: ClientDefinition = {
          client_id: requireId(values.id),
          ...(values.name ? { client_name: values.name } : {}),
          application_type: values.native ? 'native' : 'web',
          redirect_uris: values['redirect-uri'] ?? [],
          post_logout_redirect_uris: values['post-logout-redirect-uri'] ?? [],
          grant_types: grants as ClientGrantType[],
          scope: values.scope ?? 'openid',
          resources: values.resource ?? [],
          trusted: values.trusted ?? false,
          require_par: values['require-par'] ?? false,
          require_dpop: values['require-dpop'] ?? false,
          access_token_format: accessTokenFormat(values['access-token-format']),
          ...(values['backchannel-logout-uri'] !== undefined
            ? {
                backchannel_logout_uri: values['backchannel-logout-uri'],
                backchannel_logout_session_required: values['backchannel-logout-session-required'] ?? false,
              }
            : {}),
          ...authMethodOptions(values),
        };
        return print(await administration.create(definition, values.type === 'confidential', TERMINAL));
      }
      case 'list':
        return print(await administration.list());
      case 'rotate-secret':
        return print(await administration.rotateSecret(requireId(values.id), TERMINAL));
      case 'remove': {
        const { client_id } = await administration.remove(requireId(values.id), TERMINAL);
        return print({ client_id, removed: true });
      }
      default:
        throw new UsageError(sub ? `Unknown clients command "${sub}".` : 'Missing clients command.');
    }
  });
}

function accessTokenFormat(value: string | undefined): AccessTokenFormat {
  if (value === undefined) return 'jwt';
  if (!(ACCESS_TOKEN_FORMATS as readonly string[]).includes(value))
    throw new UsageError(`--access-token-format must be ${ACCESS_TOKEN_FORMATS.join(' or ')}.`);
  return value as AccessTokenFormat;
}

async function keys(args: string[]): Promise<number> {
  if (args[0] !== 'rotate' || args.length > 1) throw new UsageError('Usage: gatehouse keys rotate');
  return withStores(async (stores, config, audit) => {
    const signing = signingKeysFor(config, stores.signingKeys, systemClock);
    await signing.ensure();
    const rotated = await signing.rotate();
    const keysOut = rotated.map((key) => ({ ...key, signsFrom: new Date(key.signsFrom).toISOString() }));
    await recordCli(audit, {
      type: 'oauth.signing_keys_rotated',
      outcome: 'success',
      details: { keys: keysOut },
    });
    return print({ keys: keysOut });
  });
}

/** `gatehouse clients …` and `gatehouse keys …`. */
export async function oauthCommand(command: 'clients' | 'keys', args: string[]): Promise<number> {
  try {
    return command === 'clients' ? await clients(args) : await keys(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`gatehouse: ${error.message}\n\n${oauthUsage}`);
      return 2;
    }
    if (error instanceof ClientError) {
      console.error(`gatehouse: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
