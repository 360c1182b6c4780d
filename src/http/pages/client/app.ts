/**
 * The one client bundle of the hosted pages. The server names the page in <body data-page>;
 * each page module wires its own elements. No inline scripts or handlers anywhere (CSP).
 */
import { initAccount } from './account.ts';
import { initAdmin } from './admin.ts';
import { initConsent } from './consent.ts';
import { localizeTimes } from './dom.ts';
import { initEmailVerify } from './email-verify.ts';
import { initOAuthReauth } from './oauth-reauth.ts';
import { initSignIn } from './sign-in.ts';
import { initTokenAction } from './token-action.ts';

const pages: Record<string, () => void> = {
  'sign-in': initSignIn,
  'email-verify': initEmailVerify,
  account: initAccount,
  admin: initAdmin,
  'token-action': initTokenAction,
  consent: initConsent,
  'oauth-reauth': initOAuthReauth,
};

function main(): void {
  localizeTimes();
  const page = document.body.dataset['page'] ?? '';
  pages[page]?.();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
else main();
