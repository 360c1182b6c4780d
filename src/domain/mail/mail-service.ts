import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.ts';
import type { MailMessage, MailOutbox, MailTransport } from '../../ports/mail.ts';
import { randomId, seal, unseal } from '../crypto/secrets.ts';

export interface MailServiceOptions {
  /** Poll interval for due retries (milliseconds). */
  pollMs?: number;
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, capped at one hour. */
  baseBackoffMs?: number;
}

const LEASE_MS = 60_000;
const BATCH = 10;

/**
 * Sending never blocks or fails the request: `enqueue` writes the message (encrypted: sign-in
 * links are secrets at rest) to the outbox and returns; a worker sends it, retrying with
 * exponential backoff, and records failures. The lease in the outbox keeps two workers (or
 * two nodes) from sending one message twice.
 */
export class MailService {
  readonly #outbox: MailOutbox;
  readonly #transport: MailTransport;
  readonly #key: Uint8Array;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #maxAttempts: number;
  readonly #baseBackoffMs: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  constructor(
    outbox: MailOutbox,
    transport: MailTransport,
    key: Uint8Array,
    clock: Clock,
    log: Logger,
    options: MailServiceOptions = {},
  ) {
    this.#outbox = outbox;
    this.#transport = transport;
    this.#key = key;
    this.#clock = clock;
    this.#log = log;
    this.#pollMs = options.pollMs ?? 1000;
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#baseBackoffMs = options.baseBackoffMs ?? 2000;
  }

  get transportName(): string {
    return this.#transport.name;
  }

  async enqueue(message: MailMessage): Promise<void> {
    const sealed = await seal(this.#key, JSON.stringify(message));
    await this.#outbox.enqueue({ id: randomId(), sealed, createdAt: this.#clock.now() });
    this.kick();
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.#pollMs);
    this.#timer.unref();
    this.kick();
  }

  /** Runs a delivery pass now (or right after the current one). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain()
      .catch((error: unknown) => this.#log.error({ err: error }, 'mail worker pass failed'))
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** Stops the worker after the pass in flight; undelivered mail stays in the outbox. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
    await this.#transport.close?.();
  }

  async #drain(): Promise<void> {
    for (;;) {
      const now = this.#clock.now();
      const batch = await this.#outbox.claimDue(now, now + LEASE_MS, BATCH);
      if (batch.length === 0) return;
      for (const item of batch) await this.#deliver(item.id, item.sealed, item.attempts);
      if (this.#stopped) return;
    }
  }

  async #deliver(id: string, sealed: string, attempts: number): Promise<void> {
    try {
      const message = JSON.parse(await unseal(this.#key, sealed)) as MailMessage;
      await this.#transport.send(message);
      await this.#outbox.markSent(id, this.#clock.now());
    } catch (error) {
      const now = this.#clock.now();
      const attempt = attempts + 1;
      const retryAt =
        attempt >= this.#maxAttempts
          ? null
          : now + Math.min(this.#baseBackoffMs * 2 ** (attempt - 1), 3_600_000);
      const reason = error instanceof Error ? error.message : String(error);
      await this.#outbox.markFailed(id, reason, retryAt, now);
      this.#log.warn(
        { mailId: id, attempt, retryAt, reason },
        retryAt ? 'mail delivery failed; will retry' : 'mail delivery gave up',
      );
    }
  }
}
