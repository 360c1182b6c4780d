import type { Context } from 'hono';
import { toActivity } from '../../domain/audit/activity.ts';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import { deviceLabel } from '../../domain/sessions/device-label.ts';
import type { PasskeyRecord } from '../../ports/passkey-store.ts';
import type { SessionRecord } from '../../ports/session-store.ts';
import type { AppEnv } from '../app-env.ts';
import { currentSession } from '../auth.ts';
import { errorBody } from '../middleware/errors.ts';
import { ACTIVITY_ON_PAGE, activityFragment } from './activity.ts';
import type { ClientAssets } from './assets.ts';
import { connectedAppsHtml, connectedAppsSection } from './connected-apps.ts';
import { federationNotice, identitiesHtml, linkedAccountsPanel } from './federation.ts';
import { html, type SafeHtml } from './html.ts';
import { messageRegions, renderPage } from './layout.ts';
import { securityPanels } from './security.ts';

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "3 minutes ago": relative times need no time zone, so the server can write them. */
export function timeAgo(at: number, now: number): string {
  const elapsed = now - at;
  if (elapsed < 60_000) return 'just now';
  for (const [unit, ms] of UNITS) {
    if (elapsed >= ms) return relative.format(-Math.floor(elapsed / ms), unit);
  }
  return 'just now';
}

/**
 * An absolute date. The server does not know the reader's time zone, so it writes UTC and the
 * client rewrites every `time[data-local]` in the reader's locale and zone.
 */
function dateTime(at: number): SafeHtml {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}" data-local="date">${iso.slice(0, 10)}</time>`;
}

export function ago(at: number, now: number): SafeHtml {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}" title="${iso.replace('T', ' ').slice(0, 16)} UTC">${timeAgo(at, now)}</time>`;
}

/** How a session was started, in words (RFC 8176 amr values). */
function methodLabel(amr: string[]): string | null {
  // First: the amr of a federated sign-in also carries what the provider reported (say "pwd").
  if (amr.includes('fed')) return 'another provider';
  if (amr.some((value) => value === 'pop' || value === 'hwk' || value === 'swk')) return 'a passkey';
  if (amr.includes('otp')) return 'email';
  if (amr.includes('pwd')) return 'a password';
  return null;
}

function passkeyKind(passkey: PasskeyRecord): string {
  if (passkey.backedUp) return 'Synced passkey';
  if (passkey.deviceType === 'multiDevice') return 'Passkey (can sync)';
  return 'On one device only';
}

export function passkeysFragment(passkeys: PasskeyRecord[], now: number): SafeHtml {
  if (passkeys.length === 0) {
    return html`<p class="empty" id="passkeys-empty">You have no passkeys yet. Add one to sign in with your fingerprint, face or screen lock instead of waiting for an email.</p>`;
  }
  const sorted = [...passkeys].sort((a, b) => a.createdAt - b.createdAt);
  return html`<ul class="list" id="passkeys">${sorted.map(
    (passkey) => html`
<li class="item" data-passkey-id="${passkey.id}">
<div class="item-main">
<p class="item-title" data-role="name">${passkey.name}</p>
<p class="item-meta">${passkeyKind(passkey)} · added ${dateTime(passkey.createdAt)} · ${
      passkey.lastUsedAt === null ? 'never used to sign in' : html`last used ${ago(passkey.lastUsedAt, now)}`
    }</p>
</div>
<div class="item-actions" data-role="actions">
<button type="button" class="button button-small" data-action="rename" aria-label="Rename ${passkey.name}">Rename</button>
<button type="button" class="button button-small button-danger" data-action="remove" aria-label="Remove ${passkey.name}">Remove</button>
</div>
<form class="rename-form" data-role="rename-form" hidden novalidate>
<label for="rename-${passkey.id}">New name for this passkey</label>
<div class="inline-field">
<input id="rename-${passkey.id}" name="name" value="${passkey.name}" maxlength="64" required autocomplete="off">
<button type="submit" class="button button-small button-primary">Save</button>
<button type="button" class="button button-small" data-action="rename-cancel">Cancel</button>
</div>
</form>
</li>`,
  )}
</ul>`;
}

export function sessionsFragment(sessions: SessionRecord[], currentId: string, now: number): SafeHtml {
  const active = sessions
    .filter((s) => s.expiresAt > now && s.absoluteExpiresAt > now)
    // This device first, then most recently active.
    .sort((a, b) => Number(b.id === currentId) - Number(a.id === currentId) || b.lastSeenAt - a.lastSeenAt);
  const others = active.filter((s) => s.id !== currentId).length;
  return html`<ul class="list" id="sessions">${active.map((session) => {
    const device = deviceLabel(session.userAgent);
    const current = session.id === currentId;
    const method = methodLabel(session.amr);
    return html`
<li class="item" data-session-id="${session.id}"${current ? html` data-current="true"` : null}>
<div class="item-main">
<p class="item-title">${device}${current ? html` <span class="badge">This device</span>` : null}</p>
<p class="item-meta">${current ? 'Active now' : html`Active ${ago(session.lastSeenAt, now)}`}${
      session.ip ? html` · IP ${session.ip}` : null
    } · signed in ${dateTime(session.authTime)}${method ? html` with ${method}` : null}</p>
</div>
${
  current
    ? null
    : html`<div class="item-actions"><button type="button" class="button button-small" data-action="revoke" aria-label="Sign out ${device}, active ${timeAgo(session.lastSeenAt, now)}">Sign out</button></div>`
}
</li>`;
  })}
</ul>
${
  others > 0
    ? html`<div class="actions"><button type="button" class="button button-secondary" data-action="revoke-others">Sign out everywhere else</button></div>`
    : html`<p class="help">You are not signed in anywhere else.</p>`
}`;
}

