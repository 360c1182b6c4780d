import type { Hono } from 'hono';
import { z } from 'zod';
import { normalizeEmail } from '../../domain/users/email-address.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';

const messageSchema = z.object({
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  createdAt: z.number(),
});

/**
 * JSON twin of the development mailbox page (DESIGN §5): tests and first-time users read
 * links and codes from it. Mounted only while mail goes to the development mailbox, which
 * production refuses.
 */
export function mountDevMailboxRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/dev/mailbox/messages',
      summary: 'Development only: stored mail, newest first',
      tag: 'Development',
      auth: false,
      query: z.object({
        to: z.string().max(320).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
      responses: { 200: { description: 'Messages', schema: z.array(messageSchema) } },
    },
    async (c, { query }) => {
      const to = query.to ? normalizeEmail(query.to) : undefined;
      const messages = await c.get('services').stores.devMailbox.list({ to, limit: query.limit });
      return c.json(
        messages.map((m) => ({
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          createdAt: m.createdAt,
        })),
      );
    },
  );
}
