import type { Clock } from '../../ports/clock.ts';
import type { Counter, CounterWindow } from '../../ports/counter.ts';

/** Keys kept before closed windows are swept and, if still full, the oldest windows dropped. */
const DEFAULT_MAX_KEYS = 100_000;

/**
 * Counters in this process: the limiter of a single node, and the fallback when Redis fails.
 * Time comes from the injected clock, so tests can close windows without sleeping. Memory is
 * bounded: a client rotating keys (IPv6 prefixes, addresses) cannot grow the map without limit;
 * at the cap the windows opened first, the nearest to closing, are dropped.
 */
export class MemoryCounter implements Counter {
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, CounterWindow>();

  constructor(clock: Clock, maxKeys = DEFAULT_MAX_KEYS) {
    this.#clock = clock;
    this.#maxKeys = maxKeys;
  }

  async increment(key: string, windowMs: number): Promise<CounterWindow> {
    return this.incrementNow(key, windowMs);
  }

  incrementNow(key: string, windowMs: number): CounterWindow {
    const now = this.#clock.now();
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      this.#windows.delete(key);
      this.#makeRoom(now);
      window = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, window);
    }
    window.count++;
    return { count: window.count, resetAt: window.resetAt };
  }

  async get(key: string): Promise<CounterWindow | null> {
    const window = this.#windows.get(key);
    if (!window) return null;
    if (window.resetAt <= this.#clock.now()) {
      this.#windows.delete(key);
      return null;
    }
    return { ...window };
  }

  async delete(key: string): Promise<void> {
    this.#windows.delete(key);
  }

  #makeRoom(now: number): void {
    if (this.#windows.size < this.#maxKeys) return;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    // Map iteration follows insertion order: the first keys are the oldest windows.
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break;
      this.#windows.delete(key);
    }
  }
}
