import type { OAuthClientConfig } from '../../config/oauth-schema.ts';
import type { Clock } from '../../ports/clock.ts';
import type { OAuthClientStore } from '../../ports/oauth-store.ts';
import { constantTimeEqual, randomToken, sha256 } from '../crypto/secrets.ts';
import {
  type ClientDefinition,
  type ClientJwk,
  type ClientPolicyOptions,
  clientProblems,
  isConfidential,
} from './client-policy.ts';

/** Client metadata in the provider's vocabulary (RFC 7591 names). */
export interface ProviderClientMetadata {
  client_id: string;
  /** SHA-256 of the secret, never the secret: see verifyClientSecret. */
  client_secret?: string;
  client_name?: string;
  application_type: 'web' | 'native';
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  scope: string;
  require_pushed_authorization_requests: boolean;
  dpop_bound_access_tokens: boolean;
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
  jwks?: { keys: ClientJwk[] };
  jwks_uri?: string;
}

export interface ListedClient extends ClientDefinition {
  confidential: boolean;
  source: 'config' | 'cli';
}

export interface IssuedClient {
  client_id: string;
  /** Shown once; only its hash is kept. Null for public clients. */
  client_secret: string | null;
}

export class ClientError extends Error {
  override name = 'ClientError';
}

/**
 * Client secrets are kept only as SHA-256 hashes (DESIGN §3: a dump must not let anyone act as
 * a client; RFC 6819 §5.1.4.1.3). A secret is 256 random bits, so a plain hash cannot be
 * brute-forced. oidc-provider compares `client_secret` itself through the Client prototype's
 * compareClientSecret, which its author exposes for exactly this (node-oidc-provider #631);
 * internals.ts routes it here. The price, accepted: no client_secret_jwt and no symmetric
 * (HS*) signing or encryption for clients, since those need the secret in the clear.
 */
export function hashClientSecret(secret: string): string {
  return sha256(secret);
}

export function verifyClientSecret(storedHash: string | undefined, presented: string): boolean {
  return storedHash !== undefined && constantTimeEqual(storedHash, hashClientSecret(presented));
}

export function toProviderMetadata(
  definition: ClientDefinition,
  secretHash: string | null,
): ProviderClientMetadata {
  return {
    client_id: definition.client_id,
    ...(secretHash ? { client_secret: secretHash } : {}),
    ...(definition.client_name ? { client_name: definition.client_name } : {}),
    application_type: definition.application_type,
    redirect_uris: definition.redirect_uris,
    post_logout_redirect_uris: definition.post_logout_redirect_uris,
    grant_types: definition.grant_types,
    response_types: definition.grant_types.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method:
      definition.token_endpoint_auth_method ?? (secretHash ? 'client_secret_basic' : 'none'),
    scope: definition.scope,
    require_pushed_authorization_requests: definition.require_par,
    dpop_bound_access_tokens: definition.require_dpop,
    ...(definition.backchannel_logout_uri
      ? {
          backchannel_logout_uri: definition.backchannel_logout_uri,
          backchannel_logout_session_required: definition.backchannel_logout_session_required ?? false,
        }
      : {}),
    ...(definition.jwks ? { jwks: definition.jwks } : {}),
    ...(definition.jwks_uri ? { jwks_uri: definition.jwks_uri } : {}),
  };
}

function definitionOf(client: OAuthClientConfig): ClientDefinition {
  const { client_secret: _secret, ...definition } = client;
  return definition;
}

/**
 * Every client: those in the config file (read-only here) and those managed with
 * `gatehouse clients …` (stored, secret hashed). A client id lives in one of the two.
 */
export class ClientRegistry {
  readonly #configured: Map<string, { definition: ClientDefinition; secretHash: string | null }>;
  readonly #store: OAuthClientStore;
  readonly #clock: Clock;
  readonly #resources: ReadonlySet<string>;
  readonly #policy: ClientPolicyOptions;

