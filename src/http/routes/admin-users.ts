import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { normalizeEmail } from '../../domain/users/email-address.ts';
import { type UserAdministrator, UserAdministrationError } from '../../domain/users/user-administration.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { requireAdmin } from '../require-admin.ts';
import { userJson } from '../serializers.ts';
import { requireRecentAuth } from '../step-up.ts';
import { userSchema } from './session.ts';

/**
 * The admin API for accounts (issue #5: "disabling a user revokes all grants"): find an account
 * by address, disable it, enable it again. The twin of `gatehouse users …`, through the same
 * UserAdministration. Finding needs an administrator; a change also needs a recent
 * authentication (step-up): a stolen admin cookie must not be enough to lock people out.
 */

const TAG = 'Users (admin)';
const BASE = '/api/v1/admin/users';

const adminUserSchema = userSchema
  .extend({
    disabledAt: z.number().nullable().describe('epoch ms the account was disabled; null while enabled'),
  })
  .meta({ id: 'AdminUser' });

function adminUserJson(user: UserRecord): Record<string, unknown> {
  return { ...userJson(user), disabledAt: user.disabledAt };
}

const refusals = {
  403: {
    description: 'Not an administrator (`forbidden`), or no recent authentication (`step_up_required`)',
  },
  404: { description: 'No such user (`not_found`)' },
} as const;

/** Step-up on top of admin: an administrator first (403 forbidden), then a recent sign-in. */
async function administrator(c: Context<AppEnv>): Promise<UserAdministrator> {
  await requireAdmin(c);
  const { user, session } = await requireRecentAuth(c);
  return { context: c.get('requestContext'), actorId: user.id, sessionId: session.id, via: 'api' };
}

/** An administrator locking themselves out is a mistake, never an intent worth serving. */
function refuseSelf(userId: string, by: UserAdministrator, what: string): void {
  if (userId === by.actorId)
    throw new AppError('conflict', `You cannot ${what} your own account.`, { extra: { reason: 'self' } });
}

function toAppError(error: unknown): unknown {
  return error instanceof UserAdministrationError ? new AppError('not_found', 'No such user.') : error;
}

export function mountAdminUserRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: BASE,
      summary: 'Find an account by email address (administrators only)',
      tag: TAG,
      auth: true,
      query: z.object({ email: z.string().max(320) }).strict(),
      responses: {
        200: {
          description: 'The account with this address, or none',
          schema: z.object({ users: z.array(adminUserSchema) }),
        },
        400: { description: 'Not an email address (`validation_failed`)' },
        403: refusals[403],
      },
    },
    async (c, { query }) => {
      await requireAdmin(c);
      const user = await c.get('services').userAdministration.findByEmail(normalizeEmail(query.email));
      return c.json({ users: user ? [adminUserJson(user)] : [] });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: `${BASE}/:userId/disable`,
      summary:
        'Disable an account (administrators, step-up): signs it out everywhere and revokes its OAuth grants and tokens',
      tag: TAG,
      auth: true,
      responses: {
        200: {
          description: 'Disabled, with what was revoked',
          schema: z.object({
            user: adminUserSchema,
            sessionsRevoked: z.number(),
            oauthRevoked: z.number().describe('OAuth grants, codes, tokens and provider sessions deleted'),
          }),
        },
        403: refusals[403],
        404: refusals[404],
        409: { description: 'An administrator cannot disable their own account (`conflict`, reason `self`)' },
      },
    },
    async (c) => {
      const by = await administrator(c);
      const userId = c.req.param('userId') ?? '';
      refuseSelf(userId, by, 'disable');
      const disabled = await c
        .get('services')
        .userAdministration.disable(userId, by)
        .catch((error: unknown) => {
          throw toAppError(error);
        });
      return c.json({ ...disabled, user: adminUserJson(disabled.user) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: `${BASE}/:userId/enable`,
      summary: 'Enable a disabled account again (administrators, step-up); the user signs in anew',
      tag: TAG,
      auth: true,
      responses: {
        200: { description: 'Enabled', schema: z.object({ user: adminUserSchema }) },
        403: refusals[403],
        404: refusals[404],
      },
    },
    async (c) => {
      const by = await administrator(c);
      const user = await c
        .get('services')
        .userAdministration.enable(c.req.param('userId') ?? '', by)
        .catch((error: unknown) => {
          throw toAppError(error);
        });
      return c.json({ user: adminUserJson(user) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: `${BASE}/:userId`,
      summary:
        'Delete an account (administrators, step-up): credentials, sessions and OAuth grants go; audit entries stay',
      tag: TAG,
      auth: true,
      responses: {
        200: {
          description: 'Deleted, with what it was',
          schema: z.object({
            user: adminUserSchema,
            oauthRevoked: z.number().describe('OAuth grants, codes and tokens deleted'),
          }),
        },
        403: refusals[403],
        404: refusals[404],
        409: { description: 'An administrator cannot delete their own account (`conflict`, reason `self`)' },
      },
    },
    async (c) => {
      const by = await administrator(c);
      const userId = c.req.param('userId') ?? '';
      refuseSelf(userId, by, 'delete');
      const deleted = await c
        .get('services')
        .userAdministration.delete(userId, by)
        .catch((error: unknown) => {
          throw toAppError(error);
        });
      return c.json({ user: adminUserJson(deleted.user), oauthRevoked: deleted.oauthRevoked });
    },
  );
}
