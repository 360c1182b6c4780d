import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import {
  type DeviceUnderTest,
  launchBrowser,
  newContextWithAuthenticator,
  skipUnlessChromium,
} from '../support/browser.ts';
import { currentCode } from '../support/mfa.ts';
import { readSignInMail, startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { linkIn, mailMatching } from '../support/mail.ts';
import { newSignInMail } from '../support/sign-in.ts';

/**
 * Issue #3 in real Chromium: password sign-up and sign-in with an authenticator app, signing in
 * with a recovery code, the step-up prompt before adding a passkey (email code, and passkey
 * first), and a change of address end to end including the revert link.
 */
describe('passwords, two-step sign-in and step-up in Chromium', { skip: skipUnlessChromium() }, () => {
  let browser: Browser;
  let server: TestServer;
  const clock = new TestClock();
  const devices: DeviceUnderTest[] = [];
  const PASSWORD = 'a long and happy passphrase';

  before(async () => {
    [browser, server] = await Promise.all([
      launchBrowser(),
      startGatehouse({ ...liftedRateLimits(), passwords: { enabled: true } }, { clock }),
    ]);
  });
  after(async () => {
    await Promise.allSettled(devices.map((device) => device.context.close()));
    await browser?.close();
    await server?.close();
  });

  async function device(): Promise<DeviceUnderTest> {
    const created = await newContextWithAuthenticator(browser);
    devices.push(created);
    // These tests take the modal paths; an autofill request would answer by itself.
    await created.page.goto(`${server.url}/sign-in`);
    await created.setConditionalMediation(false);
    return created;
  }

  async function signInByLink(page: Page, email: string): Promise<void> {
    const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue with email' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await page.goto(readSignInMail(await newSignInMail(server, email, before)).link);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Not now' }).click();
    await page.waitForURL(`${server.url}/account`);
  }

  const sessionStatus = (page: Page): Promise<number> =>
    page.evaluate(() => fetch('/api/v1/session').then((r) => r.status));

  test('password sign-up, an authenticator app, then sign-in with password + code, and with a recovery code', async () => {
    const { page } = await device();
    const email = 'pat@example.com';

    // Sign up: the account exists once the mailed link is followed.
    await page.goto(`${server.url}/sign-up`);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Choose a password').fill('password');
    await page.getByRole('button', { name: 'Sign up with password' }).click();
    await page.locator('#error:not(:empty)').waitFor();
    assert.match((await page.locator('#error').textContent()) ?? '', /most common/);
    await page.getByLabel('Choose a password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up with password' }).click();
    await page.getByText('Check your email: open the link').waitFor();
    await page.goto(linkIn(await mailMatching(server, email, /Confirm your/), '/password/confirm'));
    await page.getByRole('button', { name: 'Confirm my account' }).click();
    await page.waitForURL(`${server.url}/account`);

    // Two-step sign-in: scan (here: read) the key, confirm with the app's code, keep the codes.
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    // The key appears once the setup request has answered.
    await page.locator('#totp-secret:not(:empty)').waitFor();
    const secret = (await page.locator('#totp-secret').textContent()) ?? '';
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match((await page.locator('#totp-qr').getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
    await page.getByLabel('Code from the app').fill(currentCode(server, secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#recovery-codes li').first().waitFor();
    const recoveryCodes = await page.locator('#recovery-codes li').allTextContents();
    assert.equal(recoveryCodes.length, 10);
    await page.getByRole('button', { name: 'I saved them' }).click();
    await page.getByText('10 recovery codes left').waitFor();

    // Sign out; sign in with the password: the page asks for the authenticator code.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${server.url}/sign-in`);
    clock.advance(30_000);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in with password' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    assert.equal(await sessionStatus(page), 401, 'half-authenticated: not signed in yet');
    await page.getByLabel('Authenticator code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#error:not(:empty)').waitFor();
    await page.getByLabel('Authenticator code').fill(currentCode(server, secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${server.url}/account`);
    assert.equal(await sessionStatus(page), 200);

    // Lost phone: a recovery code instead.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${server.url}/sign-in`);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in with password' }).click();
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[3] ?? '');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${server.url}/account`);
    await page.getByText('9 recovery codes left').waitFor();
    await mailMatching(server, email, /Security change/, /recovery code was used/);
  });

  test('adding a passkey after the sign-in went stale prompts for step-up, then goes ahead', async () => {
    const { page, ...phone } = await device();
    const email = 'stale@example.com';
    await signInByLink(page, email);
    const before = page
      .context()
      .cookies()
      .then((all) => all.find((c) => c.name === SESSION_COOKIE)?.value);

    // Email code fallback (no passkey yet).
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    const mark = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('heading', { name: "Confirm it's you" }).waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Use a passkey' }).isVisible(),
      false,
      'no passkey to use yet',
    );
    await page.getByRole('button', { name: 'Email me a code' }).click();
    const { code } = readSignInMail(await newSignInMail(server, email, mark));
    await page.getByLabel('Code from the email').fill(code);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByText('Passkey added.').waitFor();
    assert.equal((await phone.credentials()).length, 1);
    const after = (await page.context().cookies()).find((c) => c.name === SESSION_COOKIE)?.value;
    assert.notEqual(after, await before, 'step-up issued a new session token');

    // Passkey first: with a passkey on the account, the prompt offers it and the device answers.
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    const securityKey = await phone.addAuthenticator({ transport: 'usb' });
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByText('Passkey added.').waitFor();
    assert.equal((await phone.credentials(securityKey)).length, 1);
    assert.equal(await page.locator('#passkeys > li').count(), 2);
  });

  test('change of address end to end, and the old address undoes it', async () => {
    const { page } = await device();
    await signInByLink(page, 'old@example.com');
    await page.getByLabel('New email address').fill('new@example.com');
    await page.getByRole('button', { name: 'Change address' }).click();
    await page.getByText('Check new@example.com').waitFor();

    await page.goto(
      linkIn(await mailMatching(server, 'new@example.com', /Confirm your new/), '/email/change'),
    );
    await page.getByRole('button', { name: 'Use this address' }).click();
    await page.getByText('Your address was changed.').waitFor();
    await page.goto(`${server.url}/account`);
    assert.match((await page.locator('.lede strong').textContent()) ?? '', /new@example\.com/);

    const notice = await mailMatching(server, 'old@example.com', /address was changed/);
    assert.match(notice.text, /new@example\.com/);
    await page.goto(linkIn(notice, '/email/revert'));
    await page.getByRole('button', { name: 'Undo the change' }).click();
    await page.getByText('The change was undone').waitFor();
    assert.equal(await sessionStatus(page), 401, 'signed out everywhere, this browser included');
    assert.ok(
      await server.services.users.findByEmail('old@example.com'),
      'the account is back at the old address',
    );
  });
});
