import type { Hono } from 'hono';
import { z } from 'zod';
import { deviceLabel } from '../../domain/sessions/device-label.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { anySession, requireSession } from '../auth.ts';
import { clearHostCookie, SESSION_COOKIE } from '../cookies.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { sessionJson, USER_ID_HEADER, userJson } from '../serializers.ts';
import { requireRecentAuth } from '../step-up.ts';

const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    emailVerified: z.boolean(),
    displayName: z.string().nullable(),
    createdAt: z.number().describe('epoch ms'),
  })
  .meta({ id: 'User' });

const sessionSchema = z
  .object({
    id: z.string(),
    createdAt: z.number(),
    lastSeenAt: z.number(),
    expiresAt: z.number(),
    authTime: z.number(),
    amr: z.array(z.string()),
  })
  .meta({ id: 'Session' });

export const signedInSchema = z.object({ user: userSchema, session: sessionSchema });

const listedSessionSchema = z.object({
  id: z.string(),
  current: z.boolean(),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  device: z.string(),
  amr: z.array(z.string()),
});

/** The caller's own session and the list of all of theirs (DESIGN §5). */
export function mountSessionRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/session',
      summary: 'The signed-in user and the current session',
      tag: 'Sessions',
      auth: true,
      responses: { 200: { description: 'Signed in', schema: signedInSchema } },
    },
    async (c) => {
      const { user, session } = await requireSession(c);
      c.header(USER_ID_HEADER, user.id);
      return c.json({ user: userJson(user), session: sessionJson(session) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/api/v1/session',
      summary: 'Sign out: revokes this session server-side and clears the cookie',
      tag: 'Sessions',
      auth: false,
      responses: { 204: { description: 'Signed out (also when there was no session)' } },
    },
    async (c) => {
      // Half-authenticated sessions too: signing out must end whatever this browser holds.
      const current = await anySession(c);
      if (current) {
        await c.get('services').sessions.end(current.session.id);
        await c.get('services').audit.record(c.get('requestContext'), {
          type: 'sign_out',
          outcome: 'success',
          userId: current.user.id,
          sessionId: current.session.id,
        });
      }
      clearHostCookie(c, SESSION_COOKIE);
      return c.body(null, 204);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/sessions',
      summary: 'Every active session of the signed-in user',
      tag: 'Sessions',
      auth: true,
      responses: {
        200: {
          description: 'Sessions, most recently active first',
          schema: z.object({ sessions: z.array(listedSessionSchema) }),
        },
      },
    },
    async (c) => {
      const { user, session: current } = await requireSession(c);
      const now = c.get('services').clock.now();
      const sessions = (await c.get('services').sessions.list(user.id)).filter(
        (s) => s.expiresAt > now && s.absoluteExpiresAt > now,
      );
      return c.json({
        sessions: sessions.map((s) => ({
          id: s.id,
          current: s.id === current.id,
          createdAt: s.createdAt,
          lastSeenAt: s.lastSeenAt,
          ip: s.ip,
          userAgent: s.userAgent,
          device: deviceLabel(s.userAgent),
          amr: s.amr,
        })),
      });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/api/v1/sessions/:id',
      summary: 'Revoke one of your sessions (takes effect on its next request)',
      tag: 'Sessions',
      auth: true,
      responses: { 204: { description: 'Revoked' } },
    },
    async (c) => {
      const { user, session } = await requireSession(c);
      const id = c.req.param('id') ?? '';
      const revoked = await c.get('services').sessions.revoke(id, user.id);
      if (!revoked) throw new AppError('not_found', 'No such session.');
      await c.get('services').audit.record(c.get('requestContext'), {
        type: id === session.id ? 'sign_out' : 'session.revoked',
        outcome: 'success',
        userId: user.id,
        sessionId: session.id,
        details: { revokedSessionId: id },
      });
      if (id === session.id) clearHostCookie(c, SESSION_COOKIE);
      return c.body(null, 204);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/sessions/revoke-others',
      summary: 'Sign out everywhere else (step-up)',
      tag: 'Sessions',
      auth: true,
      responses: {
        200: { description: 'How many sessions were revoked', schema: z.object({ revoked: z.number() }) },
      },
    },
    async (c) => {
      const { user, session } = await requireRecentAuth(c);
      const revoked = await c.get('services').sessions.revokeOthers(user.id, session.id);
      await c.get('services').audit.record(c.get('requestContext'), {
        type: 'session.revoked_others',
        outcome: 'success',
        userId: user.id,
        sessionId: session.id,
        details: { revoked },
      });
      return c.json({ revoked });
    },
  );
}

export { userSchema };
