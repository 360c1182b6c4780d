import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import {
  INTERACTION_PATH,
  type InteractionView,
  type OAuthProvider,
  type SignedInSession,
} from '../../domain/oauth-provider/oauth-provider.ts';
import { InteractionExpiredError } from '../../domain/oauth-provider/interactions.ts';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { currentSession } from '../auth.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { ClientAssets } from './assets.ts';
import { html, type SafeHtml } from './html.ts';
import { messageRegions, renderPage } from './layout.ts';

/**
 * The provider's login and consent steps as Gatehouse pages (DESIGN §5 `/consent`):
 * GET /interaction/{uid}: signed out → /sign-in and back here; signed in (recently enough for
 * prompt=login / max_age) → the login step finishes at once; consent → the consent page, unless
 * the client is trusted or the user already granted what it asks (the provider skips it then).
 * POST /interaction/{uid}/consent: the page's Allow / Deny, answered with where to go next.
 */

/** What a permission means, in words a person can judge (ASVS 5.0 V10.7.2). */
const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your account ID)',
  email: 'See your email address',
  profile: 'See your name',
  offline_access: 'Stay connected while you are not using it',
};

function nodeObjects(c: Context<AppEnv>): { request: IncomingMessage; response: ServerResponse } {
  const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
  if (!env?.incoming || !env.outgoing) throw new AppError('not_found', 'Not found.');
  return { request: env.incoming, response: env.outgoing };
}

function providerOf(c: Context<AppEnv>): OAuthProvider {
  const { oauth } = c.get('services');
  if (!oauth) throw new AppError('not_found', 'Not found.');
  return oauth;
}

function signedIn(auth: ValidatedSession): SignedInSession {
  return {
    sessionId: auth.session.id,
    userId: auth.user.id,
    authTime: auth.session.authTime,
    amr: auth.session.amr,
  };
}

function signInFirst(c: Context<AppEnv>, uid: string, again: boolean): Response {
  const query = new URLSearchParams({ redirectTo: `${INTERACTION_PATH}/${uid}` });
  if (again) query.set('reauth', '1');
  return c.redirect(`/sign-in?${query}`, 303);
}

function expiredPage(c: Context<AppEnv>, assets: ClientAssets): Response {
  const body = html`<div class="card">
<h1 id="title">This sign-in request has expired</h1>
<p class="lede">Go back to the app and start signing in again. If you opened an email link, open it in the browser where you started.</p>
<p class="switch"><a href="/account">Go to your account</a></p>
</div>`;
  c.status(400);
  return renderPage(c, assets, { title: 'Request expired', page: 'interaction-expired', body });
}

function permissionList(view: InteractionView): SafeHtml {
  const items: SafeHtml[] = view.scopes.map((scope) => html`<li>${SCOPE_TEXT[scope] ?? scope}</li>`);
  for (const claim of view.claims) items.push(html`<li>See your ${claim.replace(/_/g, ' ')}</li>`);
  for (const { indicator, scopes } of view.resources) {
    const host = new URL(indicator).host;
    for (const scope of scopes) items.push(html`<li><code>${scope}</code> on ${host}</li>`);
    if (scopes.length === 0) items.push(html`<li>Use ${host} on your behalf</li>`);
  }
  if (items.length === 0)
    return html`<p id="permissions">It asks for nothing you have not allowed before: confirm that you started this sign-in.</p>`;
  return html`<ul class="list permissions" id="permissions">${items}</ul>`;
}

function consentPage(
  c: Context<AppEnv>,
  assets: ClientAssets,
  view: InteractionView,
  email: string,
): Response {
  const returnHost = URL.parse(view.redirectUri)?.host || view.redirectUri;
  const body = html`<div class="card">
<section class="step" aria-labelledby="title">
<h1 id="title">${view.clientName} wants to access your account</h1>
<p class="lede">Signed in as <strong>${email}</strong>. Allow <strong>${view.clientName}</strong> (<code>${view.clientId}</code>) to:</p>
${permissionList(view)}
<p class="help">${view.device ? html`After you choose, go back to your device: it continues on its own.` : html`After you choose, you go back to <strong>${returnHost}</strong>.`} You can disconnect the app at any time from your account page.</p>
<div class="messages-slot">${messageRegions()}</div>
<div class="actions">
<button type="button" id="consent-allow" class="button button-primary">Allow</button>
<button type="button" id="consent-deny" class="button button-secondary">Deny</button>
</div>
</section>
</div>`;
  return renderPage(c, assets, {
    title: `Allow ${view.clientName}?`,
    page: 'consent',
    body,
    data: { uid: view.uid },
  });
}

export function mountInteractionPages(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  const assets = new ClientAssets();

  app.get(`${INTERACTION_PATH}/:uid`, async (c) => {
    const oauth = providerOf(c);
    const { request, response } = nodeObjects(c);
    let view: InteractionView;
    try {
      view = await oauth.interactions.details(request, response);
    } catch (error) {
      if (error instanceof InteractionExpiredError) return expiredPage(c, assets);
      throw error;
    }
    if (view.uid !== c.req.param('uid')) return expiredPage(c, assets);
    const auth = await currentSession(c);
    if (view.prompt === 'login') {
      const session = auth && signedIn(auth);
      if (session && oauth.interactions.recentEnough(view, session))
        return c.redirect(await oauth.interactions.finishLogin(request, response, session), 303);
      await oauth.interactions.markSignInRequested(request, response, session);
      return signInFirst(c, view.uid, session !== null);
    }
    if (!auth) return signInFirst(c, view.uid, false);
    // Consent belongs to the account the provider session logged in: after switching accounts
    // the request starts over (sending this user to sign in would only bring them back here).
    if (auth.user.id !== view.accountId) return expiredPage(c, assets);
    return consentPage(c, assets, view, auth.user.email);
  });

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: `${INTERACTION_PATH}/:uid/consent`,
      summary: 'Answer a consent request (the consent page’s Allow / Deny)',
      tag: 'OAuth',
      auth: true,
      body: z.object({ decision: z.enum(['allow', 'deny']) }).strict(),
      responses: {
        200: {
          description: 'Where the browser goes next (back to the app)',
          schema: z.object({ redirectTo: z.string() }),
        },
      },
    },
    async (c, { body }) => {
      // Same rule as the JSON API (middleware/cross-origin.ts), which only covers /api/.
      if (c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/json')
        throw new AppError(
          'unsupported_media_type',
          'Send the request body as JSON (Content-Type: application/json).',
        );
      const oauth = providerOf(c);
      const { request, response } = nodeObjects(c);
      const auth = await currentSession(c);
      if (!auth) throw new AppError('unauthenticated', 'Sign in to continue.');
      let view: InteractionView;
      try {
        view = await oauth.interactions.details(request, response);
      } catch (error) {
        if (error instanceof InteractionExpiredError)
          throw new AppError(
            'invalid_or_expired',
            'This sign-in request has expired. Start again from the app.',
          );
        throw error;
      }
      if (view.uid !== c.req.param('uid') || view.prompt !== 'consent' || view.accountId !== auth.user.id)
        throw new AppError(
          'invalid_or_expired',
          'This sign-in request has expired. Start again from the app.',
        );
      const context = c.get('requestContext');
      const redirectTo =
        body.decision === 'allow'
          ? await oauth.interactions.allow(request, response, view, context)
          : await oauth.interactions.deny(request, response, view, context);
      return c.json({ redirectTo });
    },
  );
}
