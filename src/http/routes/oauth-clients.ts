import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { oauthClientSchema } from '../../config/oauth-schema.ts';
import {
  ClientAdministration,
  ClientAdministrationError,
  type ClientAdministrator,
} from '../../domain/oauth-provider/client-administration.ts';
import type { OAuthProvider } from '../../domain/oauth-provider/oauth-provider.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { requireAdmin } from '../require-admin.ts';
import { requireRecentAuth } from '../step-up.ts';

/**
 * The admin API for OAuth clients (issue #5): the twin of `gatehouse clients …`, through the same
 * ClientAdministration. Reading needs an administrator; every change also needs a recent
 * authentication (step-up), since a stolen admin cookie that could add a trusted client or read a
 * fresh secret would hand out tokens for every user.
 */

const TAG = 'OAuth clients (admin)';
const BASE = '/api/v1/admin/oauth/clients';

/**
 * The fields of a config-file client (config/oauth-schema.ts), without `client_secret`: the
 * server generates secrets, so none is ever chosen by a person or sent in a request. The
 * profile rules (client-policy.ts) run in the registry with this deployment's policy, and a
 * breach is answered like a schema error.
 */
const clientFields = z.object(oauthClientSchema.shape).omit({ client_secret: true });

const createClientBody = clientFields
  .extend({
    type: z
      .enum(['public', 'confidential'])
      .describe(
        '`confidential` gets a secret (shown once in the answer) unless it uses private_key_jwt; `public` (SPA, native app) none.',
      ),
  })
  .strict();

const adminClientSchema = clientFields
  .extend({
    confidential: z.boolean().describe('authenticates at the token endpoint (a secret or a key)'),
    source: z
      .enum(['config', 'cli'])
      .describe('`config`: declared in the config file, read-only here; `cli`: stored (CLI or this API)'),
  })
  .meta({ id: 'OAuthClient' });

const issuedSchema = z.object({
  client_id: z.string(),
  client_secret: z
    .string()
    .nullable()
    .describe('Shown this once; only its SHA-256 is kept. Null for public and private_key_jwt clients.'),
});

const refusals = {
  403: {
    description: 'Not an administrator (`forbidden`), or no recent authentication (`step_up_required`)',
  },
  404: { description: 'No such client (`not_found`)' },
  409: {
    description:
      '`conflict`: `reason` is `config_client` (declared in the config file: read-only here), `client_exists` or `no_secret`',
  },
} as const;

/** Stable answers for each refusal of ClientAdministration; `reason` names the kind of conflict. */
function toAppError(error: unknown): unknown {
  if (!(error instanceof ClientAdministrationError)) return error;
  switch (error.reason) {
    case 'invalid':
      return new AppError('validation_failed', 'The client breaks the OAuth profile.', {
        extra: { issues: error.problems.map((message) => ({ path: '', message })) },
      });
    case 'not_found':
      return new AppError('not_found', 'No such client.');
    case 'client_exists':
      return new AppError('conflict', 'A client with this id already exists.', {
        extra: { reason: error.reason },
      });
    case 'config_client':
      return new AppError('conflict', 'This client is declared in the config file: change it there.', {
        extra: { reason: error.reason },
      });
    case 'no_secret':
      return new AppError('conflict', 'This client has no secret to rotate (public or private_key_jwt).', {
        extra: { reason: error.reason },
      });
  }
}

/** Step-up on top of admin: an administrator first (403 forbidden), then a recent sign-in. */
async function administrator(c: Context<AppEnv>): Promise<ClientAdministrator> {
  await requireAdmin(c);
  const { user, session } = await requireRecentAuth(c);
  return { context: c.get('requestContext'), actorId: user.id, sessionId: session.id, via: 'api' };
}

export function mountOAuthClientRoutes(
  app: Hono<AppEnv>,
  registry: OpenApiRegistry,
  oauth: OAuthProvider,
): void {
  const services = (c: Context<AppEnv>) => c.get('services');
  const administration = (c: Context<AppEnv>): ClientAdministration =>
    new ClientAdministration(oauth.clients, services(c).stores.oauthModels, services(c).audit);

  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: BASE,
      summary: 'Every OAuth client, from the config file and stored (administrators only); never a secret',
      tag: TAG,
      auth: true,
      responses: {
        200: { description: 'Clients', schema: z.object({ clients: z.array(adminClientSchema) }) },
        403: refusals[403],
      },
    },
    async (c) => {
      await requireAdmin(c);
      return c.json({ clients: await administration(c).list() });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: BASE,
      summary: 'Add an OAuth client (administrators, step-up); a confidential client’s secret is shown once',
      tag: TAG,
      auth: true,
      body: createClientBody,
      responses: {
        201: {
          description: 'Added',
          schema: issuedSchema.extend({ client: adminClientSchema }),
        },
        400: { description: 'Invalid or breaks the profile (`validation_failed` with `issues`)' },
        403: refusals[403],
        409: refusals[409],
      },
    },
    async (c, { body }) => {
      const by = await administrator(c);
      const { type, ...definition } = body;
      const admin = administration(c);
      const issued = await admin.create(definition, type === 'confidential', by).catch((error: unknown) => {
        throw toAppError(error);
      });
      return c.json({ ...issued, client: await admin.get(issued.client_id) }, 201);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: `${BASE}/:clientId`,
      summary: 'One OAuth client (administrators only); never a secret',
      tag: TAG,
      auth: true,
      responses: {
        200: { description: 'The client', schema: z.object({ client: adminClientSchema }) },
        403: refusals[403],
        404: refusals[404],
      },
    },
    async (c) => {
      await requireAdmin(c);
      const client = await administration(c).get(c.req.param('clientId') ?? '');
      if (!client) throw new AppError('not_found', 'No such client.');
      return c.json({ client });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: `${BASE}/:clientId/rotate-secret`,
      summary: 'A new secret for a confidential client, shown once; the old one stops working at once',
      tag: TAG,
      auth: true,
      responses: {
        200: { description: 'The new secret', schema: issuedSchema },
        403: refusals[403],
        404: refusals[404],
        409: refusals[409],
      },
    },
    async (c) => {
      const by = await administrator(c);
      const issued = await administration(c)
        .rotateSecret(c.req.param('clientId') ?? '', by)
        .catch((error: unknown) => {
          throw toAppError(error);
        });
      return c.json(issued);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: `${BASE}/:clientId`,
      summary: 'Remove an OAuth client with every grant, code and token issued to it',
      tag: TAG,
      auth: true,
      responses: {
        204: { description: 'Removed' },
        403: refusals[403],
        404: refusals[404],
        409: refusals[409],
      },
    },
    async (c) => {
      const by = await administrator(c);
      await administration(c)
        .remove(c.req.param('clientId') ?? '', by)
        .catch((error: unknown) => {
          throw toAppError(error);
        });
      return c.body(null, 204);
    },
  );
}
