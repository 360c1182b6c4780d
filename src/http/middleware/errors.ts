import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AppError, type ErrorCode } from '../../errors/app-error.ts';
import type { AppEnv } from '../app-env.ts';
import { requestLog } from './request-context.ts';

/**
 * pg reports a lost connection as a plain Error without a SQLSTATE. A request can meet one on
 * a pooled connection that died in an outage even after the database is back (so the ping
 * below succeeds): still a failure to reach storage, never a 500.
 */
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/** Errors from the database driver mean we cannot check anything: fail closed with 503. */
function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof Error && PG_CONNECTION_LOST.test(error.message)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      '57P01',
      '57P03',
      '08006',
      '08001',
      '08003',
    ].includes(code) || code.startsWith('ERR_SQLITE')
  );
}

async function databaseAnswers(c: Context<AppEnv>): Promise<boolean> {
  try {
    await c.get('services').database.ping();
    return true;
  } catch {
    return false;
  }
}

export function errorBody(
  code: ErrorCode,
  message: string,
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  return { error: { code, message, ...extra } };
}

/**
 * One JSON error shape with stable codes; the public message never carries internals.
 * An unexpected error while the database does not answer is reported as 503: the request
 * failed closed (nothing was authenticated) and retrying later is the right move.
 */
export async function handleError(error: unknown, c: Context<AppEnv>): Promise<Response> {
  const log = requestLog(c);
  if (error instanceof AppError) {
    if (error.detail || error.status >= 500)
      log.warn({ code: error.code, detail: error.detail }, 'request refused');
    return c.json(errorBody(error.code, error.message, error.extra), error.status as 400);
  }
  if (error instanceof HTTPException && error.status === 413) {
    return c.json(errorBody('payload_too_large', 'The request body is too large.'), 413);
  }
  if (isStorageUnavailable(error) || !(await databaseAnswers(c))) {
    log.error({ err: error }, 'storage unavailable');
    return c.json(
      errorBody('unavailable', 'The service is temporarily unavailable. Try again shortly.'),
      503,
    );
  }
  log.error({ err: error }, 'unhandled error');
  return c.json(errorBody('internal_error', 'Something went wrong on our side.'), 500);
}
