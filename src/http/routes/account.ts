import type { Hono } from 'hono';
import { z } from 'zod';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { currentSession } from '../auth.ts';
import { clearHostCookie, SESSION_COOKIE } from '../cookies.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { userJson } from '../serializers.ts';
import { requireRecentAuth } from '../step-up.ts';
import { userSchema } from './session.ts';

const token = z.string().max(200);

/** The account's lifecycle (DESIGN §5): change of address with confirm and revert, deletion. */
export function mountAccountRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/me/email',
      summary: 'Change your address (step-up): a confirmation link goes to the new address',
      tag: 'Profile',
      auth: true,
      body: z.object({ email: z.string().max(320) }).strict(),
      responses: {
        202: {
          description: 'Same answer whether or not the new address already has an account',
          schema: z.object({ status: z.literal('sent'), message: z.string() }),
        },
      },
    },
    async (c, { body }) => {
      const { user } = await requireRecentAuth(c);
      await c.get('services').emailChange.request(user, body.email, c.get('requestContext'));
      return c.json(
        {
          status: 'sent' as const,
          message: 'Check the new address: the change happens when you open the link we sent there.',
        },
        202,
      );
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/me/email/confirm',
      summary: 'Confirm the new address with the mailed token; every other session ends',
      tag: 'Profile',
      auth: false,
      body: z.object({ token }).strict(),
      responses: { 200: { description: 'Changed', schema: z.object({ user: userSchema }) } },
    },
    async (c, { body }) => {
      // The link may be opened in the browser that asked (it stays signed in) or anywhere else
      // (a session of another account there is not the user's, so it cannot be kept by mistake).
      const current = await currentSession(c);
      const user = await c
        .get('services')
        .emailChange.confirm(body.token, current?.session.id ?? null, c.get('requestContext'));
      return c.json({ user: userJson(user) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/me/email/revert',
      summary: 'Undo a change of address from the old address (valid 7 days); signs out everywhere',
      tag: 'Profile',
      auth: false,
      body: z.object({ token }).strict(),
      responses: { 200: { description: 'Reverted', schema: z.object({ status: z.literal('reverted') }) } },
    },
    async (c, { body }) => {
      await c.get('services').emailChange.revert(body.token, c.get('requestContext'));
      clearHostCookie(c, SESSION_COOKIE);
      return c.json({ status: 'reverted' as const });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/api/v1/me',
      summary: 'Delete your account (step-up): credentials and sessions go, audit entries stay',
      tag: 'Profile',
      auth: true,
      responses: { 204: { description: 'Deleted; signed out' } },
    },
    async (c) => {
      const { user } = await requireRecentAuth(c);
      await c.get('services').account.deleteAccount(user, c.get('requestContext'));
      clearHostCookie(c, SESSION_COOKIE);
      return c.body(null, 204);
    },
  );
}
