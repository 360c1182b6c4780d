import type { Context } from 'hono';
import type { ConnectedApp } from '../../domain/oauth-provider/connected-apps.ts';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import type { AppEnv } from '../app-env.ts';
import { ago } from './account.ts';
import { html, type SafeHtml } from './html.ts';

/** The account page's "Connected apps" list (ASVS 5.0 V10.7.3: review and revoke consent). */
export function connectedAppsFragment(apps: ConnectedApp[], now: number): SafeHtml {
  if (apps.length === 0)
    return html`<p class="empty" id="connected-apps-empty">No apps can access your account.</p>`;
  return html`<ul class="list" id="connected-apps">${apps.map((app) => {
    const permissions = [
      ...app.scopes,
      ...app.resources.flatMap(({ indicator, scopes }) =>
        scopes.map((scope) => `${scope} on ${new URL(indicator).host}`),
      ),
    ];
    return html`
<li class="item" data-client-id="${app.clientId}">
<div class="item-main">
<p class="item-title">${app.clientName}</p>
<p class="item-meta">Allowed ${ago(app.grantedAt, now)}${permissions.length ? html` · ${permissions.join(', ')}` : null}</p>
</div>
<div class="item-actions"><button type="button" class="button button-small button-danger" data-action="disconnect" aria-label="Disconnect ${app.clientName}">Disconnect</button></div>
</li>`;
  })}
</ul>`;
}

export async function connectedAppsHtml(
  c: Context<AppEnv>,
  auth: ValidatedSession,
): Promise<SafeHtml | null> {
  const { oauth, clock } = c.get('services');
  if (!oauth) return null;
  return connectedAppsFragment(await oauth.connectedApps.list(auth.user.id), clock.now());
}

/** The section, only where the OAuth provider is enabled. */
export async function connectedAppsSection(
  c: Context<AppEnv>,
  auth: ValidatedSession,
): Promise<SafeHtml | null> {
  const list = await connectedAppsHtml(c, auth);
  if (!list) return null;
  return html`<section class="panel" aria-labelledby="connected-apps-title">
<h2 id="connected-apps-title">Connected apps</h2>
<p class="panel-intro">Apps you allowed to use your account. Disconnecting one signs it out and it will have to ask again.</p>
<div id="connected-apps-section" data-fragment="connected-apps">${list}</div>
</section>`;
}
