import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { AppEnv } from './app-env.ts';
import { requestLog } from './middleware/request-context.ts';

/**
 * Runs `work` once the response has been handed to the socket, so its cost can never show in
 * this response's timing (work that differs between known and unknown accounts would otherwise
 * reveal which is which). Failures are logged; the caller has already answered.
 */
export function afterResponse(c: Context<AppEnv>, what: string, work: () => Promise<unknown>): void {
  const log = requestLog(c);
  const run = () => {
    work().catch((error: unknown) => log.error({ err: error }, `${what} failed`));
  };
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (outgoing) outgoing.once('finish', run);
  else setImmediate(run);
}
