/**
 * Storage for the OAuth provider (src/domain/oauth-provider). Four narrow stores: the provider's
 * own models, clients managed with the CLI, signing keys, and the refresh-token grace window.
 */

/**
 * How long a consumed authorization code is kept after it expires, so that a later replay is
 * still recognised and revokes what the code gave (RFC 6749 §4.1.2: deny, and SHOULD revoke
 * every token issued from it). The provider checks expiry before `consumed`, so past its 60 s
 * lifetime a code is only refused; Gatehouse revokes for it (token-grants.ts), which needs the
 * record. Codes leak where URLs are kept: browser history, proxy and server access logs,
 * Referer headers; a code lifted from there is tried hours later, and 24 h covers that day.
 * The useful upper bound is the refresh-token absolute lifetime (30 days by default): after it
 * nothing issued from the code is left to revoke. But every sign-in to an app leaves one code
 * record (about 1 KB) for the whole retention, in Redis memory when codes live there: 24 h keeps
 * one day of sign-ins, 30 days would keep thirty times that, to catch replays that late.
 * Unconsumed codes are not kept: a code that expired unused gave nothing to revoke.
 */
export const CONSUMED_CODE_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The model whose consumed records outlive their expiry by CONSUMED_CODE_RETENTION_MS. */
export const RETAINED_WHEN_CONSUMED = 'AuthorizationCode';

/** One stored provider model (AuthorizationCode, RefreshToken, Session, Grant, …). */
export interface OAuthModelRecord {
  model: string;
  /** The key: SHA-256 of the provider's id for bearer-secret models, the id itself otherwise. */
  id: string;
  /** JSON of the provider's payload, minus the id of bearer-secret models. */
  payload: string;
  grantId: string | null;
  /** Session uid (provider sessions are looked up by it). */
  uid: string | null;
  userCode: string | null;
  accountId: string | null;
  clientId: string | null;
  /** Epoch ms; set once, by the single caller that consumed it. */
  consumedAt: number | null;
  /** Epoch ms; null when the provider gave no lifetime. */
  expiresAt: number | null;
}

export interface OAuthModelStore {
  upsert(record: OAuthModelRecord): Promise<void>;
  find(model: string, id: string): Promise<OAuthModelRecord | undefined>;
  findByUid(model: string, uid: string): Promise<OAuthModelRecord | undefined>;
  findByUserCode(model: string, userCode: string): Promise<OAuthModelRecord | undefined>;
  /** Marks it consumed; true for exactly one caller, however many race (one UPDATE … WHERE consumed_at IS NULL). */
  consume(model: string, id: string, now: number): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  /** Deletes every record of the model issued under the grant. */
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /** Deletes every record issued under the grant, whatever its model, and the Grant itself. */
  revokeGrant(grantId: string): Promise<void>;
  /** Live (unexpired) records of one model for an account, newest first. */
  listByAccount(model: string, accountId: string, now: number): Promise<OAuthModelRecord[]>;
  /** Everything issued to a client (its removal takes its tokens with it). */
  deleteByClient(clientId: string): Promise<number>;
  /**
   * Everything issued for an account (disabling a user): its grants, the records issued under
   * them, and any other record naming the account (codes, tokens). Provider sessions stay: the
   * back-channel logout that follows the `user.disabled` event ends them and tells their apps
   * (backchannel-logout.ts); unended, they sign nobody in (no Gatehouse session, no account).
   */
  deleteByAccount(accountId: string): Promise<number>;
  /**
   * Deletes expired records, except consumed authorization codes until
   * CONSUMED_CODE_RETENTION_MS after their expiry (stores with their own expiry keep them as long).
   */
  deleteExpired(now: number): Promise<number>;
}

/** A client managed with `gatehouse clients …` (clients in the config file are not stored). */
export interface StoredClientRecord {
  clientId: string;
  /** JSON of the client definition, without the secret. */
  definition: string;
  /** SHA-256 of the client secret (base64url); null for public clients. */
  secretHash: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface OAuthClientStore {
  /** False when the id is taken. */
  create(client: StoredClientRecord): Promise<boolean>;
  find(clientId: string): Promise<StoredClientRecord | undefined>;
  list(): Promise<StoredClientRecord[]>;
  setSecretHash(clientId: string, secretHash: string, at: number): Promise<boolean>;
  remove(clientId: string): Promise<boolean>;
}

export type SigningAlgorithm = 'ES256' | 'RS256';

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  /** The private JWK, sealed (AES-256-GCM) under a key derived from the instance secret. */
  sealedJwk: string;
  createdAt: number;
  /** Published from creation; signs from this time on (epoch ms). */
  signsFrom: number;
  /** Stops signing at this time (its successor's signsFrom); null while current. */
  retiresAt: number | null;
}

export interface SigningKeyStore {
  list(): Promise<SigningKeyRecord[]>;
  insert(key: SigningKeyRecord): Promise<void>;
  setRetiresAt(kid: string, retiresAt: number): Promise<void>;
  /** Removes keys that stopped signing before `before` (their tokens have all expired). */
  deleteRetiredBefore(before: number): Promise<number>;
}

/** The first request to present a refresh token claims it; its response is kept for the grace window. */
export interface RefreshGraceRecord {
  tokenHash: string;
  clientId: string;
  /** The token response, sealed; null while the claiming request is still running. */
  sealedResponse: string | null;
  expiresAt: number;
}

export interface RefreshGraceStore {
  /** True for exactly one caller per token hash (INSERT … ON CONFLICT DO NOTHING). */
  claim(tokenHash: string, clientId: string, expiresAt: number): Promise<boolean>;
  find(tokenHash: string): Promise<RefreshGraceRecord | undefined>;
  complete(tokenHash: string, sealedResponse: string): Promise<void>;
  /** The claiming request failed: let the next one run the grant itself. */
  release(tokenHash: string): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}
