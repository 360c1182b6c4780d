/** Time source, injected so tests can move time (session expiry, challenge lifetimes). */
export interface Clock {
  /** UTC epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
