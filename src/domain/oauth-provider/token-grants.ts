import { setTimeout as sleep } from 'node:timers/promises';
import type { KoaContext } from 'oidc-provider';
import type { GrantHandler } from 'oidc-provider/lib/helpers/weak_cache.js';
import type { Clock } from '../../ports/clock.ts';
import type { OAuthModelStore, RefreshGraceRecord, RefreshGraceStore } from '../../ports/oauth-store.ts';
import { seal, sha256, unseal } from '../crypto/secrets.ts';
import { holdsCodeVerifier } from './internals.ts';
import { storageKey } from './sql-adapter.ts';

/** A single-use grant source presented again: its grant has been revoked (see auditReplays). */
export interface ReplayEvent {
  model: 'AuthorizationCode' | 'RefreshToken';
  clientId: string;
  grantId: string | null;
  accountId: string | null;
}

/**
 * Wraps a built-in grant handler to notice replays: a code or refresh token that was already
 * consumed, presented again by the client it was issued to. RFC 6749 §4.1.2: the request is
 * denied and every token issued from the code SHOULD be revoked (RFC 9700 §4.14.2 for refresh
 * tokens). For a refresh token the provider revokes; for a code this makes sure of it (below),
 * and records that it happened.
 */
export function auditReplays(
  original: GrantHandler,
  model: ReplayEvent['model'],
  parameter: 'code' | 'refresh_token',
  models: OAuthModelStore,
  onReplay: (event: ReplayEvent, ctx: KoaContext) => void,
): GrantHandler {
  if (model === 'RefreshToken') return auditRefreshReplays(original, onReplay);
  return async (ctx) => {
    const value = ctx.oidc.params?.[parameter];
    const record = typeof value === 'string' ? await models.find(model, storageKey(model, value)) : undefined;
    try {
      await original(ctx);
    } catch (error) {
      const clientId = ctx.oidc.client?.clientId;
      if (
        record?.consumedAt != null &&
        record.clientId === clientId &&
        holdsCodeVerifier(JSON.parse(record.payload) as object, ctx.oidc.params)
      ) {
        // A replay by whoever redeemed the code: its client, with its PKCE verifier. The
        // provider revokes only when it reaches the `consumed` check, and it refuses an expired
        // code before that (lib/actions/grants/authorization_code.js), so a code replayed after
        // its 60 s is revoked here (a second revocation after the provider's own finds nothing
        // left). The stores keep consumed codes past their expiry
        // for this (CONSUMED_CODE_RETENTION_MS). Without the verifier nothing is revoked: a
        // public client is named by client_id alone, so anyone who lifted a used code from a
        // log or a Referer header could otherwise cut the user off the app, and gained nothing
        // to stop (the code was never redeemable without the verifier). revokeGrant is what
        // the provider's revocation does (lib/helpers/revoke.js).
        if (record.grantId !== null) await models.revokeGrant(record.grantId);
        onReplay({ model, clientId, grantId: record.grantId, accountId: record.accountId }, ctx);
      }
      throw error;
    }
  };
}

/**
 * The refresh-token case without a read of its own on every refresh (bench:oauth: one query of
 * about ten per grant). The grant handler records the token it found as the `RefreshToken`
 * entity after checking its client, expiry and grant, and only then tests `consumed` and revokes
 * the grant (lib/actions/grants/refresh_token.js): a failure with a consumed entity is a replay.
 * The entity is the state read before this request's own consume, as the earlier lookup was, so
 * a parallel request losing the atomic consume (adapter) is not mistaken for one.
 */
function auditRefreshReplays(
  original: GrantHandler,
  onReplay: (event: ReplayEvent, ctx: KoaContext) => void,
): GrantHandler {
  return async (ctx) => {
    try {
      await original(ctx);
    } catch (error) {
      const token = ctx.oidc.entities.RefreshToken;
      const clientId = ctx.oidc.client?.clientId;
      if (token?.consumed && clientId !== undefined && token.clientId === clientId) {
        onReplay(
          {
            model: 'RefreshToken',
            clientId,
            grantId: token.grantId ?? null,
            accountId: token.accountId ?? null,
          },
          ctx,
        );
      }
      throw error;
    }
  };
}

export interface RefreshGraceOptions {
  store: RefreshGraceStore;
  sealingKey: Uint8Array;
  graceMs: number;
  clock: Clock;
  /** The request's checked DPoP proof key, or undefined without one (internals.ts dpopProofKey). */
  proofKey(ctx: KoaContext, spend: boolean): Promise<string | undefined>;
}

/** What the window keeps of the first request: its answer, and the DPoP key its tokens are bound to. */
interface KeptAnswer {
  body: unknown;
  jkt: string | null;
}

const POLL_MS = 10;
/** How long a parallel request waits for the first one's answer before going to the provider. */
const WAIT_MS = 5000;

/**
 * The grace window for parallel refreshes (DESIGN §4). oidc-provider rotates a refresh token on
 * use and treats any second use as theft: it revokes the whole grant. A client that refreshes
 * from two tabs at once would lose its session that way. So the first request to present a
 * token claims it (one INSERT … ON CONFLICT DO NOTHING: one winner under any concurrency) and
 * runs the real grant; its response is kept, sealed, until the window closes. Requests with the
 * same token from the same, authenticated client inside the window get that same response: the
 * same successor, so exactly one token family stays alive. DPoP (RFC 9449) clients too: the
 * kept tokens are bound to the first request's key, so they go only to a request whose own
 * proof, checked and spent as the token endpoint would, is by that same key. After the window,
 * from another client, or with another key (or none where the first had one), the request goes
 * to the provider, which refuses it (and, for a consumed token it gets that far with, revokes
 * the grant).
 */
export function withRefreshGrace(original: GrantHandler, options: RefreshGraceOptions): GrantHandler {
  const { store, sealingKey, graceMs, clock, proofKey } = options;

  async function settled(tokenHash: string): Promise<RefreshGraceRecord | undefined> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const record = await store.find(tokenHash);
      if (!record || record.sealedResponse !== null || Date.now() >= deadline) return record;
      await sleep(POLL_MS);
    }
  }

  return async (ctx) => {
    const value = ctx.oidc.params?.['refresh_token'];
    const clientId = ctx.oidc.client?.clientId;
    if (graceMs === 0 || typeof value !== 'string' || !clientId) return original(ctx);
    // Keyed by a hash of the token: the table never holds a usable refresh token.
    const tokenHash = sha256(value);
    if (await store.claim(tokenHash, clientId, clock.now() + graceMs)) {
      try {
        await original(ctx);
      } catch (error) {
        await store.release(tokenHash);
        throw error;
      }
      // The provider checked this request's proof already; the answer is its cached result.
      const kept: KeptAnswer = { body: ctx.body, jkt: (await proofKey(ctx, false)) ?? null };
      await store.complete(tokenHash, await seal(sealingKey, JSON.stringify(kept)));
      return;
    }
    const first = await settled(tokenHash);
    if (first?.sealedResponse && first.clientId === clientId && clock.now() < first.expiresAt) {
      const kept = JSON.parse(await unseal(sealingKey, first.sealedResponse)) as KeptAnswer;
      if (((await proofKey(ctx, false)) ?? null) === kept.jkt) {
        // Spent only now, when this request will not reach the token endpoint's own check.
        if (kept.jkt !== null) await proofKey(ctx, true);
        ctx.body = kept.body;
        return;
      }
    }
    await original(ctx);
  };
}
