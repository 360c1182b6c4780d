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
import { stepUpRequirement } from '../step-up.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { ClientAssets } from './assets.ts';
import { html, type SafeHtml } from './html.ts';
import { messageRegions, renderPage } from './layout.ts';
import { stepUpDialog } from './step-up-dialog.ts';

/**
 * The provider's login and consent steps as Gatehouse pages (DESIGN §5 `/consent`):
 * GET /interaction/{uid}: signed out → /sign-in and back here; signed in and recently and
 * strongly enough for prompt=login, max_age and acr_values → the login step finishes at once;
 * signed in but not enough → "Confirm it's you" (step-up, then this page again); consent → the
 * consent page, unless the client is trusted or the user already granted what it asks (the
 * provider skips it then).
 * POST /interaction/{uid}/consent: the consent page's Allow / Deny, answered with where to go next.
 * POST /interaction/{uid}/abandon: the confirmation's Cancel, likewise.
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

function signInFirst(c: Context<AppEnv>, uid: string): Response {
  return c.redirect(`/sign-in?${new URLSearchParams({ redirectTo: `${INTERACTION_PATH}/${uid}` })}`, 303);
}

/**
 * prompt=login, max_age or acr_values asked for more than the signed-in session: the user
 * re-authenticates by step-up (the same prompt and /api/v1/reauth/… as a sensitive change on
 * /account), which issues a new session; the page then loads this interaction again and the
 * login step finishes. A stronger class (acr_values=phr) admits only a passkey. Someone else
 * at the keyboard can still switch accounts through the full sign-in page.
 */
async function reauthenticationPage(
  c: Context<AppEnv>,
  assets: ClientAssets,
  view: InteractionView,
  auth: ValidatedSession,
  passkeyOnly: boolean,
): Promise<Response> {
  const requirement = await stepUpRequirement(c, auth, passkeyOnly ? ['pop'] : []);
  const switchAccount = `/sign-in?${new URLSearchParams({ redirectTo: `${INTERACTION_PATH}/${view.uid}`, reauth: '1' })}`;
  const body = html`<div class="card">
<section class="step" aria-labelledby="title">
<h1 id="title">Confirm it's you</h1>
<p class="lede"><strong>${view.clientName}</strong> asks you to confirm it's you${passkeyOnly ? html` <strong>with a passkey</strong>` : null} before it continues. Signed in as <strong>${auth.user.email}</strong>.</p>
${passkeyOnly && !requirement.methods.includes('passkey') ? html`<p class="banner banner-warning" id="reauth-no-passkey">Your account has no passkey yet. Add one on your account page, then start again from the app.</p>` : null}
<div class="messages-slot">${messageRegions()}</div>
<div class="actions">
<button type="button" id="reauth-continue" class="button button-primary">Continue</button>
<button type="button" id="reauth-cancel" class="button button-secondary">Cancel</button>
</div>
<p class="switch">Not ${auth.user.email}? <a href="${switchAccount}">Sign in with another account</a></p>
</section>
</div>
${stepUpDialog()}`;
  return renderPage(c, assets, {
    title: 'Confirm it’s you',
    page: 'oauth-reauth',
    body,
    data: { uid: view.uid, requirement: JSON.stringify(requirement) },
  });
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
      // Remembers the session the user has now, so only a new one (a sign-in or a step-up)
      // counts for prompt=login; the first visit records it, later ones keep it.
      if (view.signInAfter === null) await oauth.interactions.markSignInRequested(request, response, session);
      if (!auth || !session) return signInFirst(c, view.uid);
      return reauthenticationPage(
        c,
        assets,
        view,
        auth,
        oauth.interactions.wantsStrongerClass(view, session),
      );
    }
    if (!auth) return signInFirst(c, view.uid);
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
      requireJson(c);
      const oauth = providerOf(c);
      const { request, response } = nodeObjects(c);
      const auth = await currentSession(c);
      if (!auth) throw new AppError('unauthenticated', 'Sign in to continue.');
      const view = await currentView(c, oauth, request, response);
      if (view.prompt !== 'consent' || view.accountId !== auth.user.id) throw interactionGone();
      const context = c.get('requestContext');
      const redirectTo =
        body.decision === 'allow'
          ? await oauth.interactions.allow(request, response, view, context)
          : await oauth.interactions.deny(request, response, view, context);
      return c.json({ redirectTo });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: `${INTERACTION_PATH}/:uid/abandon`,
      summary: 'Give up the re-authentication an app asked for (the prompt’s Cancel)',
      tag: 'OAuth',
      auth: true,
      responses: {
        200: {
          description:
            'Where the browser goes next: back to the app with unmet_authentication_requirements (a stronger sign-in was asked for) or access_denied',
          schema: z.object({ redirectTo: z.string() }),
        },
      },
    },
    async (c) => {
      requireJson(c);
      const oauth = providerOf(c);
      const { request, response } = nodeObjects(c);
      const auth = await currentSession(c);
      if (!auth) throw new AppError('unauthenticated', 'Sign in to continue.');
      const view = await currentView(c, oauth, request, response);
      if (view.prompt !== 'login') throw interactionGone();
      const redirectTo = await oauth.interactions.abandon(
        request,
        response,
        view,
        signedIn(auth),
        c.get('requestContext'),
      );
      return c.json({ redirectTo });
    },
  );
}

/** Same rule as the JSON API (middleware/cross-origin.ts), which only covers /api/. */
function requireJson(c: Context<AppEnv>): void {
  if (c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/json')
    throw new AppError(
      'unsupported_media_type',
      'Send the request body as JSON (Content-Type: application/json).',
    );
}

function interactionGone(): AppError {
  return new AppError('invalid_or_expired', 'This sign-in request has expired. Start again from the app.');
}

/** The interaction the cookie names, which must be the one in the path. */
async function currentView(
  c: Context<AppEnv>,
  oauth: OAuthProvider,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<InteractionView> {
  let view: InteractionView;
  try {
    view = await oauth.interactions.details(request, response);
  } catch (error) {
    if (error instanceof InteractionExpiredError) throw interactionGone();
    throw error;
  }
  if (view.uid !== c.req.param('uid')) throw interactionGone();
  return view;
}
