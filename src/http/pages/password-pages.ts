import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { errorBody } from '../middleware/errors.ts';
import type { ClientAssets } from './assets.ts';
import { html, type SafeHtml } from './html.ts';
import { messageRegions, renderPage } from './layout.ts';
import type { SignInMode } from './sign-in.ts';

/**
 * Hosted-page parts for issue #3: the password form on /sign-in and /sign-up (when passwords
 * are on), the second-factor step of every sign-in, and the landing pages of mailed links
 * (confirm a sign-up, reset a password, confirm or undo a change of address).
 */

/** The length part of a new-password hint: the configured minimum, and 15 (NIST's advice) when above it. */
export function lengthHint(minLength: number): string {
  return minLength < 15
    ? `At least ${minLength} characters; 15 or more is better.`
    : `At least ${minLength} characters.`;
}

/** The password form, read together with the page's email field; nothing when passwords are off. */
export function passwordOption(c: Context<AppEnv>, mode: SignInMode): SafeHtml | null {
  const { passwords } = c.get('services').config;
  if (!passwords.enabled) return null;
  const signUp = mode === 'sign-up';
  return html`<form id="password-form" class="form" novalidate>
<div class="field">
<label for="password">${signUp ? 'Choose a password' : 'Password'}</label>
<input id="password" name="password" type="password" autocomplete="${signUp ? 'new-password' : 'current-password'}" maxlength="${passwords.maxLength * 4}" aria-describedby="password-help">
<p id="password-help" class="help">${signUp ? `${lengthHint(passwords.minLength)} A few unrelated words work well.` : 'Or leave it empty and continue with email.'}</p>
</div>
<div class="actions">
<button type="submit" class="button button-secondary">${signUp ? 'Sign up with password' : 'Sign in with password'}</button>
${signUp ? null : html`<button type="button" id="forgot-password" class="button button-link">Forgot password?</button>`}
</div>
</form>`;
}

/** The second step of a sign-in that needs one: authenticator code, or a recovery code. */
export function secondFactorStep(): SafeHtml {
  return html`<section id="step-mfa" class="step" hidden aria-labelledby="mfa-title">
<h2 id="mfa-title" tabindex="-1">Two-step verification</h2>
<p id="mfa-lede">Enter the 6-digit code from your authenticator app.</p>
<div class="messages-slot"></div>
<form id="mfa-form" class="form" novalidate>
<div class="field" id="mfa-code-field">
<label for="mfa-code">Authenticator code</label>
<input id="mfa-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" class="code-input">
</div>
<div class="field" id="mfa-recovery-field" hidden>
<label for="mfa-recovery">Recovery code</label>
<input id="mfa-recovery" name="recoveryCode" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="64">
</div>
<button type="submit" class="button button-primary">Verify</button>
</form>
<div class="actions actions-quiet">
<button type="button" id="mfa-use-recovery" class="button button-link">Use a recovery code</button>
</div>
</section>
${totpEnrolmentStep()}`;
}

/**
 * The second step when the instance requires MFA (`mfa.required`) and the account has no
 * second factor yet: set up an authenticator app now, with the half-authenticated session,
 * which may do nothing else (src/http/routes/mfa.ts). Confirming completes the sign-in; the
 * recovery codes are shown once before the page moves on.
 */
function totpEnrolmentStep(): SafeHtml {
  return html`<section id="step-enrol" class="step" hidden aria-labelledby="enrol-title">
<h2 id="enrol-title" tabindex="-1">Set up two-step sign-in</h2>
<p>This service asks for a code from an authenticator app at every sign-in, and your account has none yet. Set one up now to finish signing in.</p>
<div class="messages-slot"></div>
<div id="enrol-setup" hidden>
<p>Scan this QR code with your authenticator app, or type the key into it.</p>
<img id="enrol-qr" class="qr" alt="QR code for your authenticator app" width="200" height="200">
<p>Key: <code id="enrol-secret" class="secret"></code></p>
<form id="enrol-form" class="form" novalidate>
<div class="field">
<label for="enrol-code">Code from the app</label>
<input id="enrol-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" class="code-input">
</div>
<button type="submit" class="button button-primary">Turn on and continue</button>
</form>
</div>
<div id="enrol-codes" hidden>
<p><strong>Your recovery codes.</strong> Each one signs you in once if you lose your phone. Save them somewhere safe now: they are not shown again.</p>
<ol id="enrol-recovery-codes" class="codes"></ol>
<div class="actions"><button type="button" id="enrol-done" class="button button-primary">I saved them, continue</button></div>
</div>
<p class="switch" id="enrol-restart" hidden><a href="/sign-in">Start again</a></p>
</section>`;
}

export type TokenPageKind = 'password-confirm' | 'password-reset' | 'email-change' | 'email-revert';

interface TokenPage {
  title: string;
  lede: string;
  button: string;
  endpoint: string;
  done: string;
  /** A new password is typed on this page (reset). */
  password: boolean;
}

const TOKEN_PAGES: Record<TokenPageKind, TokenPage> = {
  'password-confirm': {
    title: 'Confirm your account',
    lede: 'Confirm your address to finish creating your account.',
    button: 'Confirm my account',
    endpoint: '/api/v1/password/sign-up/confirm',
    done: 'Your account is ready.',
    password: false,
  },
  'password-reset': {
    title: 'Choose a new password',
    lede: 'Choose a new password. Every other device signed in to your account will be signed out.',
    button: 'Set new password',
    endpoint: '/api/v1/password/reset',
    done: 'Your password was changed. Sign in with it now.',
    password: true,
  },
  'email-change': {
    title: 'Confirm your new address',
    lede: 'Make this the email address of your account. Your other devices will be signed out.',
    button: 'Use this address',
    endpoint: '/api/v1/me/email/confirm',
    done: 'Your address was changed.',
    password: false,
  },
  'email-revert': {
    title: 'Undo the change of address',
    lede: 'Move your account back to this address and sign out every device, including whoever made the change.',
    button: 'Undo the change',
    endpoint: '/api/v1/me/email/revert',
    done: 'The change was undone and every device was signed out. Sign in again.',
    password: false,
  },
};

/**
 * GET landing page of a mailed link. The token travels in the fragment (no server, proxy or
 * mail scanner sees it) and is used only when the person clicks, so a scanner that opens the
 * link does not burn it (same design as /email/verify).
 */
export function tokenActionPage(c: Context<AppEnv>, assets: ClientAssets, kind: TokenPageKind): Response {
  const page = TOKEN_PAGES[kind];
  if (kind.startsWith('password-') && !c.get('services').config.passwords.enabled) {
    return c.json(errorBody('not_found', 'Not found.'), 404);
  }
  const body = html`<div class="card">
<section id="step-token" class="step" aria-labelledby="title">
<h1 id="title">${page.title}</h1>
<p class="lede">${page.lede}</p>
<div class="messages-slot">${messageRegions()}</div>
<form id="token-form" class="form" novalidate>
${
  page.password
    ? html`<div class="field">
<label for="new-password">New password</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" required aria-describedby="new-password-help">
<p id="new-password-help" class="help">${lengthHint(c.get('services').config.passwords.minLength)} A few unrelated words work well.</p>
</div>`
    : null
}
<button type="submit" id="token-button" class="button button-primary">${page.button}</button>
</form>
<p class="switch" id="token-next" hidden><a href="/sign-in">Go to sign in</a></p>
</section>
${secondFactorStep()}
</div>`;
  return renderPage(c, assets, {
    title: page.title,
    page: 'token-action',
    body,
    data: { endpoint: page.endpoint, done: page.done, kind },
  });
}
