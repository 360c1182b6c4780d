import type { Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { FederationOutcome } from '../../domain/federation/federation-service.ts';
import { FederationError } from '../../domain/federation/http.ts';
import type { UpstreamProvider } from '../../domain/federation/providers.ts';
import { AppError } from '../../errors/app-error.ts';
import type { FederatedIdentityRecord } from '../../ports/federated-identity-store.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { currentSession, requireSession, startSession } from '../auth.ts';
import { readCookie } from '../cookies.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';

/** The authorization request in flight: state, nonce, PKCE verifier, provider, return address. */
export const FEDERATION_FLOW_COOKIE = '__Host-gatehouse_fed_flow';
/** A provider account waiting to be linked once the matching account's owner signs in. */
export const FEDERATION_LINK_COOKIE = '__Host-gatehouse_fed_link';

/** Query parameter the sign-in and account pages read to say how a federated sign-in went. */
export const FEDERATION_NOTICE_PARAM = 'federation';

/** Only what an authorization response carries (RFC 6749 §4.1.2, RFC 9207, OIDC Core). */
const RESPONSE_PARAMETERS = [
  'code',
  'state',
  'iss',
  'error',
  'error_description',
  'error_uri',
  'session_state',
];
const MAX_PARAMETER_LENGTH = 4096;

/**
 * The exact callback paths that accept a cross-site form POST (Apple's `response_mode=form_post`).
 * crossOriginProtection lets exactly these through: a provider's form POST is cross-site by
 * design. What protects them instead is the flow cookie: its state must match, it is bound to
 * this provider and browser, and it works once.
 */
export function formPostCallbackPaths(providers: readonly UpstreamProvider[]): ReadonlySet<string> {
  return new Set(
    providers.filter((p) => p.responseMode === 'form_post').map((p) => `/auth/${p.id}/callback`),
  );
}

const identitySchema = z
  .object({
    id: z.string(),
    provider: z.string().describe('The configured provider id'),
    providerName: z.string(),
    email: z.string().nullable().describe('The address the provider reported at the last sign-in'),
    emailVerified: z.boolean(),
    createdAt: z.number().describe('epoch ms'),
    lastUsedAt: z.number().nullable().describe('epoch ms'),
  })
  .meta({ id: 'FederatedIdentity' });

function identityJson(
  c: Context<AppEnv>,
  identity: FederatedIdentityRecord,
): z.output<typeof identitySchema> {
  return {
    id: identity.id,
    provider: identity.providerId,
    providerName:
      c.get('services').federation.provider(identity.providerId)?.displayName ?? identity.providerId,
    email: identity.email,
    emailVerified: identity.emailVerified,
    createdAt: identity.createdAt,
    lastUsedAt: identity.lastUsedAt,
  };
}

function noticeUrl(
  path: string,
  notice: string,
  provider: string,
  extra: Record<string, string> = {},
): string {
  return `${path}?${new URLSearchParams({ [FEDERATION_NOTICE_PARAM]: notice, provider, ...extra })}`;
}

/**
 * Browser routes of federation (DESIGN §5): `GET /auth/{provider}` starts, and the provider
 * returns to `GET` (or, for form_post providers, `POST`) `/auth/{provider}/callback`; plus the
 * JSON API for the user's linked identities.
 */
export function mountFederationRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  app.get('/auth/:provider', async (c) => {
    const { federation } = c.get('services');
    const provider = federation.provider(c.req.param('provider'));
    if (!provider) throw new AppError('not_found', 'No such sign-in provider.');
    const linkUserId = c.req.query('intent') === 'link' ? (await requireSession(c)).user.id : null;
    let started: Awaited<ReturnType<typeof federation.start>>;
    try {
      started = await federation.start(
        { providerId: provider.id, redirectTo: c.req.query('redirectTo'), linkUserId },
        c.get('requestContext'),
      );
    } catch (error) {
      if (error instanceof FederationError)
        return c.redirect(await landing(c, error.reason, provider.id), 302);
      throw error;
    }
    setCookie(c, FEDERATION_FLOW_COOKIE, started.flowToken, {
      httpOnly: true,
      secure: true,
      path: '/',
      // A form_post provider returns by a cross-site POST, on which browsers send no
      // SameSite=Lax cookie; such a flow cookie must be SameSite=None (and so Secure) or the
      // callback could never find its state. Everyone else returns by a top-level GET, which
      // carries Lax cookies, so theirs stays Lax.
      sameSite: provider.responseMode === 'form_post' ? 'None' : 'Lax',
      maxAge: Math.floor((started.flow.expiresAt - c.get('services').clock.now()) / 1000),
    });
    return c.redirect(started.authorizationUrl, 302);
  });

  app.get('/auth/:provider/callback', (c) => callback(c, new URL(c.req.url).searchParams, null));

  app.post('/auth/:provider/callback', async (c) => {
    const provider = c.get('services').federation.provider(c.req.param('provider'));
    if (!provider) throw new AppError('not_found', 'No such sign-in provider.');
    // Only form_post providers answer by POST; for anyone else a POST here is not theirs.
    if (provider.responseMode !== 'form_post') throw new AppError('method_not_allowed', 'Use GET.');
    const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded')
      throw new AppError('unsupported_media_type', 'Expected an HTML form post.');
    const form = new URLSearchParams(await c.req.text());
    return callback(c, form, form.get('user'));
  });

  registerIdentityApi(app, registry);
}

