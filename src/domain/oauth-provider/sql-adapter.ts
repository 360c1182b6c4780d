import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { OAuthModelStore } from '../../ports/oauth-store.ts';
import { seal, sha256, unseal } from '../crypto/secrets.ts';
import type { ClientRegistry } from './client-registry.ts';

/**
 * Models whose id is a bearer secret: the opaque token value, the session cookie, the
 * interaction cookie. oidc-provider looks every one of them up by that id alone
 * (BaseModel.find → adapter.find(id)), so the adapter can key the row by SHA-256(id) and put
 * the id back into the payload on the way out: a database dump holds no usable token (DESIGN §3).
 * Grants and replay-detection entries are references, not credentials, and keep their ids.
 * Sessions are also found by `uid` (Session.findByUid): those lookups only read the payload, so
 * the id they cannot restore is never needed (lib/models/token_helpers.js, lib/provider.js).
 */
const HASHED_MODELS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'Session',
  'Interaction',
  'RegistrationAccessToken',
  'InitialAccessToken',
]);

/**
 * Models also found by something other than their id, and then saved again: a device code is
 * looked up by the user code the person types (DeviceCode.findByUserCode), and the provider
 * then marks it in flight, approved or denied and saves it under its id. The row cannot give
 * the id back from its hash, so the id travels sealed (AES-256-GCM under a key derived from the
 * instance secret) in the payload: a dump still holds no usable device code, and the save after
 * a user-code lookup updates the device's own row instead of writing a new one.
 */
const SEALED_ID_MODELS = new Set(['DeviceCode']);
const SEALED_ID = 'gatehouseSealedId';

/** The row key of a model's id: what the adapter stores and looks up. */
export function storageKey(model: string, id: string): string {
  return HASHED_MODELS.has(model) ? sha256(id) : id;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** The provider's models in one SQL table keyed by (model, id); see ports/oauth-store.ts. */
export class SqlAdapter implements Adapter {
  readonly #model: string;
  readonly #store: OAuthModelStore;
  readonly #hashed: boolean;
  readonly #idKey: Uint8Array | null;

  /** `idKey`: seals the id of models in SEALED_ID_MODELS (required for those). */
  constructor(model: string, store: OAuthModelStore, idKey?: Uint8Array) {
    this.#model = model;
    this.#store = store;
    this.#hashed = HASHED_MODELS.has(model);
    this.#idKey = SEALED_ID_MODELS.has(model) ? (idKey ?? null) : null;
    if (SEALED_ID_MODELS.has(model) && !idKey)
      throw new Error(`the ${model} adapter needs a key to seal ids`);
  }

  #key(id: string): string {
    return storageKey(this.#model, id);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    // `jti: undefined` rather than `delete`: JSON.stringify leaves it out all the same, and a
    // delete turns the copy into a slow dictionary object (measured in bench:oauth's profile).
    const stored: AdapterPayload = this.#hashed ? { ...payload, jti: undefined } : { ...payload };
    if (this.#idKey) stored[SEALED_ID] = await seal(this.#idKey, id);
    if (this.#model === 'Interaction' && stored['session'] && typeof stored['session'] === 'object') {
      // The provider copies the session cookie into the interaction for interactionDetails()
      // callers; Gatehouse never reads it, so it is not stored (lib/models/interaction.js).
      const { cookie: _cookie, ...session } = stored['session'] as Record<string, unknown>;
      stored['session'] = session;
    }
    const consumed = typeof payload['consumed'] === 'number' ? payload['consumed'] * 1000 : null;
    await this.#store.upsert({
      model: this.#model,
      id: this.#key(id),
      payload: JSON.stringify(stored),
      grantId: text(payload['grantId']),
      uid: this.#model === 'Session' ? text(payload['uid']) : null,
      userCode: text(payload['userCode']),
      accountId: text(payload['accountId']),
      clientId: text(payload['clientId']),
      consumedAt: consumed,
      // The provider counts in its own (wall) clock, so expiry does too.
      expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : null,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const record = await this.#store.find(this.#model, this.#key(id));
    if (!record) return undefined;
    return this.#payload(record, id);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const record = await this.#store.findByUid(this.#model, uid);
    return record && this.#payload(record, undefined);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const record = await this.#store.findByUserCode(this.#model, userCode);
    if (!record) return undefined;
    const payload = this.#payload(record, undefined);
    const sealed = payload[SEALED_ID];
    if (this.#idKey && typeof sealed === 'string') payload['jti'] = await unseal(this.#idKey, sealed);
    return payload;
  }

  /**
   * Single use, atomically (DESIGN §2 principle 3): the provider reads a code or refresh token,
   * checks `consumed`, then consumes it. Two concurrent redemptions both pass the read; only one
   * wins this UPDATE, and the loser is refused here instead of also receiving tokens.
   */
  async consume(id: string): Promise<void> {
    if (!(await this.#store.consume(this.#model, this.#key(id), Date.now())))
      throw new errors.InvalidGrant(`${this.#model} already used`);
  }

  async destroy(id: string): Promise<void> {
    await this.#store.destroy(this.#model, this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#store.revokeByGrantId(this.#model, grantId);
  }

  #payload(record: { payload: string; consumedAt: number | null }, id: string | undefined): AdapterPayload {
    const payload = JSON.parse(record.payload) as AdapterPayload;
    if (this.#hashed && id !== undefined) payload['jti'] = id;
    // Only device codes carry it; an unconditional delete would slow every other payload down.
    if (id !== undefined && payload[SEALED_ID] !== undefined) delete payload[SEALED_ID];
    if (record.consumedAt !== null) payload['consumed'] = Math.floor(record.consumedAt / 1000);
    return payload;
  }
}

/**
 * Clients managed with the CLI reach the provider through its adapter (Client.find asks the
 * adapter for ids not in the static list). Dynamic registration is off, so nothing writes here.
 */
class ClientAdapter implements Adapter {
  readonly #clients: ClientRegistry;
  constructor(clients: ClientRegistry) {
    this.#clients = clients;
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const metadata = await this.#clients.storedMetadata(id);
    return metadata && { ...metadata };
  }
  async upsert(): Promise<void> {
    throw new Error('clients are managed with `gatehouse clients`, not through the provider');
  }
  async destroy(): Promise<void> {
    throw new Error('clients are managed with `gatehouse clients`, not through the provider');
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

export function createAdapterFactory(
  store: OAuthModelStore,
  clients: ClientRegistry,
  idKey: Uint8Array,
): (model: string) => Adapter {
  return (model) => (model === 'Client' ? new ClientAdapter(clients) : new SqlAdapter(model, store, idKey));
}
