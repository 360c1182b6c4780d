import type { Hono } from 'hono';
import { z } from 'zod';
import { publicAuditEvent } from '../../domain/audit/public-event.ts';
import { type AuditEventType, auditEventTypes } from '../../domain/audit/audit-recorder.ts';
import { parseTimeBound } from '../../domain/audit/time-bound.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { requireAdmin } from '../require-admin.ts';
import { cursorSchema, pageLimit, readPage } from './audit-page.ts';

const timeBound = z
  .string()
  .transform((text, context) => {
    const at = parseTimeBound(text);
    if (at === undefined) {
      context.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO 8601 date-time' });
      return z.NEVER;
    }
    return at;
  })
  .optional();

const auditQuery = z
  .object({
    userId: z.string().min(1).max(64).optional().describe('only events of this user'),
    type: z
      .enum(Object.keys(auditEventTypes) as [AuditEventType, ...AuditEventType[]])
      .optional()
      .describe('only events of this type (docs/audit-events.md)'),
    since: timeBound.describe('events at or after this time (epoch ms or ISO 8601)'),
    until: timeBound.describe('events before this time (epoch ms or ISO 8601)'),
    cursor: cursorSchema,
    limit: pageLimit(200, 50),
  })
  // An unknown parameter (a typo such as `user=`) would otherwise return the unfiltered log
  // while the reader believes it is filtered.
  .strict();

const auditEventSchema = z
  .object({
    seq: z.number().describe('position in the log'),
    id: z.string(),
    time: z.string().describe('UTC, ISO 8601'),
    at: z.number().describe('epoch ms'),
    type: z.string(),
    outcome: z.enum(['success', 'failure']),
    userId: z.string().nullable(),
    actorId: z.string().nullable().describe('who acted when not the user (an administrator)'),
    sessionId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    prevHash: z.string().nullable(),
    hash: z.string().nullable(),
  })
  .meta({ id: 'AuditEvent' });

/** GET /api/v1/audit: the audit log, for administrators (adminEmails). */
export function mountAuditRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/audit',
      summary: 'The audit log, newest first (administrators only)',
      tag: 'Audit',
      auth: true,
      query: auditQuery,
      responses: {
        200: {
          description: 'One page of events',
          schema: z.object({ events: z.array(auditEventSchema), nextCursor: z.string().nullable() }),
        },
        403: { description: 'Not an administrator' },
      },
    },
    async (c, { query }) => {
      const { user, session } = await requireAdmin(c);
      const services = c.get('services');
      const filter = { userId: query.userId, type: query.type, since: query.since, until: query.until };
      const page = await readPage(query.limit, (limit) =>
        services.stores.audit.list({ ...filter, beforeSeq: query.cursor, limit }),
      );
      // Reading the log is itself on the record: who looked, and for what.
      await services.audit.record(c.get('requestContext'), {
        type: 'audit.viewed',
        outcome: 'success',
        actorId: user.id,
        sessionId: session.id,
        details: { filter, cursor: query.cursor ?? null, returned: page.items.length },
      });
      return c.json({ events: page.items.map(publicAuditEvent), nextCursor: page.nextCursor });
    },
  );
}
