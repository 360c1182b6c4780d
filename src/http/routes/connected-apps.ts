import type { Hono } from 'hono';
import { z } from 'zod';
import type { OAuthProvider } from '../../domain/oauth-provider/oauth-provider.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { requireSession } from '../auth.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';

export const connectedAppSchema = z
  .object({
    clientId: z.string(),
    clientName: z.string(),
    scopes: z.array(z.string()).describe('OpenID scopes granted (openid, email, profile, offline_access)'),
    resources: z.array(z.object({ indicator: z.string(), scopes: z.array(z.string()) })),
    grantedAt: z.number().describe('epoch ms'),
  })
  .meta({ id: 'ConnectedApp' });

/** The OAuth grants the user gave and revoking them (DESIGN §5; ASVS 5.0 V10.7.3, V10.4.9). */
export function mountConnectedAppRoutes(
  app: Hono<AppEnv>,
  registry: OpenApiRegistry,
  oauth: OAuthProvider,
): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/connected-apps',
      summary: 'Apps you allowed to access your account',
      tag: 'Connected apps',
      auth: true,
      responses: {
        200: { description: 'Apps, by name', schema: z.object({ apps: z.array(connectedAppSchema) }) },
      },
    },
    async (c) => {
      const { user } = await requireSession(c);
      return c.json({ apps: await oauth.connectedApps.list(user.id) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/api/v1/connected-apps/:clientId',
      summary: 'Disconnect an app: revokes its grants and every token issued under them',
      tag: 'Connected apps',
      auth: true,
      responses: { 204: { description: 'Revoked' } },
    },
    async (c) => {
      const { user, session } = await requireSession(c);
      const clientId = c.req.param('clientId') ?? '';
      if (!(await oauth.connectedApps.revoke(user.id, clientId)))
        throw new AppError('not_found', 'No such connected app.');
      await c.get('services').audit.record(c.get('requestContext'), {
        type: 'oauth.app_revoked',
        outcome: 'success',
        userId: user.id,
        sessionId: session.id,
        details: { clientId },
      });
      return c.body(null, 204);
    },
  );
}
