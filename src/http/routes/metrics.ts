import type { Hono } from 'hono';
import { constantTimeEqual } from '../../domain/crypto/secrets.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import type { AppEnv } from '../app-env.ts';
import { errorBody } from '../middleware/errors.ts';

/**
 * `GET /metrics` for Prometheus (docs/operations.md#metrics), mounted only when `metricsToken`
 * is set. The scraper authenticates with `Authorization: Bearer <metricsToken>`: the figures are
 * not secrets, but sign-in and failure rates tell an outsider how an attack is going, and a
 * reverse proxy in front would make "loopback only" meaningless. The token is compared in
 * constant time; it is high-entropy (≥32 characters), so guessing it is not a rate problem.
 */
export function mountMetricsRoute(app: Hono<AppEnv>, metrics: Metrics, token: string): void {
  const expected = `Bearer ${token}`;
  app.get('/metrics', async (c) => {
    const presented = c.req.header('authorization');
    if (!presented || !constantTimeEqual(presented, expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.json(errorBody('unauthenticated', 'Send the metrics token as a Bearer token.'), 401);
    }
    const { body, contentType } = await metrics.render();
    c.header('Cache-Control', 'no-store');
    c.header('Content-Type', contentType);
    return c.body(body);
  });
}
