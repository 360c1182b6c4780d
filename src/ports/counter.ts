/**
 * Fixed-window counters for rate limiting (DESIGN §2: Redis when configured, process memory
 * otherwise). A window opens with the first increment of a key and the key is gone when it
 * closes, so nothing a client does can keep a counter alive forever.
 */
export interface CounterWindow {
  /** Increments seen in the current window. */
  count: number;
  /** When the window closes (UTC epoch ms). */
  resetAt: number;
}

export interface Counter {
  /** Atomically adds one to `key`, opening a window of `windowMs` if none is open. */
  increment(key: string, windowMs: number): Promise<CounterWindow>;
  /**
   * The same, answered at once: only counters in this process have it. The limiter counts every
   * request to a limited endpoint, several times each, and a promise per count was a measurable
   * part of an OAuth token request (bench:oauth).
   */
  incrementNow?(key: string, windowMs: number): CounterWindow;
  /** The open window of `key`, without counting; null when none is open. */
  get(key: string): Promise<CounterWindow | null>;
  /** Closes the window of `key` now (a success ends a run of consecutive failures). */
  delete(key: string): Promise<void>;
}
