import { html, type SafeHtml } from './html.ts';

/**
 * The re-authentication prompt, on every page with sensitive actions (account, admin); its
 * client is src/http/pages/client/step-up.ts, which expects exactly these ids. The client shows only the ways this user has and that can meet
 * the `factors` of the 403 (src/http/pages/client/step-up-methods.ts): a passkey first, then
 * the password and an emailed code, each with the authenticator code when one is set up.
 */
export function stepUpDialog(): SafeHtml {
  return html`<dialog id="step-up" class="dialog" aria-labelledby="step-up-title">
<h2 id="step-up-title">Confirm it's you</h2>
<p>This change needs a recent sign-in. Confirm it's you, and it will go ahead.</p>
<p id="step-up-error" class="message message-error" role="alert"></p>
<div class="actions">
<button type="button" id="step-up-passkey" class="button button-primary" hidden>Use a passkey</button>
<button type="button" id="step-up-password" class="button button-secondary" hidden>Use your password</button>
<button type="button" id="step-up-email" class="button button-secondary" hidden>Email me a code</button>
</div>
<p id="step-up-none" hidden>None of the ways you can sign in on this device is strong enough for this change. Sign out, sign in again, and try once more.</p>
<form id="step-up-form" class="form" novalidate>
<div class="field" id="step-up-code-field" hidden>
<label for="step-up-code">Code from the email</label>
<input id="step-up-code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" class="code-input">
</div>
<div class="field" id="step-up-password-field" hidden>
<label for="step-up-password-input">Your password</label>
<input id="step-up-password-input" type="password" autocomplete="current-password" maxlength="4096">
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
