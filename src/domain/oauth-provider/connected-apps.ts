import type { Clock } from '../../ports/clock.ts';
import type { OAuthModelRecord, OAuthModelStore } from '../../ports/oauth-store.ts';
import type { ClientRegistry } from './client-registry.ts';

/** An app the user let in: what it may do, as recorded in the user's grants for it. */
export interface ConnectedApp {
  clientId: string;
  clientName: string;
  /** OpenID scopes granted (openid, email, …). */
  scopes: string[];
  resources: Array<{ indicator: string; scopes: string[] }>;
  /** Epoch ms of the first grant. */
  grantedAt: number;
}

interface GrantPayload {
  clientId?: string;
  iat?: number;
  openid?: { scope?: string };
  resources?: Record<string, string>;
}

function words(value: string | undefined): string[] {
  return (value ?? '').split(' ').filter(Boolean);
}

/**
 * The user's side of consent (ASVS 5.0 V10.7.3): the provider's grants for an account, listed
 * per app and revocable. Revoking an app deletes its grants and every token issued under them
 * (codes, refresh tokens, opaque access tokens); JWT access tokens cannot be recalled and die
 * with their short lifetime.
 */
export class ConnectedApps {
  readonly #models: OAuthModelStore;
  readonly #clients: ClientRegistry;
  readonly #clock: Clock;

  constructor(models: OAuthModelStore, clients: ClientRegistry, clock: Clock) {
    this.#models = models;
    this.#clients = clients;
    this.#clock = clock;
  }

  async #grants(userId: string): Promise<Array<{ record: OAuthModelRecord; payload: GrantPayload }>> {
    const records = await this.#models.listByAccount('Grant', userId, Date.now());
    return records.map((record) => ({ record, payload: JSON.parse(record.payload) as GrantPayload }));
  }

  async list(userId: string): Promise<ConnectedApp[]> {
    const byClient = new Map<string, ConnectedApp>();
    for (const { record, payload } of await this.#grants(userId)) {
      const clientId = record.clientId ?? payload.clientId;
      if (!clientId) continue;
      let app = byClient.get(clientId);
      if (!app) {
        const definition = await this.#clients.definition(clientId);
        app = {
          clientId,
          clientName: definition?.client_name ?? clientId,
          scopes: [],
          resources: [],
          grantedAt: (payload.iat ?? Math.floor(this.#clock.now() / 1000)) * 1000,
        };
        byClient.set(clientId, app);
      }
      app.scopes = [...new Set([...app.scopes, ...words(payload.openid?.scope)])];
      for (const [indicator, scope] of Object.entries(payload.resources ?? {})) {
        const existing = app.resources.find((resource) => resource.indicator === indicator);
        if (existing) existing.scopes = [...new Set([...existing.scopes, ...words(scope)])];
        else app.resources.push({ indicator, scopes: words(scope) });
      }
      if (payload.iat) app.grantedAt = Math.min(app.grantedAt, payload.iat * 1000);
    }
    return [...byClient.values()].sort((a, b) => a.clientName.localeCompare(b.clientName));
  }

  /** The grant consent is remembered in for this user and client (the longest-lived one). */
  async latestGrantId(userId: string, clientId: string): Promise<string | undefined> {
    const grants = (await this.#grants(userId)).filter(({ record }) => record.clientId === clientId);
    grants.sort(
      (a, b) =>
        (b.record.expiresAt ?? Number.MAX_SAFE_INTEGER) - (a.record.expiresAt ?? Number.MAX_SAFE_INTEGER),
    );
    return grants[0]?.record.id;
  }

  /** Revokes every grant of the user for the client and the tokens under them; false if there was none. */
  async revoke(userId: string, clientId: string): Promise<boolean> {
    const grants = (await this.#grants(userId)).filter(({ record }) => record.clientId === clientId);
    for (const { record } of grants) await this.#models.revokeGrant(record.id);
    return grants.length > 0;
  }
}
