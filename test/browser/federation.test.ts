import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, skipUnlessChromium } from '../support/browser.ts';
import { secretFromBase32, totpCode } from '../../src/domain/mfa/totp.ts';
import { currentCode } from '../support/mfa.ts';
import { startOidcProvider, type TestIdp } from '../support/oidc-provider.ts';
import { readSignInMail, startGatehouse, type TestServer } from '../support/server.ts';

/**
 * "Continue with …" end to end in real Chromium, against a real OpenID Connect provider
 * (oidc-provider 9, set up like Google) on another site (127.0.0.1 vs localhost): the button,
 * the provider's login page, the return, the account it creates or finds, linking to an existing
 * account after the owner signs in with an emailed code, unlinking, and a provider that returns
 * by cross-site form POST.
 */
describe('federation in Chromium', { skip: skipUnlessChromium() }, () => {
  let browser: Browser;
  let idp: TestIdp;
  let server: TestServer;
  const contexts: BrowserContext[] = [];

  before(async () => {
    [browser, idp] = await Promise.all([launchBrowser(), startOidcProvider()]);
    const provider = { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret };
    server = await startGatehouse({
      federation: {
        providers: [
          { id: 'acme', displayName: 'Acme ID', ...provider },
          { id: 'acme-post', displayName: 'Acme ID (form post)', responseMode: 'form_post', ...provider },
        ],
      },
    });
    await idp.registerClient([`${server.url}/auth/acme/callback`, `${server.url}/auth/acme-post/callback`]);
    for (const login of ['ada', 'bob', 'carol', 'dave']) {
      idp.accounts.set(login, {
        sub: `${login}-sub`,
        email: `${login}@example.com`,
        email_verified: true,
        name: `${login[0]?.toUpperCase()}${login.slice(1)} Example`,
      });
    }
  });

  after(async () => {
    await Promise.allSettled(contexts.map((context) => context.close()));
    await browser?.close();
    await Promise.allSettled([server?.close(), idp?.close()]);
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    contexts.push(context);
    return context.newPage();
  }

  /** At the provider's login page: sign in as `login`. */
  async function atProvider(page: Page, login: string): Promise<void> {
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.getByLabel('Login').fill(login);
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  const sessionUser = (page: Page) =>
    page.evaluate(() => fetch('/api/v1/session').then((r) => r.json() as Promise<{ user: { id: string } }>));

  test('first sign-in creates the account, the next finds it; cancelling says so', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/sign-in`);

    // Cancel at the provider: back on the sign-in page with a notice.
    await page.getByRole('link', { name: 'Continue with Acme ID', exact: true }).click();
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(`${server.url}/sign-in?**`);
    await page.getByText('You cancelled signing in with Acme ID.').waitFor();

    await page.getByRole('link', { name: 'Continue with Acme ID', exact: true }).click();
    await atProvider(page, 'ada');
    await page.waitForURL(`${server.url}/account`);
    const linked = page.locator('#identities > li');
    assert.equal(await linked.count(), 1);
    assert.match((await linked.textContent()) ?? '', /Acme ID[\s\S]*ada@example\.com/);
    assert.match((await page.locator('#sessions li[data-current]').textContent()) ?? '', /another provider/);
    const first = await sessionUser(page);

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${server.url}/sign-in`);
    await page.getByRole('link', { name: 'Continue with Acme ID', exact: true }).click();
    // The provider remembers the person (its own session): straight back, signed in again.
    await page.waitForURL(`${server.url}/account`);
    assert.equal((await sessionUser(page)).user.id, first.user.id);
  });

  test('a matching account is linked only after its owner signs in; then unlinked', async () => {
    await server.services.users.signInByVerifiedEmail('bob@example.com');
    const page = await newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByRole('link', { name: 'Continue with Acme ID', exact: true }).click();
    await atProvider(page, 'bob');

    // Held back: the sign-in page explains, with the owner's address filled in.
    await page.waitForURL(`${server.url}/sign-in?**`);
    await page.getByText(/An account with your Acme ID email address already exists/).waitFor();
    assert.equal(await page.getByLabel('Email address').inputValue(), 'bob@example.com');
    assert.equal(await page.evaluate(() => fetch('/api/v1/session').then((r) => r.status)), 401);

    // The owner proves the account with the emailed code, in this browser.
    await page.getByRole('button', { name: 'Continue with email' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const { code } = readSignInMail(await server.latestMail('bob@example.com'));
    await page.getByLabel('6-digit code').fill(code);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Not now' }).click();
    await page.waitForURL(`${server.url}/account`);

    // …and confirms the link.
    assert.equal(await page.locator('#identities > li').count(), 0);
    await page.getByRole('button', { name: 'Link Acme ID' }).click();
    await page.getByText('Acme ID is linked. You can now sign in with it.').waitFor();
    assert.equal(await page.locator('#identities > li').count(), 1);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Unlink Acme ID' }).click();
    await page.getByText('Acme ID is unlinked.').waitFor();
    assert.equal(await page.locator('#identities > li').count(), 0);
  });

  test('with an authenticator app, the return from the provider opens on the second-factor step', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByRole('link', { name: 'Continue with Acme ID', exact: true }).click();
    await atProvider(page, 'dave');
    await page.waitForURL(`${server.url}/account`);
    // Turn on the authenticator app through the API, as the account page would.
    const post = (path: string, body: unknown) =>
      page.evaluate(
        async ([url, json]) => {
          const response = await fetch(url as string, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(json),
          });
          return (await response.json()) as { secret?: string };
        },
        [path, body] as const,
      );
    const { secret } = await post('/api/v1/mfa/totp/setup', {});
    assert.ok(secret);
    await post('/api/v1/mfa/totp/confirm', { code: currentCode(server, secret) });

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${server.url}/sign-in`);
    await page.getByRole('link', { name: 'Continue with Acme ID', exact: true }).click();
    // The provider remembers dave: straight back, to the second step of signing in.
    await page.waitForURL(`${server.url}/sign-in?step=second-factor**`);
    await page.getByLabel('Authenticator code').waitFor();
    // The code used at enrolment is spent; the next step's code is within the ±1 step window.
    const nextCode = totpCode(secretFromBase32(secret), server.services.clock.now() + 30_000);
    await page.getByLabel('Authenticator code').fill(nextCode);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${server.url}/account`);
    assert.ok((await sessionUser(page)).user.id);
  });

  test('a provider that answers by cross-site form POST signs in (SameSite=None flow cookie)', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByRole('link', { name: 'Continue with Acme ID (form post)' }).click();
    await atProvider(page, 'carol');
    await page.waitForURL(`${server.url}/account`);
    const { user } = await page.evaluate(() =>
      fetch('/api/v1/session').then((r) => r.json() as Promise<{ user: { email: string } }>),
    );
    assert.equal(user.email, 'carol@example.com');
  });
});
