import type { Context } from 'hono';
import { type AuditEventType, auditEventTypes } from '../../domain/audit/audit-recorder.ts';
import type { AppEnv } from '../app-env.ts';
import { currentSession } from '../auth.ts';
import { oauthClientsPanel } from './admin-clients.ts';
import type { ClientAssets } from './assets.ts';
import { html, type SafeHtml } from './html.ts';
import { messageRegions, renderPage } from './layout.ts';
import { stepUpDialog } from './step-up-dialog.ts';

/**
 * GET /admin (DESIGN §5): the hosted face of the admin API. The page holds no data of its own:
 * its client (src/http/pages/client/admin.ts) reads and changes everything through
 * /api/v1/admin/… and /api/v1/audit, which check the administrator and step-up on every call.
 * The checks here only decide which page to send.
 */
export async function adminPage(c: Context<AppEnv>, assets: ClientAssets): Promise<Response> {
  const auth = await currentSession(c);
  if (!auth) return c.redirect(`/sign-in?${new URLSearchParams({ redirectTo: '/admin' })}`, 302);
  const { admins, oauth } = c.get('services');
  if (!admins.isAdmin(auth.user)) return forbiddenPage(c, assets);
  const body = html`<div class="page-head">
<div>
<h1 id="title">Administration</h1>
<p class="lede">Signed in as <strong>${auth.user.email}</strong></p>
</div>
<a class="button button-secondary" href="/account">Your account</a>
</div>
${messageRegions()}
${usersPanel()}
${auditPanel()}
${oauth ? oauthClientsPanel() : null}
${stepUpDialog()}`;
  return renderPage(c, assets, {
    title: 'Administration',
    page: 'admin',
    body,
    width: 'full',
    accountLink: true,
  });
}

/**
 * One page for every signed-in account that is not an administrator, whatever the reason (not
 * listed in adminEmails, or listed but unverified): it says no more than that, so it cannot be
 * used to learn who the administrators are.
 */
function forbiddenPage(c: Context<AppEnv>, assets: ClientAssets): Response {
  const body = html`<div class="card">
<h1 id="title">Not an administrator</h1>
<p class="lede">This page is for the administrators of this server, and your account is not one of them.</p>
<p class="switch"><a href="/account">Go to your account</a></p>
</div>`;
  c.status(403);
  return renderPage(c, assets, {
    title: 'Not an administrator',
    page: 'admin-forbidden',
    body,
    accountLink: true,
  });
}

function usersPanel(): SafeHtml {
  return html`<section class="panel" aria-labelledby="users-title">
<h2 id="users-title">Users</h2>
<p class="panel-intro">Find an account by its email address. Disabling it signs it out everywhere and revokes every app it allowed; enabling it lets it sign in again, but brings nothing revoked back. Deleting it removes it for good (its audit events stay).</p>
<form id="user-search" class="form form-inline" role="search" novalidate>
<div class="field">
<label for="user-email">Email address</label>
<input id="user-email" name="email" type="email" autocomplete="off" inputmode="email" autocapitalize="none" spellcheck="false" maxlength="320" required>
</div>
<button type="submit" class="button button-secondary">Find</button>
</form>
<div id="user-result"></div>
</section>`;
}

function auditPanel(): SafeHtml {
  const types = (Object.keys(auditEventTypes) as AuditEventType[]).sort();
  return html`<section class="panel" aria-labelledby="audit-title">
<h2 id="audit-title">Audit log</h2>
<p class="panel-intro">Sign-ins, changes and administrative actions, newest first. Reading the log is recorded too.</p>
<form id="audit-filter" class="form filter-grid" novalidate>
<div class="field">
<label for="audit-user">User id</label>
<input id="audit-user" name="userId" type="text" maxlength="64" autocomplete="off" spellcheck="false">
</div>
<div class="field">
<label for="audit-type">Event type</label>
<select id="audit-type" name="type">
<option value="">Any type</option>
${types.map((type) => html`<option value="${type}">${type}</option>`)}
</select>
</div>
<div class="field">
<label for="audit-since">From</label>
<input id="audit-since" name="since" type="datetime-local" aria-describedby="audit-zone">
</div>
<div class="field">
<label for="audit-until">Before</label>
<input id="audit-until" name="until" type="datetime-local" aria-describedby="audit-zone">
</div>
<p id="audit-zone" class="help filter-wide">Times are in your time zone.</p>
<div class="actions filter-wide">
<button type="submit" class="button button-secondary">Show events</button>
<button type="button" id="audit-clear" class="button button-link">Clear filters</button>
</div>
</form>
<div class="table-scroll">
<table id="audit-table" class="table">
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">User</th><th scope="col">Actor</th><th scope="col">IP</th><th scope="col">Details</th></tr></thead>
<tbody id="audit-rows"></tbody>
</table>
</div>
<p id="audit-empty" class="empty" hidden>No events match these filters.</p>
<div class="actions"><button type="button" id="audit-older" class="button button-secondary" hidden>Older events</button></div>
</section>`;
}