async function callback(
  c: Context<AppEnv>,
  received: URLSearchParams,
  appleUser: string | null,
): Promise<Response> {
  const services = c.get('services');
  const provider = services.federation.provider(c.req.param('provider') ?? '');
  if (!provider) throw new AppError('not_found', 'No such sign-in provider.');
  const response = new URLSearchParams();
  for (const name of RESPONSE_PARAMETERS) {
    const value = received.get(name);
    if (value !== null) response.set(name, value.slice(0, MAX_PARAMETER_LENGTH));
  }
  const flowToken = readCookie(c, FEDERATION_FLOW_COOKIE);
  // One callback per flow, whatever happens next.
  deleteCookie(c, FEDERATION_FLOW_COOKIE, { path: '/', secure: true });
  const auth = await currentSession(c);
  let outcome: FederationOutcome;
  try {
    outcome = await services.federation.finish(
      {
        providerId: provider.id,
        response,
        flowToken,
        appleUser,
        session: auth && {
          userId: auth.user.id,
          sessionId: auth.session.id,
          authTime: auth.session.authTime,
        },
      },
      c.get('requestContext'),
    );
  } catch (error) {
    if (!(error instanceof FederationError)) throw error;
    return c.redirect(await landing(c, error.reason, provider.id), 302);
  }
  switch (outcome.kind) {
    case 'signed_in': {
      const issued = await startSession(c, outcome.user.id, outcome.amr);
      // A federated sign-in is one factor: when the factor policy wants the second, the sign-in
      // page asks for it (the half-authenticated session is all this browser holds until then).
      if (issued.session.mfaPending) {
        const query = new URLSearchParams({ step: 'second-factor' });
        if (outcome.redirectTo)
          query.set('redirectTo', services.redirects.toRelativeIfLocal(outcome.redirectTo));
        return c.redirect(`/sign-in?${query}`, 302);
      }
      return c.redirect(outcome.redirectTo ?? '/account', 302);
    }
    case 'linked':
      return c.redirect(outcome.redirectTo ?? noticeUrl('/account', 'linked', provider.id), 302);
    case 'link_required':
      setCookie(c, FEDERATION_LINK_COOKIE, outcome.linkToken, {
        httpOnly: true,
        secure: true,
        path: '/',
        sameSite: 'Lax',
        maxAge: Math.floor((outcome.link.expiresAt - services.clock.now()) / 1000),
      });
      return c.redirect(await landing(c, 'link_required', provider.id, { redirectTo: '/account' }), 302);
  }
}

/**
 * Where the browser goes with a notice: the account page when signed in (the sign-in page
 * would only bounce it there, dropping the notice), else the sign-in page.
 */
async function landing(
  c: Context<AppEnv>,
  notice: string,
  provider: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const signedIn = (await currentSession(c)) !== null;
  return noticeUrl(signedIn ? '/account' : '/sign-in', notice, provider, signedIn ? {} : extra);
}

function registerIdentityApi(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/identities',
      summary: 'Your linked provider accounts ("Sign in with Google" and the like)',
      tag: 'Linked accounts',
      auth: true,
      responses: {
        200: {
          description: 'Linked accounts, oldest first',
          schema: z.object({ identities: z.array(identitySchema) }),
        },
      },
    },
    async (c) => {
      const { user } = await requireSession(c);
      const identities = await c.get('services').federation.list(user.id);
      return c.json({ identities: identities.map((identity) => identityJson(c, identity)) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/api/v1/identities/:id',
      summary: 'Unlink a provider account (refused for your last way to sign in)',
      tag: 'Linked accounts',
      auth: true,
      responses: { 204: { description: 'Unlinked' } },
    },
    async (c) => {
      const { user } = await requireSession(c);
      await c.get('services').federation.unlink(user, c.req.param('id') ?? '', c.get('requestContext'));
      return c.body(null, 204);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/identities/link',
      summary:
        'Link the provider account waiting in this browser (its verified address matched your account); you must have signed in after it was held back',
      tag: 'Linked accounts',
      auth: true,
      responses: {
        200: {
          description: 'Linked',
          schema: z.object({ identity: identitySchema, redirectTo: z.string().nullable() }),
        },
      },
    },
    async (c) => {
      const { user, session } = await requireSession(c);
      const result = await c.get('services').federation.completeLink(
        {
          linkToken: readCookie(c, FEDERATION_LINK_COOKIE),
          session: { userId: user.id, sessionId: session.id, authTime: session.authTime },
        },
        c.get('requestContext'),
      );
      deleteCookie(c, FEDERATION_LINK_COOKIE, { path: '/', secure: true });
      return c.json({ identity: identityJson(c, result.identity), redirectTo: result.redirectTo });
    },
  );
}
