import { DEVICE_CODE_GRANT } from '../../domain/oauth-provider/client-policy.ts';
import { html, type SafeHtml } from './html.ts';

const GRANTS: Array<{ value: string; label: string; checked: boolean }> = [
  { value: 'authorization_code', label: 'Authorization code: people sign in through the app', checked: true },
  { value: 'refresh_token', label: 'Refresh tokens', checked: true },
  { value: 'client_credentials', label: 'Client credentials: a service acting for itself', checked: false },
  { value: DEVICE_CODE_GRANT, label: 'Device code: TVs and command-line tools', checked: false },
];

/**
 * The admin page's OAuth clients panel, rendered only while the provider is on (the API answers
 * 404 otherwise). The list is filled by the client from GET /api/v1/admin/oauth/clients; the
 * form covers the common fields, and anything beyond them (resources, private_key_jwt, trusted)
 * stays with `gatehouse clients add` or the config file.
 */
export function oauthClientsPanel(): SafeHtml {
  return html`<section class="panel" id="clients-panel" aria-labelledby="clients-title">
<h2 id="clients-title">OAuth clients</h2>
<p class="panel-intro">Apps that sign people in through this server. Clients declared in the config file are read-only here: change them in the file.</p>
<div id="clients-list"><p class="empty">Loading…</p></div>
<div id="client-secret-box" class="secret-box" role="region" aria-labelledby="client-secret-title" hidden>
<p id="client-secret-title"><strong>The secret of <code id="client-secret-id"></code></strong>. Copy it into the app's configuration now: it is not shown again, and only a hash of it is kept.</p>
<p><code id="client-secret" class="secret"></code></p>
<button type="button" id="client-secret-done" class="button button-secondary">I saved it</button>
</div>
<h3 class="subhead" id="client-add-title">Add a client</h3>
<form id="client-add" class="form" aria-labelledby="client-add-title" novalidate>
<fieldset class="choices">
<legend class="label">Type</legend>
<label><input type="radio" name="type" value="confidential" checked> Confidential: a server-side app that can keep a secret</label>
<label><input type="radio" name="type" value="public"> Public: a single-page or mobile app, which gets no secret</label>
</fieldset>
<div class="field">
<label for="client-id">Client id</label>
<input id="client-id" name="client_id" type="text" maxlength="128" autocomplete="off" autocapitalize="none" spellcheck="false" required aria-describedby="client-id-help">
<p id="client-id-help" class="help">Letters, digits and <code>. _ ~ -</code></p>
</div>
<div class="field">
<label for="client-name">Name shown on the consent page (optional)</label>
<input id="client-name" name="client_name" type="text" maxlength="100" autocomplete="off">
</div>
<div class="field">
<label for="client-redirects">Redirect URIs</label>
<textarea id="client-redirects" name="redirect_uris" rows="3" autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="client-redirects-help"></textarea>
<p id="client-redirects-help" class="help">One per line, matched exactly (https). Needed for the authorization code grant.</p>
</div>
<fieldset class="choices">
<legend class="label">Grant types</legend>
${GRANTS.map(
  (grant) =>
    html`<label><input type="checkbox" name="grant_types" value="${grant.value}"${grant.checked ? html` checked` : null}> ${grant.label}</label>`,
)}
</fieldset>
<div class="field">
<label for="client-scope">Scope</label>
<input id="client-scope" name="scope" type="text" value="openid" maxlength="1000" autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="client-scope-help">
<p id="client-scope-help" class="help">The scopes the app may ask for, separated by spaces.</p>
</div>
<button type="submit" class="button button-primary">Add client</button>
</form>
</section>`;
}
