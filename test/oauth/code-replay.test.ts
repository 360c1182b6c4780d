/**
 * An authorization code replayed after its lifetime (RFC 6749 §4.1.2: a code used more than once
 * is refused, and the server SHOULD revoke every token issued from it). The provider checks a
 * code's expiry before whether it was consumed, so past the lifetime its own revocation never
 * runs; Gatehouse revokes then (token-grants.ts), and the stores keep consumed codes past their
 * expiry for that (CONSUMED_CODE_RETENTION_MS). Codes live 10 s here (the shortest allowed) and
 * every test waits that out, so the tests of a suite run side by side.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import * as client from 'openid-client';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { TestClient } from '../support/http-client.ts';
import {
  authorizedCode,
  discover,
  OTHER_APP,
  refusalOf,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import { type PrivateRedis, redisClient, redisSkipReason, startPrivateRedis } from '../support/redis.ts';
import type { TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const CODE_TTL_MS = 10_000;

/** Signs a new user in and redeems a code for WEB_APP: an opaque access token and a refresh token. */
async function redeemedCode(server: TestServer, email: string) {
  const agent = new TestClient(server.url);
  const userId = await signInWithEmail(server, agent, email);
  const flow = await authorizedCode(server, agent, WEB_APP);
  const tokens = await client.authorizationCodeGrant(flow.config, flow.callback, flow.checks);
  assert.ok(tokens.refresh_token);
  assert.equal(tokens.access_token.split('.').length, 1, 'opaque: no resource was asked for');
  return { ...flow, tokens, refreshToken: tokens.refresh_token, userId };
}

/** Waits until both the provider (payload exp) and the store (expiresAt) see the code as expired. */
async function pastExpiry(server: TestServer, code: string): Promise<void> {
  const record = await server.services.stores.oauthModels.find('AuthorizationCode', sha256(code));
  assert.ok(record?.consumedAt, 'the redeemed code is stored, consumed');
  const { exp } = JSON.parse(record.payload) as { exp: number };
  const expired = Math.max(exp * 1000, record.expiresAt ?? 0) + 50;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expired - Date.now())));
}

async function replayEvents(server: TestServer, userId: string) {
  // The audit write is not awaited by the token response: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return server.services.stores.audit.list({ userId, type: 'oauth.authorization_code_replayed', limit: 5 });
}

/** The refresh token and the opaque access token of the first redemption, as WEB_APP sees them. */
async function liveness(config: client.Configuration, tokens: { refresh: string; access: string }) {
  return {
    refresh: (await client.tokenIntrospection(config, tokens.refresh)).active,
    access: (await client.tokenIntrospection(config, tokens.access)).active,
  };
}

/** The tests of both suites; `afterExpiry` runs once the code has expired, before the replay. */
function replayTests(
  serverOf: () => TestServer,
  label: string,
  afterExpiry: (code: string) => Promise<void>,
) {
  test(`a code replayed by its client after it expired is refused, revokes the refresh and opaque access tokens it gave, and is audited once (${label})`, async () => {
    const server = serverOf();
    const { config, callback, checks, code, tokens, refreshToken, userId } = await redeemedCode(
      server,
      `late-replay-${label}@example.com`,
    );
    await pastExpiry(server, code);
    await afterExpiry(code);
    const replay = await refusalOf(client.authorizationCodeGrant(config, callback, checks));
    assert.equal(replay.error, 'invalid_grant');
    assert.deepEqual(await liveness(config, { refresh: refreshToken, access: tokens.access_token }), {
      refresh: false,
      access: false,
    });
    assert.equal((await refusalOf(client.refreshTokenGrant(config, refreshToken))).error, 'invalid_grant');
    const events = await replayEvents(server, userId);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.outcome, 'failure');
    assert.deepEqual(events[0]?.details, { clientId: WEB_APP.client_id, grantRevoked: true });
  });

  test(`an expired code replayed by another client revokes nothing; its own client's replay then does (${label})`, async () => {
    const server = serverOf();
    const { config, callback, checks, code, tokens, refreshToken, userId } = await redeemedCode(
      server,
      `late-replay-other-${label}@example.com`,
    );
    await pastExpiry(server, code);
    await afterExpiry(code);
    const other = await discover(server, OTHER_APP);
    const stolen = await refusalOf(
      client.authorizationCodeGrant(other, callback, {
        pkceCodeVerifier: checks.pkceCodeVerifier,
        expectedState: checks.expectedState,
      }),
    );
    assert.equal(stolen.error, 'invalid_grant');
    const live = { refresh: refreshToken, access: tokens.access_token };
    assert.deepEqual(await liveness(config, live), { refresh: true, access: true });
    assert.equal((await replayEvents(server, userId)).length, 0, 'not the owner: not a replay');
    // The owner's own replay is one.
    assert.equal(
      (await refusalOf(client.authorizationCodeGrant(config, callback, checks))).error,
      'invalid_grant',
    );
    assert.deepEqual(await liveness(config, live), { refresh: false, access: false });
    assert.equal((await replayEvents(server, userId)).length, 1);
  });
}

