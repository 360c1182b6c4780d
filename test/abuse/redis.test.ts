/**
 * Counters in Redis: shared by every node, and an outage never removes the protection: each
 * node falls back to its own counters (logged and audited) and returns to Redis when it answers.
 * These tests run their own redis-server, so stopping it leaves the shared one alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { assertRefused, fromIp, limitsOf } from '../support/abuse.ts';
import { TestClient } from '../support/http-client.ts';
import { type PrivateRedis, redisClient, redisSkipReason, startPrivateRedis } from '../support/redis.ts';
import { freePort, startGatehouse, type TestServer } from '../support/server.ts';

const OPTIONS = '/api/v1/passkeys/sign-in/options';

function capturingLog(): { log: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('rate limits on Redis', async () => {
  const reason = await redisSkipReason();
  if (reason) {
    test('needs redis', { skip: reason }, () => {});
    return;
  }

  let redis: PrivateRedis;
  before(async () => {
    redis = await startPrivateRedis();
  });
  after(() => redis.dispose());

  test('two nodes share one count', async () => {
    const config = { redisUrl: redis.url, rateLimits: limitsOf({ perIp: 2 }) };
    const first = await startGatehouse(config);
    const second = await startGatehouse(config);
    try {
      assert.equal((await new TestClient(first.url).post(OPTIONS)).status, 200);
      assert.equal((await new TestClient(second.url).post(OPTIONS)).status, 200);
      assertRefused(await new TestClient(first.url).post(OPTIONS));
      assertRefused(await new TestClient(second.url).post(OPTIONS));
      const client = await redisClient(redis.url);
      const keys = await client.keys('gatehouse:counter:*');
      client.disconnect();
      assert.ok(keys.length > 0, 'the counts live in Redis');
    } finally {
      await first.close();
      await second.close();
    }
  });

  describe('when Redis fails', () => {
    let server: TestServer;
    const { log, lines } = capturingLog();
    const audited = async (type: string) =>
      (await server.services.stores.audit.list({ type, limit: 10 })).length;

    before(async () => {
      server = await startGatehouse(
        { trustedProxies: '127.0.0.1', redisUrl: redis.url, rateLimits: limitsOf({ perIp: 2 }) },
        { log },
      );
    });
    after(() => server.close());

    test('the node keeps limiting with its own counters, and says so once', async () => {
      const ip = fromIp('198.51.100.1');
      const send = () => new TestClient(server.url).post(OPTIONS, {}, ip);
      assert.equal((await send()).status, 200);
      await redis.stop();
      assert.equal((await send()).status, 200, 'a fresh in-memory window');
      assert.equal((await send()).status, 200);
      assertRefused(await send());
      assertRefused(await send());
      assert.equal(await audited('rate_limit.counter_unavailable'), 1, 'audited once per outage');
      assert.equal(lines.filter((line) => /Redis failed/.test(line.msg) && line.level === 50).length, 1);
    });

    test('Redis coming back is picked up again', async () => {
      await redis.start();
      let n = 0;
      await until(async () => {
        await new TestClient(server.url).post(OPTIONS, {}, fromIp(`203.0.113.${++n}`));
        return (await audited('rate_limit.counter_recovered')) === 1;
      }, 'recovery');
      const ip = fromIp('198.51.100.200');
      await new TestClient(server.url).post(OPTIONS, {}, ip);
      const client = await redisClient(redis.url);
      const keys = await client.keys('gatehouse:counter:*');
      client.disconnect();
      assert.ok(keys.length > 0, 'counting in Redis again');
      assert.ok(lines.some((line) => /Redis answers again/.test(line.msg)));
    });
  });

  test('a node whose Redis never answered starts and limits in memory', async () => {
    const closedPort = await freePort();
    const server = await startGatehouse({
      redisUrl: `redis://127.0.0.1:${closedPort}`,
      rateLimits: limitsOf({ perIp: 2 }),
    });
    try {
      assert.equal((await new TestClient(server.url).post(OPTIONS)).status, 200);
      assert.equal((await new TestClient(server.url).post(OPTIONS)).status, 200);
      assertRefused(await new TestClient(server.url).post(OPTIONS));
      assert.equal(
        (await server.services.stores.audit.list({ type: 'rate_limit.counter_unavailable', limit: 5 }))
          .length,
        1,
      );
    } finally {
      await server.close();
    }
  });
});
