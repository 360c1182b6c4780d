/**
 * With Redis configured, the provider's short-lived models live there (issue #5: "and Redis for
 * short-lived models when configured"), end to end with openid-client: the code and the
 * interaction never touch the database, a replayed code is still refused and revokes what it
 * gave, the device flow finds its code by the user code, and when Redis stops the provider goes
 * on with the database. A redis-server of the test's own, so stopping it leaves others alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import * as client from 'openid-client';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { operatorEnv, runCli } from '../support/cli.ts';
import { approveDevice, TV_APP } from '../support/device-flow.ts';
import { TestClient } from '../support/http-client.ts';
import {
  authorizationRequest,
  authorizedCode,
  CALLBACK,
  type ClientSetup,
  CLIENTS,
  discover,
  oauthSettings,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import { type PrivateRedis, redisClient, redisSkipReason, startPrivateRedis } from '../support/redis.ts';
import type { TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

/** The provider's settings, for the server and for the CLI run beside it. */
const SETTINGS = {
  clients: [...CLIENTS, TV_APP],
  // Whole seconds: openid-client waits `interval` between polls.
  deviceFlow: { pollIntervalMs: 1000 },
};

describe('OAuth provider: short-lived models in Redis', async () => {
  const reason = await redisSkipReason();
  if (reason) {
    test('needs redis', { skip: reason }, () => {});
    return;
  }

  let redis: PrivateRedis;
  let inspect: Redis;
  let server: TestServer;
  let agent: TestClient;
  before(async () => {
    redis = await startPrivateRedis();
    inspect = await redisClient(redis.url);
    inspect.on('error', () => {}); // the last test stops the server under it
    server = await startOAuthGatehouse(SETTINGS, { redisUrl: redis.url });
    agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'redis-models@example.com');
  });
  after(async () => {
    inspect?.disconnect();
    await server?.close();
    await redis?.dispose();
  });

  /** Rows of `model` in the database. */
  async function rowsOf(model: string): Promise<number> {
    const rows = await server.services.database.db
      .selectFrom('oauth_models')
      .select('id')
      .where('model', '=', model)
      .execute();
    return rows.length;
  }

  const freshCode = (setup: ClientSetup = WEB_APP) => authorizedCode(server, agent, setup);

  test('codes, interactions and opaque access tokens are kept in Redis, keyed by hash; grants and refresh tokens in the database', async () => {
    // An authorization request parks an interaction while the user answers (here: consent).
    const parked = await authorizationRequest(await discover(server, WEB_APP), {
      scope: 'openid',
      prompt: 'consent',
    });
    const toInteraction = await agent.get(parked.url.pathname + parked.url.search);
    assert.match(toInteraction.headers.get('location') ?? '', /\/interaction\//);
    assert.equal((await inspect.keys('gatehouse:oauth:m:Interaction:*')).length, 1);

    const { config, callback, checks, code } = await freshCode();
    assert.equal(await inspect.exists(`gatehouse:oauth:m:AuthorizationCode:${sha256(code)}`), 1);
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    assert.equal(await inspect.exists(`gatehouse:oauth:m:AccessToken:${sha256(tokens.access_token)}`), 1);
    const dump = JSON.stringify(await inspect.hgetall(`gatehouse:oauth:m:AuthorizationCode:${sha256(code)}`));
    assert.ok(!dump.includes(code), 'the code itself is nowhere in Redis');
    assert.equal(await rowsOf('AuthorizationCode'), 0);
    assert.equal(await rowsOf('Interaction'), 0);
    assert.equal(await rowsOf('AccessToken'), 0);
    assert.ok((await rowsOf('Grant')) > 0);
    assert.ok((await rowsOf('RefreshToken')) > 0);
    // The access token read back from Redis works at the userinfo endpoint.
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck);
    assert.equal(userinfo.sub, tokens.claims()?.sub);
  });

  test('a replayed code is refused and revokes what it gave (the refresh token in the database, the access token in Redis)', async () => {
    const { config, callback, checks } = await freshCode();
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, checks),
      (error: { error?: string }) => error.error === 'invalid_grant',
    );
    assert.equal((await client.tokenIntrospection(config, tokens.refresh_token ?? '')).active, false);
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
    assert.equal(await inspect.exists(`gatehouse:oauth:m:AccessToken:${sha256(tokens.access_token)}`), 0);
  });

  test('device flow: the code the user types finds the device’s record in Redis, which the device then redeems', async () => {
    const tv = await discover(server, TV_APP);
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid offline_access' });
    assert.equal(await inspect.exists(`gatehouse:oauth:m:DeviceCode:${sha256(started.device_code)}`), 1);
    // The provider stores the user code without its dash: the lookup key is the normalized code.
    const typed = started.user_code.replace('-', '');
    assert.equal(await inspect.exists(`gatehouse:oauth:uc:DeviceCode:${typed}`), 1);
    const polling = client.pollDeviceAuthorizationGrant(tv, started);
    polling.catch(() => {}); // awaited below
    const approved = await approveDevice(server, agent, started.user_code);
    assert.equal(approved.stoppedAt?.status ?? 200, 200);
    const tokens = await polling;
    assert.ok(tokens.refresh_token);
    assert.equal(await rowsOf('DeviceCode'), 0);
  });

  test('`gatehouse clients remove` (the CLI, with the server’s configuration) takes the client’s records out of Redis too', async () => {
    const env = operatorEnv(server, oauthSettings(SETTINGS));
    const added = await runCli(
      [
        'clients',
        'add',
        '--id',
        'cli-app',
        '--type',
        'confidential',
        '--redirect-uri',
        CALLBACK,
        '--scope',
        'openid offline_access',
      ],
      env,
    );
    assert.equal(added.status, 0, added.stderr);
    const { client_secret } = JSON.parse(added.stdout) as { client_secret: string };
    const { code } = await freshCode({ client_id: 'cli-app', client_secret });
    assert.equal(await inspect.exists(`gatehouse:oauth:m:AuthorizationCode:${sha256(code)}`), 1);
    assert.equal(await inspect.exists('gatehouse:oauth:client:cli-app'), 1);

    const removed = await runCli(['clients', 'remove', '--id', 'cli-app'], env);
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal(await inspect.exists(`gatehouse:oauth:m:AuthorizationCode:${sha256(code)}`), 0);
    assert.equal(await inspect.exists('gatehouse:oauth:client:cli-app'), 0);
  });

  test('with Redis stopped the provider goes on with the database, and Redis is used again once it is back', async () => {
    await redis.stop();
    try {
      const { config, callback, checks } = await freshCode();
      assert.equal(await rowsOf('AuthorizationCode'), 1, 'the code went to the database');
      const tokens = await client.authorizationCodeGrant(config, callback, checks);
      assert.ok(tokens.refresh_token);
      await assert.rejects(client.authorizationCodeGrant(config, callback, checks), 'still single use');
    } finally {
      await redis.start();
    }
    // ioredis reconnects in the background; the next flow lands in Redis again.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { code } = await freshCode();
      if ((await inspect.exists(`gatehouse:oauth:m:AuthorizationCode:${sha256(code)}`)) === 1) break;
      if (Date.now() > deadline) assert.fail('codes never went back to Redis');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
