import type { Counter, CounterWindow } from '../../ports/counter.ts';

export interface FailoverListener {
  /** The shared counters failed; this node now counts in memory. Called once per outage. */
  unavailable(error: unknown): void;
  /** The shared counters answer again and are used from now on. */
  recovered(): void;
}

/** How often a node counting in memory tries the shared counters again. */
const DEFAULT_PROBE_INTERVAL_MS = 1000;

/**
 * Shared counters (Redis) with this process's counters behind them. When the shared store
 * fails, the node keeps limiting with its own counters, so an outage never switches the
 * protection off (a client gains at most one fresh window per node). While degraded, one call
 * a second tries the shared store again; the first that succeeds switches back.
 */
export class FailoverCounter implements Counter {
  readonly #primary: Counter;
  readonly #fallback: Counter;
  readonly #listener: FailoverListener;
  readonly #probeIntervalMs: number;
  #degraded = false;
  #nextProbeAt = 0;

  constructor(
    primary: Counter,
    fallback: Counter,
    listener: FailoverListener,
    probeIntervalMs = DEFAULT_PROBE_INTERVAL_MS,
  ) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#listener = listener;
    this.#probeIntervalMs = probeIntervalMs;
  }

  get degraded(): boolean {
    return this.#degraded;
  }

  increment(key: string, windowMs: number): Promise<CounterWindow> {
    return this.#run((counter) => counter.increment(key, windowMs));
  }

  get(key: string): Promise<CounterWindow | null> {
    return this.#run((counter) => counter.get(key));
  }

  delete(key: string): Promise<void> {
    return this.#run((counter) => counter.delete(key));
  }

  async #run<T>(operation: (counter: Counter) => Promise<T>): Promise<T> {
    // Monotonic process time, not the injectable clock: this is a retry interval for an
    // outage, not a security window, and must advance even when tests freeze the clock.
    const now = performance.now();
    if (this.#degraded && now < this.#nextProbeAt) return operation(this.#fallback);
    try {
      const result = await operation(this.#primary);
      if (this.#degraded) {
        this.#degraded = false;
        this.#listener.recovered();
      }
      return result;
    } catch (error) {
      this.#nextProbeAt = performance.now() + this.#probeIntervalMs;
      if (!this.#degraded) {
        this.#degraded = true;
        this.#listener.unavailable(error);
      }
      return operation(this.#fallback);
    }
  }
}
