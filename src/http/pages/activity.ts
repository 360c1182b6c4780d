import type { ActivityItem } from '../../domain/audit/activity.ts';
import { ago } from './account.ts';
import { html, type SafeHtml } from './html.ts';

/** How many recent events the account page shows; the API pages through the rest. */
export const ACTIVITY_ON_PAGE = 10;

/**
 * The account page's "Recent security activity" list. Every value is escaped by `html`, and
 * the stored strings were already escaped against log injection, so a user agent crafted to
 * look like another line (or to reverse the text) shows as the literal characters it holds.
 */
export function activityFragment(items: ActivityItem[], now: number): SafeHtml {
  if (items.length === 0) return html`<p class="empty" id="activity-empty">No security activity yet.</p>`;
  return html`<ul class="list" id="activity">${items.map(
    (item) => html`
<li class="item" data-event-type="${item.type}">
<div class="item-main">
<p class="item-title">${item.description} ${
      item.outcome === 'success'
        ? html`<span class="badge badge-ok">Succeeded</span>`
        : html`<span class="badge badge-danger">Failed</span>`
    }</p>
<p class="item-meta">${ago(item.at, now)} · ${item.device}${item.ip ? html` · IP ${item.ip}` : null}</p>
</div>
</li>`,
  )}
</ul>`;
}
