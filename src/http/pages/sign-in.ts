import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { currentSession, pendingSession } from '../auth.ts';
import type { ClientAssets } from './assets.ts';
import { html, type SafeHtml } from './html.ts';
import { federationButtons, federationNotice, pendingLinkEmail } from './federation.ts';
import { messageRegions, renderPage } from './layout.ts';
import { passwordOption, secondFactorStep } from './password-pages.ts';

export type SignInMode = 'sign-in' | 'sign-up';

/**
 * The `redirectTo` a page may pass on, checked with the same policy the API applies: a page must
 * never become an open redirect, and showing the refusal up front beats a failed sign-in later.
 */
export function checkedRedirect(c: Context<AppEnv>): {
  target: string | null;
  absolute: string | null;
  refused: boolean;
} {
  const raw = c.req.query('redirectTo');
  if (raw === undefined || raw === '') return { target: null, absolute: null, refused: false };
  const { redirects } = c.get('services');
  const absolute = redirects.resolve(raw);
  if (!absolute) return { target: null, absolute: null, refused: true };
  return { target: redirects.toRelativeIfLocal(absolute), absolute, refused: false };
}

function withRedirect(path: string, target: string | null): string {
  return target ? `${path}?${new URLSearchParams({ redirectTo: target })}` : path;
}

/** The "create a passkey on this device?" step shown after an email sign-in (progressive adoption). */
export function passkeyOfferStep(): SafeHtml {
  return html`<section id="passkey-offer" class="step" hidden aria-labelledby="offer-title">
<h2 id="offer-title" tabindex="-1">Sign in faster next time</h2>
<p>Create a passkey on this device and sign in with your fingerprint, face or screen lock instead of waiting for an email. It can't be phished or guessed.</p>
<div class="messages-slot"></div>
<div class="actions">
<button type="button" id="offer-create" class="button button-primary">Create a passkey</button>
<button type="button" id="offer-skip" class="button button-secondary">Not now</button>
</div>
</section>`;
}

/**
 * GET /sign-in and /sign-up: one flow for both ("continue with email" signs in or signs up).
 * Passkeys three ways: autofill on the email field (conditional mediation), a button that opens
 * the browser's passkey prompt, and the offer to create one after an email sign-in.
 */
export async function signInPage(
  c: Context<AppEnv>,
  assets: ClientAssets,
  mode: SignInMode,
): Promise<Response> {
  const { target, absolute, refused } = checkedRedirect(c);
  // reauth=1: the OAuth provider needs a fresh sign-in (prompt=login, max_age), so a signed-in
  // visitor sees the form instead of being sent straight back (src/http/pages/interaction.ts).
  if (c.req.query('reauth') !== '1' && (await currentSession(c)))
    return c.redirect(absolute ?? '/account', 302);
  // A first factor that came back by redirect (a federated sign-in) and needs the second: the
  // page opens on the second-factor step (the API refuses everything else until it is done).
  const pending = await pendingSession(c);
  const secondFactor = pending
    ? (await c.get('services').factorPolicy.standing(pending.user.id)).secondFactorEnrolled
      ? 'ask'
      : 'enrol'
    : null;
  const { appName, emailAuth } = c.get('services').config;
  const ttlMinutes = Math.round(emailAuth.ttlMs / 60_000);
  // A provider account waits to be linked: the owner signs in with the address it matched.
  const linkEmail = await pendingLinkEmail(c);
  const heading = mode === 'sign-up' ? 'Create your account' : `Sign in to ${appName}`;
  const lede =
    mode === 'sign-up'
      ? 'Enter your email address. We will send you a link and a code to confirm it; no password needed.'
      : 'Use a passkey, or enter your email address and we will send you a sign-in link and code.';
  const body = html`<div class="card">
<section id="step-email" class="step" aria-labelledby="title">
<h1 id="title">${heading}</h1>
<p class="lede">${lede}</p>
${refused ? html`<p class="banner banner-warning">The page that sent you here asked to return to an address that is not allowed, so after signing in you will go to your account.</p>` : null}
${federationNotice(c)}
<div class="messages-slot">${messageRegions()}</div>
<form id="email-form" class="form" novalidate>
<div class="field">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username webauthn" inputmode="email" autocapitalize="none" spellcheck="false" required maxlength="254" aria-describedby="error"${linkEmail ? html` value="${linkEmail}"` : null}>
</div>
<button type="submit" class="button button-primary">Continue with email</button>
</form>
${passwordOption(c, mode)}
<div id="passkey-option" class="passkey-option" hidden>
<p class="divider"><span>or</span></p>
<button type="button" id="passkey-button" class="button button-secondary">Sign in with a passkey</button>
</div>
${federationButtons(c, target)}
<p class="switch">${
    mode === 'sign-up'
      ? html`Already have an account? <a href="${withRedirect('/sign-in', target)}">Sign in</a>`
      : html`New here? <a href="${withRedirect('/sign-up', target)}">Create an account</a>`
  }</p>
</section>
<section id="step-code" class="step" hidden aria-labelledby="code-title">
<h2 id="code-title" tabindex="-1">Check your email</h2>
<p>We sent a sign-in link and a 6-digit code to <strong id="code-email"></strong>. Open the link, or enter the code here. It can take a minute to arrive.</p>
<div class="messages-slot"></div>
<form id="code-form" class="form" novalidate>
<div class="field">
<label for="code">6-digit code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="12" required class="code-input" aria-describedby="code-help error">
<p id="code-help" class="help">The code works once, in this browser, for ${ttlMinutes} minutes.</p>
</div>
<button type="submit" class="button button-primary">Sign in</button>
</form>
<div class="actions actions-quiet">
<button type="button" id="resend" class="button button-link">Send a new code</button>
<button type="button" id="change-email" class="button button-link">Use a different email</button>
</div>
</section>
${passkeyOfferStep()}
${secondFactorStep()}
</div>`;
  return renderPage(c, assets, {
    title: mode === 'sign-up' ? 'Create your account' : 'Sign in',
    page: 'sign-in',
    body,
    data: { mode, 'redirect-to': target, 'second-factor': secondFactor },
  });
}

/**
 * GET /email/verify: the landing page of the mailed link. The token travels in the fragment
 * (never sent to any server, so link-scanning proxies cannot see it) and is redeemed only when
 * the person clicks, so a scanner that opens the page does not burn the link.
 */
export function emailVerifyPage(c: Context<AppEnv>, assets: ClientAssets): Response {
  const { appName, emailAuth } = c.get('services').config;
  const ttlMinutes = Math.round(emailAuth.ttlMs / 60_000);
  const body = html`<div class="card">
<section id="step-verify" class="step" aria-labelledby="title">
<h1 id="title">Sign in to ${appName}</h1>
<p class="lede" id="verify-lede">You opened a sign-in link from your email. Continue to sign in on this device.</p>
<div class="messages-slot">${messageRegions()}</div>
<div class="actions">
<button type="button" id="verify-button" class="button button-primary">Sign in</button>
</div>
<p class="switch" id="verify-restart" hidden><a href="/sign-in">Get a new sign-in link</a></p>
</section>
${passkeyOfferStep()}
${secondFactorStep()}
</div>`;
  return renderPage(c, assets, {
    title: 'Sign in',
    page: 'email-verify',
    body,
    data: { 'ttl-minutes': String(ttlMinutes) },
  });
}
