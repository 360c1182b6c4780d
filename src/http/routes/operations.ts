import type { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requestLog } from '../middleware/request-context.ts';

/** Liveness and readiness for orchestrators. Neither needs or reveals anything secret. */
export function mountOperationsRoutes(app: Hono<AppEnv>): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await c.get('services').database.ping();
      return c.json({ status: 'ready' });
    } catch (error) {
      requestLog(c).warn({ err: error }, 'readiness check failed');
      return c.json({ status: 'unavailable', checks: { database: 'down' } }, 503);
    }
  });
}
