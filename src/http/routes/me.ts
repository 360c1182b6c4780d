import type { Hono } from 'hono';
import { z } from 'zod';
import { hasUnsafeCharacters } from '../../domain/text.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { requireSession } from '../auth.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { userJson } from '../serializers.ts';
import { userSchema } from './session.ts';

const profileChanges = z
  .object({
    displayName: z
      .string()
      .trim()
      .max(100)
      .refine((v) => !hasUnsafeCharacters(v), 'must not contain control or text-direction characters')
      .nullable(),
  })
  .strict();

export function mountMeRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/me',
      summary: 'Your profile',
      tag: 'Profile',
      auth: true,
      responses: { 200: { description: 'Profile', schema: z.object({ user: userSchema }) } },
    },
    async (c) => {
      const { user } = await requireSession(c);
      return c.json({ user: userJson(user) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'patch',
      path: '/api/v1/me',
      summary: 'Change your profile (display name)',
      tag: 'Profile',
      auth: true,
      body: profileChanges,
      responses: { 200: { description: 'Updated profile', schema: z.object({ user: userSchema }) } },
    },
    async (c, { body }) => {
      const { user, session } = await requireSession(c);
      const displayName = body.displayName === '' ? null : body.displayName;
      const updated = await c.get('services').users.updateProfile(user.id, displayName);
      if (!updated) throw new AppError('not_found', 'No such user.');
      await c.get('services').audit.record(c.get('requestContext'), {
        type: 'profile.updated',
        outcome: 'success',
        userId: user.id,
        sessionId: session.id,
        details: { fields: ['displayName'] },
      });
      return c.json({ user: userJson(updated) });
    },
  );
}