describe('OAuth provider: a code replayed after it expired', { concurrency: true }, () => {
  describe('in the database', { concurrency: true }, () => {
    let server: TestServer;
    before(async () => {
      server = await startOAuthGatehouse({ authorizationCodeTtlMs: CODE_TTL_MS });
    });
    after(() => server.close());

    // Pruning runs between redemption and replay: it must leave a consumed code in place.
    replayTests(
      () => server,
      'database',
      async (code) => {
        await server.services.oauth?.pruneExpired();
        assert.ok(
          await server.services.stores.oauthModels.find('AuthorizationCode', sha256(code)),
          'pruning kept the consumed code',
        );
      },
    );
  });

  describe('in Redis', { concurrency: true }, async () => {
    const reason = await redisSkipReason();
    if (reason) {
      test('needs redis', { skip: reason }, () => {});
      return;
    }
    let redis: PrivateRedis;
    let inspect: Redis;
    let server: TestServer;
    before(async () => {
      redis = await startPrivateRedis();
      inspect = await redisClient(redis.url);
      server = await startOAuthGatehouse({ authorizationCodeTtlMs: CODE_TTL_MS }, { redisUrl: redis.url });
    });
    after(async () => {
      inspect?.disconnect();
      await server?.close();
      await redis?.dispose();
    });

    // The code is in Redis, whose own expiry must not have taken a consumed code with it.
    replayTests(
      () => server,
      'redis',
      async (code) => {
        const key = `gatehouse:oauth:m:AuthorizationCode:${sha256(code)}`;
        assert.ok((await inspect.pttl(key)) > 60_000, 'kept past its expiry');
        const rows = await server.services.database.db
          .selectFrom('oauth_models')
          .select('id')
          .where('model', '=', 'AuthorizationCode')
          .execute();
        assert.equal(rows.length, 0, 'not in the database');
      },
    );
  });
});

describe('OAuth provider: a used code presented without its PKCE verifier', () => {
  let server: TestServer;
  before(async () => {
    server = await startOAuthGatehouse();
  });
  after(() => server.close());

  test('is refused and revokes nothing: whoever lifted a used code from a log cannot cut the user off the app', async () => {
    const { config, callback, checks, tokens, refreshToken, userId } = await redeemedCode(
      server,
      'replay-wrong-verifier@example.com',
    );
    const replay = await refusalOf(
      client.authorizationCodeGrant(config, callback, {
        ...checks,
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
      }),
    );
    assert.equal(replay.error, 'invalid_grant');
    assert.deepEqual(await liveness(config, { refresh: refreshToken, access: tokens.access_token }), {
      refresh: true,
      access: true,
    });
    assert.equal((await replayEvents(server, userId)).length, 0);
    // The same code with its verifier is a replay by the redeemer: refused, and the grant goes.
    assert.equal(
      (await refusalOf(client.authorizationCodeGrant(config, callback, checks))).error,
      'invalid_grant',
    );
    assert.deepEqual(await liveness(config, { refresh: refreshToken, access: tokens.access_token }), {
      refresh: false,
      access: false,
    });
    assert.equal((await replayEvents(server, userId)).length, 1);
  });
});
