import type { Context } from 'hono';
import { normalizeEmail } from '../../domain/users/email-address.ts';
import type { StoredMessage } from '../../ports/mail.ts';
import type { AppEnv } from '../app-env.ts';
import { errorBody } from '../middleware/errors.ts';
import { timeAgo } from './account.ts';
import type { ClientAssets } from './assets.ts';
import { html, type SafeHtml, trusted } from './html.ts';
import { renderPage } from './layout.ts';
import { escapeHtml } from '../../domain/mail/html.ts';

const LINK = /\bhttps?:\/\/[^\s<>"']+/g;

/**
 * Plain-text mail body with its http(s) links made clickable. The text is escaped first and
 * links are found in the escaped text, so nothing in a message can become markup; only
 * http(s) URLs become links (no `javascript:`).
 */
export function linkify(text: string): SafeHtml {
  const escaped = escapeHtml(text);
  return trusted(escaped.replace(LINK, (url) => `<a href="${url}">${url}</a>`));
}

function messageCard(message: StoredMessage, now: number): SafeHtml {
  const iso = new Date(message.createdAt).toISOString();
  return html`<article class="panel mail" aria-label="${message.subject}">
<header class="mail-head">
<h2 class="mail-subject">${message.subject}</h2>
<p class="item-meta">To <strong>${message.to}</strong> · <time datetime="${iso}" title="${iso}">${timeAgo(message.createdAt, now)}</time></p>
</header>
<pre class="mail-body">${linkify(message.text)}</pre>
</article>`;
}

/**
 * GET /dev/mailbox: development only. Mail sent while no SMTP server is configured lands here,
 * so a first-time user can sign in without setting up mail. It shows everyone's mail, so it
 * exists only while the development mailbox is the transport (which production refuses); with
 * any other transport the path answers 404 like any unknown path.
 */
export async function devMailboxPage(c: Context<AppEnv>, assets: ClientAssets): Promise<Response> {
  const services = c.get('services');
  if (services.mail.transportName !== 'dev-mailbox') return c.json(errorBody('not_found', 'Not found.'), 404);
  const rawTo = c.req.query('to')?.trim() ?? '';
  let to: string | undefined;
  let invalidFilter = false;
  if (rawTo) {
    try {
      to = normalizeEmail(rawTo);
    } catch {
      invalidFilter = true;
    }
  }
  const messages = invalidFilter ? [] : await services.stores.devMailbox.list({ to, limit: 50 });
  const now = services.clock.now();
  const body = html`<div class="page-head">
<div>
<h1>Development mailbox</h1>
<p class="lede">Mail the server sent, newest first. It is kept here because no SMTP server is configured; production never shows this page.</p>
</div>
<a class="button button-secondary" href="/dev/mailbox${to ? `?to=${encodeURIComponent(to)}` : ''}">Refresh</a>
</div>
<form class="form form-inline panel" method="get" action="/dev/mailbox" role="search">
<div class="field">
<label for="to">Show mail for</label>
<input id="to" name="to" type="email" value="${rawTo}" placeholder="name@example.com" autocomplete="off">
</div>
<button type="submit" class="button button-secondary">Filter</button>
${to || invalidFilter ? html`<a href="/dev/mailbox">Show all</a>` : null}
</form>
${invalidFilter ? html`<p class="banner banner-error" role="alert">That is not a valid email address.</p>` : null}
${
  messages.length === 0 && !invalidFilter
    ? html`<p class="empty">No mail yet${to ? html` for ${to}` : null}. Sign in with your email address and the message will appear here.</p>`
    : messages.map((message) => messageCard(message, now))
}`;
  return renderPage(c, assets, { title: 'Development mailbox', page: 'dev-mailbox', body, width: 'wide' });
}
