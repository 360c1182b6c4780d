import type { Hono } from 'hono';
import { z } from 'zod';
import { toActivity } from '../../domain/audit/activity.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { requireSession } from '../auth.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { cursorSchema, pageLimit, readPage } from './audit-page.ts';

const activitySchema = z
  .object({
    id: z.string(),
    time: z.string().describe('UTC, ISO 8601'),
    at: z.number().describe('epoch ms'),
    type: z.string(),
    description: z.string(),
    outcome: z.enum(['success', 'failure']),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    device: z.string(),
  })
  .meta({ id: 'ActivityItem' });

/** GET /api/v1/me/activity: the signed-in user's own security events, a safe subset of fields. */
export function mountActivityRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/me/activity',
      summary: 'Your security activity (sign-ins, passkeys, sessions…), newest first',
      tag: 'Profile',
      auth: true,
      query: z.object({ cursor: cursorSchema, limit: pageLimit(100, 20) }).strict(),
      responses: {
        200: {
          description: 'One page of your events',
          schema: z.object({ events: z.array(activitySchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const { user } = await requireSession(c);
      const page = await readPage(query.limit, (limit) =>
        c.get('services').stores.audit.list({ userId: user.id, beforeSeq: query.cursor, limit }),
      );
      return c.json({
        events: page.items.map((event) => ({
          ...toActivity(event),
          time: new Date(event.at).toISOString(),
        })),
        nextCursor: page.nextCursor,
      });
    },
  );
}
