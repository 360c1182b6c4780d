import type { Context } from 'hono';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import type { AppEnv } from '../app-env.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * The account page's security parts (issue #3): two-step sign-in (authenticator app and
 * recovery codes), change of address, deletion, and the step-up dialog every sensitive action
 * opens when the server answers `step_up_required`. The client is src/http/pages/client/security.ts.
 */
export async function securityPanels(c: Context<AppEnv>, auth: ValidatedSession): Promise<SafeHtml> {
  const status = await c.get('services').mfa.status(auth.user.id);
  return html`<section class="panel" aria-labelledby="two-step-title">
<h2 id="two-step-title">Two-step sign-in</h2>
<p class="panel-intro">With an authenticator app, signing in with email${c.get('services').config.passwords.enabled ? ' or a password' : ''} also asks for a code from your phone. A passkey that checks your fingerprint, face or PIN counts as both steps.</p>
<p id="totp-status" class="value">${
    status.totp
      ? html`<span class="badge badge-ok">On</span> Authenticator app · ${status.recoveryCodesLeft} recovery codes left`
      : html`<span class="badge">Off</span>`
  }</p>
<div class="actions">${
    status.totp
      ? html`<button type="button" id="recovery-new" class="button button-secondary">New recovery codes</button>
<button type="button" id="totp-remove" class="button button-danger">Remove authenticator app</button>`
      : html`<button type="button" id="totp-start" class="button button-primary">Set up authenticator app</button>`
  }</div>
<div id="totp-enrol" hidden>
<p>Scan this QR code with your authenticator app, or type the key into it.</p>
<img id="totp-qr" class="qr" alt="QR code for your authenticator app" width="200" height="200">
<p>Key: <code id="totp-secret" class="secret"></code></p>
<form id="totp-confirm-form" class="form" novalidate>
<div class="field">
<label for="totp-code">Code from the app</label>
<input id="totp-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" class="code-input" required>
</div>
<button type="submit" class="button button-primary">Turn on</button>
</form>
</div>
<div id="recovery-box" hidden>
<p><strong>Your recovery codes.</strong> Each one signs you in once if you lose your phone. Save them somewhere safe now: they are not shown again.</p>
<ol id="recovery-codes" class="codes"></ol>
<button type="button" id="recovery-done" class="button button-secondary">I saved them</button>
</div>
</section>
<section class="panel" aria-labelledby="address-title">
<h2 id="address-title">Change your email address</h2>
<p class="panel-intro">We send a link to the new address; the change happens when you open it. Your current address gets a message with a link to undo it.</p>
<form id="email-change-form" class="form" novalidate>
<div class="field">
<label for="new-email">New email address</label>
<input id="new-email" name="email" type="email" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" maxlength="254" required>
</div>
<button type="submit" class="button button-secondary">Change address</button>
</form>
</section>
<section class="panel" aria-labelledby="delete-title">
<h2 id="delete-title">Delete your account</h2>
<p class="panel-intro">Removes your account, every way to sign in to it, and signs out every device. This cannot be undone.</p>
<div class="actions"><button type="button" id="delete-account" class="button button-danger">Delete my account</button></div>
</section>
${stepUpDialog()}`;
}

/** The re-authentication prompt: a passkey first, an emailed code as the fallback. */
function stepUpDialog(): SafeHtml {
  return html`<dialog id="step-up" class="dialog" aria-labelledby="step-up-title">
<h2 id="step-up-title">Confirm it's you</h2>
<p>This change needs a recent sign-in. Confirm it's you, and it will go ahead.</p>
<p id="step-up-error" class="message message-error" role="alert"></p>
<div class="actions">
<button type="button" id="step-up-passkey" class="button button-primary" hidden>Use a passkey</button>
<button type="button" id="step-up-email" class="button button-secondary">Email me a code</button>
</div>
<form id="step-up-form" class="form" novalidate>
<div class="field" id="step-up-code-field" hidden>
<label for="step-up-code">Code from the email</label>
<input id="step-up-code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" class="code-input">
</div>
<div class="field" id="step-up-totp-field" hidden>
<label for="step-up-totp">Code from your authenticator app</label>
<input id="step-up-totp" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" class="code-input">
</div>
<div class="actions">
<button type="submit" id="step-up-confirm" class="button button-primary" hidden>Confirm</button>
<button type="button" id="step-up-cancel" class="button button-link">Cancel</button>
</div>
</form>
</dialog>`;
}
