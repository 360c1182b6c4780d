/**
 * One behavioural suite for the Counter port, run against every implementation: process
 * memory and Redis (DESIGN §2 principle 4). Redis windows close in real time, so the suite
 * uses short windows and waits; the memory counter follows the test clock.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Counter } from '../../src/ports/counter.ts';
import { MemoryCounter } from '../../src/storage/memory/memory-counter.ts';
import { openRedis } from '../../src/storage/redis/open-redis.ts';
import { RedisCounter } from '../../src/storage/redis/redis-counter.ts';
import { redisSkipReason, SHARED_REDIS_URL } from '../support/redis.ts';
import { TestClock } from '../support/server.ts';

interface Opened {
  counter: Counter;
  clock: TestClock;
  /** Lets `ms` pass for the counter (moves the clock; Redis also waits it out). */
  pass(ms: number): Promise<void>;
  /** A second node on the same store (memory: the same instance, as there is only one node). */
  otherNode: Counter;
  close(): Promise<void>;
}

interface Target {
  name: string;
  skip(): Promise<string | undefined>;
  open(): Promise<Opened>;
}

/** Redis TTLs tick in real time: allow this much slack when comparing window ends. */
const SLACK_MS = 60;

const targets: Target[] = [
  {
    name: 'memory',
    skip: async () => undefined,
    async open() {
      const clock = new TestClock();
      const counter = new MemoryCounter(clock);
      return {
        counter,
        clock,
        otherNode: counter,
        pass: async (ms) => clock.advance(ms),
        close: async () => {},
      };
    },
  },
  {
    name: 'redis',
    skip: redisSkipReason,
    async open() {
      const clock = new TestClock();
      const prefix = `gatehouse-test:${randomBytes(6).toString('hex')}:`;
      const clients: Redis[] = [await openRedis(SHARED_REDIS_URL), await openRedis(SHARED_REDIS_URL)];
      for (const client of clients) await client.connect();
      const [first, second] = clients as [Redis, Redis];
      return {
        counter: new RedisCounter(first, clock, prefix),
        otherNode: new RedisCounter(second, clock, prefix),
        clock,
        async pass(ms) {
          clock.advance(ms);
          await new Promise((resolve) => setTimeout(resolve, ms));
        },
        async close() {
          const keys = await first.keys(`${prefix}*`);
          if (keys.length) await first.del(...keys);
          for (const client of clients) client.disconnect();
        },
      };
    },
  },
];

for (const target of targets) {
  describe(`Counter [${target.name}]`, async () => {
    const reason = await target.skip();
    if (reason) {
      it(`needs ${target.name}`, { skip: reason }, () => {});
      return;
    }
    let opened: Opened;
    before(async () => {
      opened = await target.open();
    });
    after(() => opened.close());
    const key = () => `k-${randomBytes(6).toString('hex')}`;

    it('counts from 1 and says when the window closes', async () => {
      const { counter, clock } = opened;
      const k = key();
      const first = await counter.increment(k, 10_000);
      assert.equal(first.count, 1);
      assert.ok(first.resetAt <= clock.now() + 10_000 && first.resetAt >= clock.now() + 10_000 - SLACK_MS);
      assert.equal((await counter.increment(k, 10_000)).count, 2);
      assert.equal((await counter.increment(k, 10_000)).count, 3);
    });

    it('is a fixed window: later increments do not extend it, and it closes on time', async () => {
      const { counter, pass } = opened;
      const k = key();
      const opening = await counter.increment(k, 300);
      await pass(150);
      const later = await counter.increment(k, 300);
      assert.equal(later.count, 2);
      assert.ok(Math.abs(later.resetAt - opening.resetAt) <= SLACK_MS, 'same window end');
      await pass(200);
      assert.equal(await counter.get(k), null, 'closed after windowMs');
      assert.equal((await counter.increment(k, 300)).count, 1, 'a new window starts from 1');
    });

    it('get reads without counting; null for a key never counted', async () => {
      const { counter } = opened;
      const k = key();
      assert.equal(await counter.get(k), null);
      await counter.increment(k, 10_000);
      await counter.increment(k, 10_000);
      assert.equal((await counter.get(k))?.count, 2);
      assert.equal((await counter.get(k))?.count, 2);
    });

    it('delete closes the window at once', async () => {
      const { counter } = opened;
      const k = key();
      await counter.increment(k, 10_000);
      await counter.delete(k);
      assert.equal(await counter.get(k), null);
      assert.equal((await counter.increment(k, 10_000)).count, 1);
      await counter.delete(key());
    });

    it('keys are independent', async () => {
      const { counter } = opened;
      const [a, b] = [key(), key()];
      await counter.increment(a, 10_000);
      await counter.increment(a, 10_000);
      assert.equal((await counter.increment(b, 10_000)).count, 1);
    });

    it('concurrent increments are atomic: every caller sees a different count', async () => {
      const { counter, otherNode } = opened;
      const k = key();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? counter : otherNode).increment(k, 10_000)),
      );
      assert.deepEqual(
        results.map((r) => r.count).sort((x, y) => x - y),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
    });

    it('two nodes on the same store share one count', async () => {
      const { counter, otherNode } = opened;
      const k = key();
      await counter.increment(k, 10_000);
      assert.equal((await otherNode.increment(k, 10_000)).count, 2);
      assert.equal((await counter.get(k))?.count, 2);
    });
  });
}

describe('Counter [redis] storage details', async () => {
  const reason = await redisSkipReason();
  if (reason) {
    it('needs redis', { skip: reason }, () => {});
    return;
  }

  it('no key is left without an expiry, even one created by someone else without one', async () => {
    const prefix = `gatehouse-test:${randomBytes(6).toString('hex')}:`;
    const client = await openRedis(SHARED_REDIS_URL);
    await client.connect();
    try {
      const counter = new RedisCounter(client, new TestClock(), prefix);
      await counter.increment('fresh', 5000);
      const ttl = await client.pttl(`${prefix}fresh`);
      assert.ok(ttl > 0 && ttl <= 5000, `ttl ${ttl}`);
      await client.set(`${prefix}immortal`, '7');
      assert.equal((await counter.increment('immortal', 5000)).count, 8);
      assert.ok((await client.pttl(`${prefix}immortal`)) > 0);
      await client.del(`${prefix}fresh`, `${prefix}immortal`);
    } finally {
      client.disconnect();
    }
  });
});

describe('MemoryCounter bounds', () => {
  it('drops the oldest windows past its key cap instead of growing', async () => {
    const clock = new TestClock();
    const counter = new MemoryCounter(clock, 3);
    for (const k of ['a', 'b', 'c']) await counter.increment(k, 10_000);
    await counter.increment('d', 10_000);
    assert.equal(await counter.get('a'), null, 'oldest window dropped');
    assert.equal((await counter.get('d'))?.count, 1);
    clock.advance(10_001);
    for (const k of ['e', 'f', 'g']) await counter.increment(k, 10_000);
    assert.equal((await counter.get('e'))?.count, 1, 'closed windows swept first');
  });
});
