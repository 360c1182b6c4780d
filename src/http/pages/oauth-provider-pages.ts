import { hash } from 'node:crypto';
import type { ProviderPages, RenderedPage } from '../../domain/oauth-provider/provider-pages.ts';
import { html, type SafeHtml, trusted } from './html.ts';

/**
 * The pages the OAuth provider answers with itself (errors it cannot send to a client, and
 * RP-initiated logout). They are rendered outside Hono, so they carry their own minimal shell;
 * the CSP comes from the provider seam (provider-pages.ts) with the hashes these pages report.
 */
const AUTO_SUBMIT = "document.getElementById('logout-form').submit();";
const AUTO_SUBMIT_HASH = `sha256-${hash('sha256', AUTO_SUBMIT, 'base64')}`;

/** Public words for the provider's error codes; anything else gets the generic line. */
const ERROR_TEXT: Record<string, string> = {
  invalid_request: 'The app sent a request we could not accept.',
  invalid_client: 'The app that sent you here is not registered with us.',
  invalid_redirect_uri: 'The app asked to send you back to an address it has not registered.',
  unauthorized_client: 'This app is not allowed to sign you in this way.',
  unsupported_response_type: 'The app asked for something we do not support.',
  unsupported_response_mode: 'The app asked for something we do not support.',
  invalid_scope: 'The app asked for permissions that do not exist.',
  invalid_target: 'The app asked for access to a service it is not allowed to use.',
  session_not_found: 'This sign-in request has expired or was started in another browser.',
  access_denied: 'The request was refused.',
};

function shell(appName: string, title: string, body: SafeHtml, script: string | null): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex, nofollow">
<title>${title} · ${appName}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body class="layout-narrow">
<header class="site-header"><div class="site-header-inner"><a class="brand" href="/account">${appName}</a></div></header>
<main id="main"><div class="card">${body}</div></main>
${script ? trusted(`<script>${script}</script>`) : null}
</body>
</html>
`.value;
}

export function oauthProviderPages(appName: string): ProviderPages {
  return {
    error({ error, description }): RenderedPage {
      const text = ERROR_TEXT[error] ?? 'Something went wrong with the app’s sign-in request.';
      const body = html`<h1 id="title">We could not continue</h1>
<p class="lede">${text}</p>
<p class="help">Go back to the app and try again. If it keeps happening, tell the app’s developers this code: <code>${error}</code>${description ? html` (${description})` : null}.</p>
<p class="switch"><a href="/account">Go to your account</a></p>`;
      return { html: shell(appName, 'Sign-in request refused', body, null), scriptHashes: [] };
    },

    logout({ action, xsrf, clientName, automatic }): RenderedPage {
      const from = clientName ? html` of ${clientName} and` : null;
      const body = html`<h1 id="title">${automatic ? 'Signing you out…' : 'Sign out?'}</h1>
<p class="lede">${automatic ? html`Signing you out${from} of ${appName}.` : html`Do you want to sign out${from} of ${appName}?`}</p>
<form id="logout-form" method="post" action="${action}" class="form">
<input type="hidden" name="xsrf" value="${xsrf}">
${automatic ? html`<input type="hidden" name="logout" value="yes">` : null}
<div class="actions">
${
  automatic
    ? html`<button type="submit" class="button button-primary">Continue</button>`
    : html`<button type="submit" name="logout" value="yes" class="button button-primary">Yes, sign me out</button>
<button type="submit" class="button button-secondary">No, stay signed in</button>`
}
</div>
</form>`;
      return {
        html: shell(appName, 'Sign out', body, automatic ? AUTO_SUBMIT : null),
        scriptHashes: automatic ? [AUTO_SUBMIT_HASH] : [],
      };
    },

    loggedOut({ clientName }): RenderedPage {
      const body = html`<h1 id="title">You are signed out</h1>
<p class="lede">You signed out${clientName ? html` of ${clientName}` : null}. You can close this page.</p>
<p class="switch"><a href="/sign-in">Sign in again</a></p>`;
      return { html: shell(appName, 'Signed out', body, null), scriptHashes: [] };
    },

    // Device authorization (RFC 8628): plain forms, no script, so the CSP allows none.
    deviceCodeEntry({ form, userCode, problem }): RenderedPage {
      const body = html`<h1 id="title">Connect a device</h1>
<p class="lede">Type the code your device (TV, console, command line…) shows.</p>
${problem ? html`<p class="message message-error" role="alert" id="device-error" data-error="${problem.code}">${problem.message}</p>` : null}
${
  form
    ? html`<form id="device-code-form" method="post" action="${form.action}" class="form">
<input type="hidden" name="xsrf" value="${form.xsrf}">
<div class="field">
<label for="user_code">Code from your device</label>
<input id="user_code" name="user_code" type="text" class="code-input" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="32" required autofocus placeholder="BCDF-GHJK"${userCode ? html` value="${userCode}"` : null}>
<p class="help">Letters only; dashes and case do not matter. Never type a code someone else sent you: it would connect their device to your account.</p>
</div>
<button type="submit" class="button button-primary">Continue</button>
</form>`
    : html`<p class="switch"><a href="/oauth/device">Try again</a></p>`
}`;
      return { html: shell(appName, 'Connect a device', body, null), scriptHashes: [] };
    },

    deviceConfirm({ action, xsrf, userCode, clientName, clientId, device }): RenderedPage {
      const body = html`<h1 id="title">Connect ${clientName}?</h1>
<p class="lede"><strong>${clientName}</strong> (<code>${clientId}</code>) asks to use your account on a device.</p>
<p>Check that your device shows this code:</p>
<p class="secret" id="device-user-code">${userCode}</p>
${device.ip || device.userAgent ? html`<p class="help" id="device-origin">The request came from ${device.ip ?? 'an unknown address'}${device.userAgent ? html` (${device.userAgent})` : null}.</p>` : null}
<p class="help">If the code differs, or you did not start this on a device of your own, deny: someone may be trying to get into your account.</p>
<form id="device-confirm-form" method="post" action="${action}" class="form">
<input type="hidden" name="xsrf" value="${xsrf}">
<input type="hidden" name="user_code" value="${userCode}">
<div class="actions">
<button type="submit" name="confirm" value="yes" class="button button-primary">Yes, it is my device</button>
<button type="submit" name="abort" value="yes" class="button button-secondary">Deny</button>
</div>
</form>`;
      return { html: shell(appName, `Connect ${clientName}?`, body, null), scriptHashes: [] };
    },

    deviceDone({ clientName, outcome }): RenderedPage {
      const body =
        outcome === 'approved'
          ? html`<h1 id="title">Your device is connected</h1>
<p class="lede">${clientName ?? 'The app'} can now use your account on that device. You can close this page and go back to it.</p>
<p class="switch"><a href="/account">Manage connected apps</a></p>`
          : html`<h1 id="title">Access denied</h1>
<p class="lede">The device was not connected to your account. You can close this page.</p>`;
      return {
        html: shell(appName, outcome === 'approved' ? 'Device connected' : 'Access denied', body, null),
        scriptHashes: [],
      };
    },
  };
}
