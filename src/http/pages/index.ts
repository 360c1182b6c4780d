import type { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { accountFragment, accountPage } from './account.ts';
import { adminPage } from './admin.ts';
import { ClientAssets } from './assets.ts';
import { devMailboxPage } from './dev-mailbox.ts';
import { tokenActionPage } from './password-pages.ts';
import { emailVerifyPage, signInPage } from './sign-in.ts';

/**
 * Hosted pages (DESIGN §5): server-rendered HTML with one client bundle. Every action goes
 * through the public JSON API from the page's own origin, so the pages get the same
 * validation, rate limits, audit and cross-origin protection as any other client.
 */
export function mountPages(app: Hono<AppEnv>): void {
  const assets = new ClientAssets();
  assets.mount(app);
  // The root has no page of its own: the account page, which sends visitors to sign in.
  app.get('/', (c) => c.redirect('/account'));
  app.get('/sign-in', (c) => signInPage(c, assets, 'sign-in'));
  app.get('/sign-up', (c) => signInPage(c, assets, 'sign-up'));
  app.get('/email/verify', (c) => emailVerifyPage(c, assets));
  app.get('/email/change', (c) => tokenActionPage(c, assets, 'email-change'));
  app.get('/email/revert', (c) => tokenActionPage(c, assets, 'email-revert'));
  app.get('/password/confirm', (c) => tokenActionPage(c, assets, 'password-confirm'));
  app.get('/password/reset', (c) => tokenActionPage(c, assets, 'password-reset'));
  app.get('/account', (c) => accountPage(c, assets));
  app.get('/account/fragments/:name', (c) => accountFragment(c));
  app.get('/admin', (c) => adminPage(c, assets));
  // Answers 404 unless mail goes to the development mailbox (checked per request: mountPages
  // does not see the services).
  app.get('/dev/mailbox', (c) => devMailboxPage(c, assets));
}
