import type { Redis } from 'ioredis';
import type { Clock } from '../../ports/clock.ts';
import type { Counter, CounterWindow } from '../../ports/counter.ts';

// INCR and the expiry in one script: no other client (or node) can see the key between them,
// and a key found without an expiry gets one, so no counter outlives its window.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

const READ = `
local count = redis.call('GET', KEYS[1])
if not count then return false end
return {tonumber(count), redis.call('PTTL', KEYS[1])}`;

interface CounterScripts {
  gatehouseCounterIncrement(key: string, windowMs: number): Promise<[number, number]>;
  gatehouseCounterRead(key: string): Promise<[number, number] | null>;
}

/** Counters shared by every node through Redis (DESIGN §3: required for more than one node). */
export class RedisCounter implements Counter {
  readonly #redis: Redis & CounterScripts;
  readonly #clock: Clock;
  readonly #prefix: string;

  constructor(redis: Redis, clock: Clock, prefix = 'gatehouse:counter:') {
    // defineCommand loads each script once and calls it by SHA afterwards.
    redis.defineCommand('gatehouseCounterIncrement', { numberOfKeys: 1, lua: INCREMENT });
    redis.defineCommand('gatehouseCounterRead', { numberOfKeys: 1, lua: READ });
    this.#redis = redis as Redis & CounterScripts;
    this.#clock = clock;
    this.#prefix = prefix;
  }

  async increment(key: string, windowMs: number): Promise<CounterWindow> {
    const [count, ttl] = await this.#redis.gatehouseCounterIncrement(this.#prefix + key, windowMs);
    return { count, resetAt: this.#clock.now() + ttl };
  }

  async get(key: string): Promise<CounterWindow | null> {
    const found = await this.#redis.gatehouseCounterRead(this.#prefix + key);
    if (!found) return null;
    const [count, ttl] = found;
    return { count, resetAt: this.#clock.now() + Math.max(0, ttl) };
  }

  async delete(key: string): Promise<void> {
    await this.#redis.del(this.#prefix + key);
  }
}
