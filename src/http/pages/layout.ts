import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { cspNonce } from '../middleware/security-headers.ts';
import type { ClientAssets } from './assets.ts';
import { html, type Interpolation, type SafeHtml } from './html.ts';

export interface PageOptions {
  /** Shown in the tab, before the product name. */
  title: string;
  /** Selects the client module that runs on this page (body[data-page]). */
  page: string;
  body: SafeHtml;
  /** Extra data-* attributes on <body> for the client; values are escaped. */
  data?: Record<string, string | null | undefined>;
  /** Narrow single-card layout (sign-in), the wider account layout, or full for tables (admin). */
  width?: 'narrow' | 'wide' | 'full';
  /** Whether the header shows a link to the account page. */
  accountLink?: boolean;
}

/**
 * The HTML shell of every hosted page. The only script is the bundle, carrying the
 * per-response CSP nonce; there are no inline handlers or inline scripts, so the CSP needs no
 * 'unsafe-inline'. Pages carry no secrets in their markup beyond the signed-in user's own data,
 * and the default `Cache-Control: no-store` keeps them out of shared caches.
 */
export function renderPage(c: Context<AppEnv>, assets: ClientAssets, options: PageOptions): Response {
  const { config } = c.get('services');
  const nonce = cspNonce(c);
  const script = assets.url(c, 'app.js');
  const style = assets.url(c, 'app.css');
  const data: Interpolation[] = Object.entries(options.data ?? {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => html` data-${key}="${value}"`);
  const missingScript = script
    ? null
    : html`<p class="banner banner-error" role="alert">This page could not load its script, so its buttons will not work. Please try again later.</p>`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex, nofollow">
<title>${options.title} · ${config.appName}</title>
<link rel="icon" href="data:,">
${style ? html`<link rel="stylesheet" href="${style}">` : null}
${script ? html`<script type="module" nonce="${nonce}" src="${script}"></script>` : null}
</head>
<body data-page="${options.page}"${data} class="layout-${options.width ?? 'narrow'}">
<header class="site-header">
<div class="site-header-inner">
<a class="brand" href="${options.accountLink ? '/account' : '/sign-in'}">${config.appName}</a>
</div>
</header>
<main id="main">
${missingScript}
<noscript><p class="banner banner-error">This page needs JavaScript to sign you in. Turn it on and reload.</p></noscript>
${options.body}
</main>
</body>
</html>
`;
  return c.html(page.value);
}

/** The two live regions every interactive page announces through: one polite, one for errors. */
export function messageRegions(): SafeHtml {
  return html`<div class="messages">
<p id="status" class="message message-status" role="status" aria-live="polite"></p>
<p id="error" class="message message-error" role="alert" aria-live="assertive"></p>
</div>`;
}
