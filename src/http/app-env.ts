import type { Logger } from 'pino';
import type { Services } from '../services.ts';
import type { RequestContext } from '../domain/request-context.ts';
import type { ValidatedSession } from '../domain/sessions/session-service.ts';

/** What middleware puts on every request's context. Only `http/` knows about Hono. */
export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
    requestContext: RequestContext;
    /** Per-response CSP nonce, created on first use by cspNonce() (pages only). */
    nonce: string | undefined;
    /** Request-scoped logger, created on first use by requestLog(). */
    log: Logger | undefined;
    /** Memo of the session lookup: undefined = not looked up yet, null = none. */
    auth: ValidatedSession | null | undefined;
  };
}
