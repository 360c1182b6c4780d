import type { Context } from 'hono';
import type { UpstreamProvider } from '../../domain/federation/providers.ts';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import type { FederatedIdentityRecord } from '../../ports/federated-identity-store.ts';
import type { AppEnv } from '../app-env.ts';
import { readCookie } from '../cookies.ts';
import { FEDERATION_LINK_COOKIE, FEDERATION_NOTICE_PARAM } from '../routes/federation.ts';
import { ago } from './account.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * The federation pieces of the hosted pages: "Continue with …" buttons, the notice after a
 * provider sent the browser back, and the "Linked accounts" panel of /account.
 */

function providerButton(provider: UpstreamProvider, href: string, label: string, small = false): SafeHtml {
  return html`<a class="button button-secondary button-provider${small ? ' button-small' : ''}" href="${href}" data-provider="${provider.id}">${
    provider.icon ? html`<img src="${provider.icon}" alt="" width="20" height="20">` : null
  }${label}</a>`;
}

/** "Continue with Google" and friends; the return address travels along, already checked. */
export function federationButtons(c: Context<AppEnv>, target: string | null): SafeHtml | null {
  const { providers } = c.get('services').federation;
  if (providers.length === 0) return null;
  const query = target ? `?${new URLSearchParams({ redirectTo: target })}` : '';
  return html`<div class="provider-options">
<p class="divider"><span>or</span></p>
${providers.map((provider) => providerButton(provider, `/auth/${encodeURIComponent(provider.id)}${query}`, `Continue with ${provider.displayName}`))}
</div>`;
}

type Tone = 'error' | 'warning' | 'ok';

/** What each `?federation=` value says. Unknown values say nothing: the text is never reflected. */
const NOTICES: Record<string, { tone: Tone; text: (name: string) => string }> = {
  cancelled: { tone: 'warning', text: (name) => `You cancelled signing in with ${name}.` },
  expired: {
    tone: 'error',
    text: (name) =>
      `Signing in with ${name} took too long, or was started in another browser or tab. Please try again.`,
  },
  failed: {
    tone: 'error',
    text: (name) => `Signing in with ${name} didn't work. Try again, or use another way to sign in.`,
  },
  unavailable: {
    tone: 'error',
    text: (name) =>
      `${name} can't be reached right now. Try again in a moment, or use another way to sign in.`,
  },
  no_email: {
    tone: 'error',
    text: (name) =>
      `${name} didn't share an email address, and every account needs one. Allow access to your email at ${name}, or continue with email.`,
  },
  email_unverified: {
    tone: 'error',
    text: (name) =>
      `${name} hasn't confirmed your email address, so it can't be used here. Confirm it with ${name}, or continue with email.`,
  },
  sign_up_closed: {
    tone: 'error',
    text: (name) => `There is no account for your ${name} account, and sign-up is closed.`,
  },
  already_linked: {
    tone: 'error',
    text: (name) => `That ${name} account is already linked to another account.`,
  },
  linked: { tone: 'ok', text: (name) => `${name} is linked. You can now sign in with it.` },
  link_required: {
    tone: 'warning',
    text: (name) =>
      `An account with your ${name} email address already exists. Sign in to it below with a passkey or email, then confirm linking ${name}.`,
  },
};

const TONE_CLASS: Record<Tone, string> = {
  error: 'banner-error',
  warning: 'banner-warning',
  ok: 'banner-ok',
};

/** The notice after a round trip to a provider, or null. */
export function federationNotice(c: Context<AppEnv>): SafeHtml | null {
  const notice = NOTICES[c.req.query(FEDERATION_NOTICE_PARAM) ?? ''];
  if (!notice) return null;
  const provider = c.get('services').federation.provider(c.req.query('provider') ?? '');
  const text = notice.text(provider?.displayName ?? 'that provider');
  return html`<p class="banner ${TONE_CLASS[notice.tone]}" role="${notice.tone === 'ok' ? 'status' : 'alert'}" id="federation-notice">${text}</p>`;
}

/** The address of the account a pending link in this browser waits for (to prefill sign-in). */
export async function pendingLinkEmail(c: Context<AppEnv>): Promise<string | null> {
  const link = await c.get('services').federation.pendingLink(readCookie(c, FEDERATION_LINK_COOKIE));
  return link?.email ?? null;
}

export function identitiesFragment(
  identities: FederatedIdentityRecord[],
  nameOf: (providerId: string) => string,
  now: number,
): SafeHtml {
  if (identities.length === 0)
    return html`<p class="empty" id="identities-empty">No accounts from other providers are linked.</p>`;
  return html`<ul class="list" id="identities">${identities.map((identity) => {
    const name = nameOf(identity.providerId);
    return html`
<li class="item" data-identity-id="${identity.id}">
<div class="item-main">
<p class="item-title">${name}</p>
<p class="item-meta">${identity.email ?? 'No email address shared'} · ${
      identity.lastUsedAt === null
        ? 'never used to sign in'
        : html`last used ${ago(identity.lastUsedAt, now)}`
    }</p>
</div>
<div class="item-actions"><button type="button" class="button button-small button-danger" data-action="unlink" data-name="${name}" aria-label="Unlink ${name}">Unlink</button></div>
</li>`;
  })}
</ul>`;
}

export async function identitiesHtml(c: Context<AppEnv>, auth: ValidatedSession): Promise<SafeHtml> {
  const { federation, clock } = c.get('services');
  const nameOf = (id: string) => federation.provider(id)?.displayName ?? id;
  return identitiesFragment(await federation.list(auth.user.id), nameOf, clock.now());
}

/**
 * The "Linked accounts" panel: the list with unlink buttons, "Connect" buttons for the
 * configured providers, and the link waiting in this browser (its owner must confirm it).
 * Null when there is nothing to show (no providers and nothing linked).
 */
export async function linkedAccountsPanel(
  c: Context<AppEnv>,
  auth: ValidatedSession,
): Promise<SafeHtml | null> {
  const { federation } = c.get('services');
  const identities = await federation.list(auth.user.id);
  if (federation.providers.length === 0 && identities.length === 0) return null;
  const pending = await federation.pendingLink(readCookie(c, FEDERATION_LINK_COOKIE));
  const pendingName = pending && (federation.provider(pending.provider)?.displayName ?? pending.provider);
  return html`<section class="panel" aria-labelledby="identities-title">
<h2 id="identities-title">Linked accounts</h2>
<p class="panel-intro">Accounts at other providers you can sign in with.</p>
${
  pending && pending.userId === auth.user.id
    ? html`<div class="banner banner-warning" id="pending-link">
<p>Link your ${pendingName} account (${pending.email}) to this account? You can then sign in with ${pendingName}.</p>
<div class="actions"><button type="button" class="button button-primary" data-action="complete-link">Link ${pendingName}</button></div>
</div>`
    : null
}
<div id="identities-section" data-fragment="identities">${await identitiesHtml(c, auth)}</div>
${
  federation.providers.length > 0
    ? html`<div class="actions">${federation.providers.map((provider) =>
        providerButton(
          provider,
          `/auth/${encodeURIComponent(provider.id)}?intent=link`,
          `Connect ${provider.displayName}`,
          true,
        ),
      )}</div>`
    : null
}
</section>`;
}
