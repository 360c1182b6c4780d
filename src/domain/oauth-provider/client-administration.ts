import type { OAuthModelStore } from '../../ports/oauth-store.ts';
import type { AuditEntry } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import type { ClientDefinition } from './client-policy.ts';
import { ClientError, type ClientRegistry, type IssuedClient, type ListedClient } from './client-registry.ts';

/**
 * Administering the clients Gatehouse stores (issue #5): what adding, rotating a secret and
 * removing do, in one place for both `gatehouse clients …` and the admin API, so the two cannot
 * drift apart (one forgets to revoke a removed client's tokens, the other to audit).
 *
 * The registry stays the authority on what a client may be; the look-ups here only classify a
 * refusal, so each caller can answer it properly (an HTTP status, an exit code).
 */

/** Why an administrative change was refused. */
export type ClientAdministrationFailure =
  /** The definition breaks the profile (client-policy.ts) or names an undeclared resource. */
  | 'invalid'
  /** The id is taken, by a stored client or one in the config file. */
  | 'client_exists'
  | 'not_found'
  /** The client is declared in the config file: read-only here, it changes there. */
  | 'config_client'
  /** Public and private_key_jwt clients have no secret to rotate. */
  | 'no_secret';

export class ClientAdministrationError extends ClientError {
  override name = 'ClientAdministrationError';
  readonly reason: ClientAdministrationFailure;
  /** For `invalid`: each rule the definition breaks. */
  readonly problems: string[];

  constructor(reason: ClientAdministrationFailure, message: string, problems: string[] = []) {
    super(message);
    this.reason = reason;
    this.problems = problems;
  }
}

/** Who makes the change: recorded with every event (an administrator's id, or the terminal). */
export interface ClientAdministrator {
  context: RequestContext;
  /** The administrator's user id; null at the command line. */
  actorId: string | null;
  sessionId: string | null;
  via: 'cli' | 'api';
}

/** Where events go (the AuditRecorder); a parameter so the CLI and the server bring their own. */
export interface AuditSink {
  record(context: RequestContext, entry: AuditEntry): Promise<void>;
}

export interface RemovedClient {
  client_id: string;
  /** Grants, tokens and codes issued to the client that were deleted with it. */
  revoked: number;
}

export class ClientAdministration {
  readonly #registry: ClientRegistry;
  readonly #models: Pick<OAuthModelStore, 'deleteByClient'>;
  readonly #audit: AuditSink;

  constructor(registry: ClientRegistry, models: Pick<OAuthModelStore, 'deleteByClient'>, audit: AuditSink) {
    this.#registry = registry;
    this.#models = models;
    this.#audit = audit;
  }

  /** Every client, config file and stored; never a secret. */
  list(): Promise<ListedClient[]> {
    return this.#registry.list();
  }

  async get(clientId: string): Promise<ListedClient | undefined> {
    return (await this.#registry.list()).find((client) => client.client_id === clientId);
  }

  /**
   * Adds a client. A confidential client gets a secret (256 random bits), returned here once;
   * only its SHA-256 is stored (client-registry.ts).
   */
  async create(
    definition: ClientDefinition,
    confidential: boolean,
    by: ClientAdministrator,
  ): Promise<IssuedClient> {
    const clientId = definition.client_id;
    const taken = (): Promise<never> =>
      this.#refuse(
        by,
        'oauth.client_created',
        clientId,
        'client_exists',
        `client ${clientId} already exists`,
      );
    if ((await this.#registry.definition(clientId)) !== undefined) return taken();
    let issued: IssuedClient;
    try {
      issued = await this.#registry.create(definition, confidential);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      // Another request may have taken the id since the look-up above.
      if ((await this.#registry.definition(clientId)) !== undefined) return taken();
      return this.#refuse(by, 'oauth.client_created', clientId, 'invalid', error.message, problemsOf(error));
    }
    await this.#record(by, {
      type: 'oauth.client_created',
      outcome: 'success',
      details: { clientId, confidential, via: by.via },
    });
    return issued;
  }

  /** A new secret; the old one stops working at once (the provider compares hashes per request). */
  async rotateSecret(clientId: string, by: ClientAdministrator): Promise<IssuedClient> {
    const stored = await this.#registry.storedMetadata(clientId);
    if (!stored)
      return this.#refuseUnstored(by, 'oauth.client_secret_rotated', clientId, 'change its secret');
    if (stored.client_secret === undefined)
      return this.#refuse(
        by,
        'oauth.client_secret_rotated',
        clientId,
        'no_secret',
        `client ${clientId} has no secret to rotate (a public or private_key_jwt client)`,
      );
    let issued: IssuedClient;
    try {
      issued = await this.#registry.rotateSecret(clientId);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      // Removed since the look-up above.
      return this.#refuse(by, 'oauth.client_secret_rotated', clientId, 'not_found', error.message);
    }
    await this.#record(by, {
      type: 'oauth.client_secret_rotated',
      outcome: 'success',
      details: { clientId, via: by.via },
    });
    return issued;
  }

  /** Removes a client with every grant, code and token issued to it. */
  async remove(clientId: string, by: ClientAdministrator): Promise<RemovedClient> {
    if ((await this.#registry.storedMetadata(clientId)) === undefined)
      return this.#refuseUnstored(by, 'oauth.client_removed', clientId, 'remove it');
    try {
      await this.#registry.remove(clientId);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      return this.#refuse(by, 'oauth.client_removed', clientId, 'not_found', error.message);
    }
    // The client first, then what it was given: once it is gone no new grant can be made for
    // it, so nothing issued to it survives the removal.
    const revoked = await this.#models.deleteByClient(clientId);
    await this.#record(by, {
      type: 'oauth.client_removed',
      outcome: 'success',
      details: { clientId, revoked, via: by.via },
    });
    return { client_id: clientId, revoked };
  }

  /** A client that is not stored: read-only when the config file declares it, else unknown. */
  async #refuseUnstored(
    by: ClientAdministrator,
    type: AuditEntry['type'],
    clientId: string,
    action: string,
  ): Promise<never> {
    if ((await this.#registry.definition(clientId)) !== undefined)
      return this.#refuse(
        by,
        type,
        clientId,
        'config_client',
        `client ${clientId} is declared in the config file: ${action} there`,
      );
    return this.#refuse(by, type, clientId, 'not_found', `no client ${clientId} is stored`);
  }

  /** Refusals are on the record too: an administrator trying to change a client is worth seeing. */
  async #refuse(
    by: ClientAdministrator,
    type: AuditEntry['type'],
    clientId: string,
    reason: ClientAdministrationFailure,
    message: string,
    problems: string[] = [],
  ): Promise<never> {
    await this.#record(by, { type, outcome: 'failure', details: { clientId, reason, via: by.via } });
    throw new ClientAdministrationError(reason, message, problems);
  }

  #record(by: ClientAdministrator, entry: Omit<AuditEntry, 'actorId' | 'sessionId'>): Promise<void> {
    return this.#audit.record(by.context, { ...entry, actorId: by.actorId, sessionId: by.sessionId });
  }
}

/** The registry joins the rules a definition breaks with "; " (client-registry.ts). */
function problemsOf(error: ClientError): string[] {
  return error.message.split('; ').filter(Boolean);
}
