import type { Context } from 'hono';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import type { AppEnv } from '../app-env.ts';
import { html, type SafeHtml } from './html.ts';
import { lengthHint } from './password-pages.ts';
import { stepUpDialog } from './step-up-dialog.ts';

/**
 * The account page's security parts (issue #3): two-step sign-in (authenticator app and
 * recovery codes), change of address, deletion, and the step-up dialog every sensitive action
 * opens when the server answers `step_up_required`. The client is src/http/pages/client/security.ts.
 */
export async function securityPanels(c: Context<AppEnv>, auth: ValidatedSession): Promise<SafeHtml> {
  const status = await c.get('services').mfa.status(auth.user.id);
  return html`${await passwordPanel(c, auth)}
<section class="panel" aria-labelledby="two-step-title">
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

/**
 * The password panel (passwords on only). With a password: change it (current, new, repeat);
 * the API ends every other session. Without one: the API sets a first password only through a
 * mailed link (the reset flow), which also proves the person still reads the account's mail.
 */
async function passwordPanel(c: Context<AppEnv>, auth: ValidatedSession): Promise<SafeHtml | null> {
  const { config, stores } = c.get('services');
  if (!config.passwords.enabled) return null;
  const hasPassword = (await stores.passwords.find(auth.user.id)) !== undefined;
  if (!hasPassword) {
    return html`<section class="panel" aria-labelledby="password-title">
<h2 id="password-title">Password</h2>
<p class="panel-intro">You have no password: you sign in with a passkey or by email. To add one, we email you a link where you choose it.</p>
<p id="password-set-status" class="message message-status" role="status"></p>
<p id="password-set-error" class="message message-error" role="alert"></p>
<div class="actions"><button type="button" id="password-set" class="button button-secondary" data-email="${auth.user.email}">Email me a link to set a password</button></div>
</section>`;
  }
  const { minLength } = config.passwords;
  return html`<section class="panel" aria-labelledby="password-title">
<h2 id="password-title">Password</h2>
<p class="panel-intro">Changing your password signs out every other device signed in to your account.</p>
<form id="password-change-form" class="form" novalidate data-min-length="${String(minLength)}">
<input type="email" name="username" autocomplete="username" value="${auth.user.email}" hidden>
<div class="field">
<label for="current-password">Current password</label>
<input id="current-password" name="currentPassword" type="password" autocomplete="current-password" maxlength="${config.passwords.maxLength * 4}" aria-describedby="current-password-error">
<p id="current-password-error" class="field-error" hidden></p>
</div>
<div class="field">
<label for="account-new-password">New password</label>
<input id="account-new-password" name="newPassword" type="password" autocomplete="new-password" maxlength="${config.passwords.maxLength * 4}" aria-describedby="account-new-password-help account-new-password-error">
<p id="account-new-password-help" class="help">${lengthHint(minLength)} A few unrelated words work well; very common passwords and ones made of the site's name or your address are refused.</p>
<p id="account-new-password-error" class="field-error" hidden></p>
</div>
<div class="field">
<label for="repeat-password">Repeat the new password</label>
<input id="repeat-password" name="repeatPassword" type="password" autocomplete="new-password" maxlength="${config.passwords.maxLength * 4}" aria-describedby="repeat-password-error">
<p id="repeat-password-error" class="field-error" hidden></p>
</div>
<p id="password-change-status" class="message message-status" role="status"></p>
<p id="password-change-error" class="message message-error" role="alert"></p>
<button type="submit" class="button button-secondary">Change password</button>
</form>
</section>`;
}
