import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  type DeviceUnderTest,
  launchBrowser,
  newContextWithAuthenticator,
  skipUnlessChromium,
  type WebAuthnCall,
} from '../support/browser.ts';
import { readSignInMail, startGatehouse, type TestServer } from '../support/server.ts';
import { decodeQuotedPrintable, startSmtpServer, type TestSmtpServer } from '../support/smtp.ts';

/**
 * The hosted pages end to end in real Chromium: continue with email (link through a real SMTP
 * server, and the typed code), the passkey offer, passkey sign-in by button and by autofill
 * (conditional mediation), passkey management and session revocation, each against a real
 * Gatehouse on a socket and a CDP virtual authenticator.
 */
describe('hosted pages in Chromium', { skip: skipUnlessChromium() }, () => {
  let browser: Browser;
  let smtp: TestSmtpServer;
  /** Mail goes out over SMTP. */
  let server: TestServer;
  /** Mail goes to the development mailbox. */
  let devServer: TestServer;
  const devices: DeviceUnderTest[] = [];

  before(async () => {
    [browser, smtp, devServer] = await Promise.all([launchBrowser(), startSmtpServer(), startGatehouse()]);
    server = await startGatehouse({ smtpUrl: smtp.url });
  });

  after(async () => {
    await Promise.allSettled(devices.map((device) => device.context.close()));
    await browser?.close();
    await Promise.allSettled([server?.close(), devServer?.close(), smtp?.close()]);
  });

  async function device(): Promise<DeviceUnderTest> {
    const created = await newContextWithAuthenticator(browser);
    devices.push(created);
    return created;
  }

  const gets = (calls: WebAuthnCall[]): Array<[string | null, string]> =>
    calls.filter((call) => call.kind === 'get').map((call) => [call.mediation, call.phase]);

  async function signOut(page: Page, origin: string): Promise<void> {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${origin}/sign-in`);
  }

  /**
   * Signs a page in through the dev mailbox's link and skips the passkey offer, which a browser
   * that said "Not now" before does not see again.
   */
  async function signInByLink(page: Page, target: TestServer, email: string, offer = true): Promise<void> {
    const previous = (await target.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
    await page.goto(`${target.url}/sign-in`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue with email' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    let message = await target.latestMail(email);
    for (let i = 0; message.id === previous && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      message = await target.latestMail(email);
    }
    await page.goto(readSignInMail(message).link);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    if (offer) await page.getByRole('button', { name: 'Not now' }).click();
    await page.waitForURL(`${target.url}/account`);
  }

  test('email link over SMTP, passkey offer, passkey by button and by autofill, manage passkeys', async () => {
    const { page, ...phone } = await device();
    const origin = server.url;
    const email = 'ada@example.com';

    // Continue with email: the mail travels through the real SMTP server.
    await page.goto(`${origin}/sign-in`);
    await page.getByLabel('Email address').fill(email);
    const received = smtp.waitFor(email);
    await page.getByRole('button', { name: 'Continue with email' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    assert.match((await page.locator('#step-code').textContent()) ?? '', /ada@example\.com/);
    const text = decodeQuotedPrintable((await received).raw);
    const link = /http:\/\/localhost:\d+\/email\/verify#token=[A-Za-z0-9_-]{43}/.exec(text)?.[0];
    assert.ok(link, 'the mail carries a sign-in link');

    // Opening the link does not redeem it (a mail scanner would do that much); the click does.
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    const beforeClick = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.status));
    assert.equal(beforeClick, 401, 'loading the link page must not sign in');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    // First sign-in: the page offers a passkey on this device.
    await page.getByRole('heading', { name: 'Sign in faster next time' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token is cleared from the address bar');
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.waitForURL(`${origin}/account`);
    assert.equal((await phone.credentials()).length, 1, 'the authenticator holds the new passkey');
    assert.equal(await page.locator('#passkeys > li').count(), 1);

    // The passkey button (modal prompt). Conditional mediation is switched off for this round:
    // with automatic presence the virtual authenticator would answer the autofill request first.
    await phone.setConditionalMediation(false);
    await signOut(page, origin);
    let mark = phone.webauthnCalls.length;
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${origin}/account`);
    assert.deepEqual(gets(phone.webauthnCalls.slice(mark)), [
      [null, 'called'],
      [null, 'resolved'],
    ]);

    // Autofill: the pending conditional request on /sign-in resolves with the passkey.
    await phone.setConditionalMediation(true);
    mark = phone.webauthnCalls.length;
    await signOut(page, origin);
    await page.waitForURL(`${origin}/account`);
    assert.deepEqual(gets(phone.webauthnCalls.slice(mark)), [
      ['conditional', 'called'],
      ['conditional', 'resolved'],
    ]);
    assert.match((await page.locator('#sessions li[data-current]').textContent()) ?? '', /with a passkey/);

    // A second passkey, on a second authenticator (a security key): the first one already
    // holds a credential for this account and is excluded.
    const securityKey = await phone.addAuthenticator({ transport: 'usb' });
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Passkey added.').waitFor();
    assert.equal((await phone.credentials(securityKey)).length, 1);
    assert.equal(await page.locator('#passkeys > li').count(), 2);

    // Rename the first.
    const first = page.locator('#passkeys > li').first();
    await first.getByRole('button', { name: /^Rename/ }).click();
    await first.getByLabel('New name for this passkey').fill('Work laptop <b>');
    await first.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Passkey renamed to "Work laptop <b>".').waitFor();
    assert.equal(
      await page.locator('#passkeys > li [data-role="name"]').first().textContent(),
      'Work laptop <b>',
    );

    // Remove the second (after the confirmation dialog).
    page.once('dialog', (dialog) => void dialog.accept());
    await page
      .locator('#passkeys > li')
      .nth(1)
      .getByRole('button', { name: /^Remove/ })
      .click();
    await page.getByText(/^Passkey ".*" removed/).waitFor();
    assert.equal(await page.locator('#passkeys > li').count(), 1);
    const user = await server.services.users.findByEmail(email);
    assert.ok(user);
    const stored = await server.services.passkeys.list(user);
    assert.deepEqual(
      stored.map((passkey) => passkey.name),
      ['Work laptop <b>'],
    );

    // With the address unverified, the last passkey is the only way in: the server refuses to
    // remove it and the page says why, in the alert region.
    await server.services.database.db
      .updateTable('users')
      .set({ email_verified_at: null })
      .where('id', '=', user.id)
      .execute();
    page.once('dialog', (dialog) => void dialog.accept());
    await page
      .locator('#passkeys > li')
      .first()
      .getByRole('button', { name: /^Remove/ })
      .click();
    await page.locator('#error:not(:empty)').waitFor();
    assert.match((await page.locator('#error').textContent()) ?? '', /only way to sign in/);
    assert.equal(await page.locator('#passkeys > li').count(), 1);
    assert.equal((await server.services.passkeys.list(user)).length, 1);
  });

  test('continue with email and type the code; redirectTo is honoured', async () => {
    const { page } = await device();
    const origin = devServer.url;
    const email = 'grace@example.com';
    await page.goto(`${origin}/sign-up?redirectTo=${encodeURIComponent('/dev/mailbox')}`);
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue with email' }).click();
    const codeInput = page.getByLabel('6-digit code');
    await codeInput.waitFor();
    assert.equal(await codeInput.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await codeInput.getAttribute('inputmode'), 'numeric');
    const { code } = readSignInMail(await devServer.latestMail(email));

    // A wrong code is refused in words, in the alert region.
    await codeInput.fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#error:not(:empty)').waitFor();
    assert.match((await page.locator('#error').textContent()) ?? '', /code/i);

    await codeInput.fill(code);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // A new account: the passkey offer is skippable.
    await page.getByRole('button', { name: 'Not now' }).click();
    await page.waitForURL(`${origin}/dev/mailbox`);
    assert.equal(await page.evaluate(() => fetch('/api/v1/session').then((r) => r.status)), 200);
    // The development mailbox lists the message with its link clickable.
    await page
      .getByRole('heading', { name: /sign-in code/ })
      .first()
      .waitFor();
    assert.ok(await page.locator('a[href*="/email/verify#token="]').count());
  });

  test('revoking a session on /account signs the other device out on its next request', async () => {
    const laptop = await device();
    const phone = await device();
    const email = 'linus@example.com';
    await signInByLink(laptop.page, devServer, email);
    await signInByLink(phone.page, devServer, email);

    // The phone sees two sessions and signs the laptop out.
    await phone.page.reload();
    const sessions = phone.page.locator('#sessions > li');
    assert.equal(await sessions.count(), 2);
    assert.match(
      (await phone.page.locator('#sessions > li[data-current]').textContent()) ?? '',
      /This device/,
    );
    await phone.page
      .locator('#sessions > li:not([data-current])')
      .getByRole('button', { name: /^Sign out/ })
      .click();
    await phone.page.getByText('That device is signed out.', { exact: false }).waitFor();
    assert.equal(await sessions.count(), 1);

    const status = await laptop.page.evaluate(() => fetch('/api/v1/session').then((r) => r.status));
    assert.equal(status, 401);
    await laptop.page.goto(`${devServer.url}/account`);
    assert.equal(laptop.page.url(), `${devServer.url}/sign-in?redirectTo=%2Faccount`);

    // "Sign out everywhere else" does the same for every other device at once.
    await signInByLink(laptop.page, devServer, email, false);
    await phone.page.reload();
    await phone.page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await phone.page.getByText('Signed out of 1 other device.').waitFor();
    await laptop.page.reload();
    await laptop.page.waitForURL(`${devServer.url}/sign-in?redirectTo=%2Faccount`);
    assert.equal(await phone.page.evaluate(() => fetch('/api/v1/session').then((r) => r.status)), 200);
  });
});