function signInRedirect(c: Context<AppEnv>): Response {
  return c.redirect(`/sign-in?${new URLSearchParams({ redirectTo: '/account' })}`, 302);
}

/** GET /account: profile, passkeys, sessions, sign out. Signed out: to /sign-in and back. */
export async function accountPage(c: Context<AppEnv>, assets: ClientAssets): Promise<Response> {
  const auth = await currentSession(c);
  if (!auth) return signInRedirect(c);
  const { user } = auth;
  const body = html`<div class="page-head">
<div>
<h1 id="title">Your account</h1>
<p class="lede">Signed in as <strong>${user.email}</strong>${
    c.get('services').admins.isAdmin(user)
      ? html` · <a href="/admin" id="admin-link">Administration</a>`
      : null
  }</p>
</div>
<button type="button" id="sign-out" class="button button-secondary">Sign out</button>
</div>
${messageRegions()}
${federationNotice(c)}
<section class="panel" aria-labelledby="profile-title">
<h2 id="profile-title">Profile</h2>
<form id="profile-form" class="form" novalidate>
<div class="field">
<label for="display-name">Display name</label>
<input id="display-name" name="displayName" type="text" value="${user.displayName ?? ''}" maxlength="100" autocomplete="name" aria-describedby="display-name-help">
<p id="display-name-help" class="help">How apps greet you. Leave it empty to use your email address.</p>
</div>
<div class="field">
<p class="label">Email address</p>
<p class="value">${user.email} ${user.emailVerifiedAt !== null ? html`<span class="badge badge-ok">Verified</span>` : html`<span class="badge">Not verified</span>`}</p>
</div>
<button type="submit" class="button button-primary">Save profile</button>
</form>
</section>
<section class="panel" aria-labelledby="passkeys-title">
<h2 id="passkeys-title">Passkeys</h2>
<p class="panel-intro">Sign in with your fingerprint, face, screen lock or a security key. Passkeys can't be phished, and there is nothing to remember.</p>
<div id="passkeys-section" data-fragment="passkeys">${await passkeysHtml(c, auth)}</div>
<div class="actions"><button type="button" id="add-passkey" class="button button-primary" hidden>Add a passkey</button></div>
<p id="no-webauthn" class="help" hidden>This browser can't create passkeys. You can still sign in with email.</p>
</section>
${await linkedAccountsPanel(c, auth)}
<section class="panel" aria-labelledby="sessions-title">
<h2 id="sessions-title">Where you're signed in</h2>
<p class="panel-intro">If you don't recognise a device, sign it out.</p>
<div id="sessions-section" data-fragment="sessions">${await sessionsHtml(c, auth)}</div>
</section>
${await connectedAppsSection(c, auth)}
${await securityPanels(c, auth)}
<section class="panel" aria-labelledby="activity-title">
<h2 id="activity-title">Recent security activity</h2>
<p class="panel-intro">Sign-ins, passkeys and sessions on your account. If something here wasn't you, sign that device out and remove any passkey you don't recognise.</p>
<div id="activity-section">${await activityHtml(c, auth)}</div>
</section>`;
  return renderPage(c, assets, {
    title: 'Your account',
    page: 'account',
    body,
    width: 'wide',
    accountLink: true,
  });
}

async function passkeysHtml(c: Context<AppEnv>, auth: ValidatedSession): Promise<SafeHtml> {
  const { passkeys, clock } = c.get('services');
  return passkeysFragment(await passkeys.list(auth.user), clock.now());
}

async function activityHtml(c: Context<AppEnv>, auth: ValidatedSession): Promise<SafeHtml> {
  const { stores, clock } = c.get('services');
  const events = await stores.audit.list({ userId: auth.user.id, limit: ACTIVITY_ON_PAGE });
  return activityFragment(events.map(toActivity), clock.now());
}

async function sessionsHtml(c: Context<AppEnv>, auth: ValidatedSession): Promise<SafeHtml> {
  const { sessions, clock } = c.get('services');
  return sessionsFragment(await sessions.list(auth.user.id), auth.session.id, clock.now());
}

/**
 * GET /account/fragments/{passkeys|sessions}: one list re-rendered after a change, so the
 * markup has one source (the templates above) and the client never builds HTML from data.
 */
export async function accountFragment(c: Context<AppEnv>): Promise<Response> {
  const auth = await currentSession(c);
  if (!auth) return c.json(errorBody('unauthenticated', 'Sign in to continue.'), 401);
  const name = c.req.param('name');
  if (name === 'passkeys') return c.html((await passkeysHtml(c, auth)).value);
  if (name === 'sessions') return c.html((await sessionsHtml(c, auth)).value);
  if (name === 'identities') return c.html((await identitiesHtml(c, auth)).value);
  if (name === 'connected-apps') {
    const apps = await connectedAppsHtml(c, auth);
    if (apps) return c.html(apps.value);
  }
  return c.json(errorBody('not_found', 'Not found.'), 404);
}