  /**
   * `resources`: the resource indicators the configuration declares (clients may name only those).
   * `policy`: deployment-dependent rules; config-file clients are checked against them here, since
   * the config schema cannot know the environment (production refuses http on loopback).
   */
  constructor(
    configured: OAuthClientConfig[],
    resources: string[],
    store: OAuthClientStore,
    clock: Clock,
    policy: ClientPolicyOptions = {},
  ) {
    this.#configured = new Map(
      configured.map((client) => [
        client.client_id,
        {
          definition: definitionOf(client),
          secretHash: client.client_secret ? hashClientSecret(client.client_secret) : null,
        },
      ]),
    );
    this.#store = store;
    this.#clock = clock;
    this.#resources = new Set(resources);
    this.#policy = policy;
    for (const { definition, secretHash } of this.#configured.values()) {
      const problems = clientProblems(definition, isConfidential(definition, secretHash !== null), policy);
      if (problems.length) throw new ClientError(`client ${definition.client_id}: ${problems.join('; ')}`);
    }
  }

  /** Config-file clients, for the provider's static client list. */
  configuredMetadata(): ProviderClientMetadata[] {
    return [...this.#configured.values()].map(({ definition, secretHash }) =>
      toProviderMetadata(definition, secretHash),
    );
  }

  /** A CLI-managed client (the provider asks its adapter for clients it does not know statically). */
  async storedMetadata(clientId: string): Promise<ProviderClientMetadata | undefined> {
    const stored = await this.#store.find(clientId);
    return stored && toProviderMetadata(JSON.parse(stored.definition) as ClientDefinition, stored.secretHash);
  }

  async definition(clientId: string): Promise<ClientDefinition | undefined> {
    const configured = this.#configured.get(clientId);
    if (configured) return configured.definition;
    const stored = await this.#store.find(clientId);
    return stored && (JSON.parse(stored.definition) as ClientDefinition);
  }

  async list(): Promise<ListedClient[]> {
    const stored = await this.#store.list();
    return [
      ...[...this.#configured.values()].map(({ definition, secretHash }) => ({
        ...definition,
        confidential: isConfidential(definition, secretHash !== null),
        source: 'config' as const,
      })),
      ...stored.map((record) => {
        const definition = JSON.parse(record.definition) as ClientDefinition;
        return {
          ...definition,
          confidential: isConfidential(definition, record.secretHash !== null),
          source: 'cli' as const,
        };
      }),
    ];
  }

  /**
   * A new CLI-managed client. A confidential client gets a secret, shown once, unless it
   * authenticates with private_key_jwt: then it has no secret at all, only its public keys.
   */
  async create(definition: ClientDefinition, confidential: boolean): Promise<IssuedClient> {
    const problems = clientProblems(definition, confidential, this.#policy);
    for (const resource of definition.resources) {
      if (!this.#resources.has(resource))
        problems.push(`resource ${resource} is not declared in oauth.resources`);
    }
    if (problems.length) throw new ClientError(problems.join('; '));
    if (this.#configured.has(definition.client_id))
      throw new ClientError(`client ${definition.client_id} is declared in the config file`);
    const secret =
      confidential && definition.token_endpoint_auth_method !== 'private_key_jwt' ? randomToken() : null;
    const now = this.#clock.now();
    const created = await this.#store.create({
      clientId: definition.client_id,
      definition: JSON.stringify(definition),
      secretHash: secret ? hashClientSecret(secret) : null,
      createdAt: now,
      updatedAt: now,
    });
    if (!created) throw new ClientError(`client ${definition.client_id} already exists`);
    return { client_id: definition.client_id, client_secret: secret };
  }

  /** A new secret for a confidential CLI-managed client; the old one stops working at once. */
  async rotateSecret(clientId: string): Promise<IssuedClient> {
    if (this.#configured.has(clientId))
      throw new ClientError(`client ${clientId} is declared in the config file: change its secret there`);
    const secret = randomToken();
    if (!(await this.#store.setSecretHash(clientId, hashClientSecret(secret), this.#clock.now())))
      throw new ClientError(`no confidential client ${clientId} is managed by the CLI`);
    return { client_id: clientId, client_secret: secret };
  }

  async remove(clientId: string): Promise<void> {
    if (this.#configured.has(clientId))
      throw new ClientError(`client ${clientId} is declared in the config file: remove it there`);
    if (!(await this.#store.remove(clientId)))
      throw new ClientError(`no client ${clientId} is managed by the CLI`);
  }
}
