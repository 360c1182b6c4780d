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
import { linkIn, mailMatching, tokenIn } from '../support/mail.ts';
import { signInByLink } from '../support/browser-sign-in.ts';
import { newSignInMail } from '../support/sign-in.ts';

/**
 * Issue #3 in real Chromium: password sign-up and sign-in with an authenticator app, signing in
 * with a recovery code, the step-up prompt before adding a passkey (email code, passkey first,
 * and password + authenticator code), setting and changing a password on the account page, a
 * change of address end to end including the revert link, and setting up an authenticator
 * during sign-in where the instance requires MFA.
 */

/** A JSON API call made by the page itself: its cookies, its origin, its Sec-Fetch-Site. */
async function pageApi(
  page: Page,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ([m, p, b]) => {
      const response = await fetch(p, {
        method: m,
        headers: { 'content-type': 'application/json' },
        body: m === 'POST' ? JSON.stringify(b ?? {}) : undefined,
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    [method, path, body] as const,
  );
}

const sessionStatus = (page: Page): Promise<number> =>
  page.evaluate(() => fetch('/api/v1/session').then((r) => r.status));
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
    await signInByLink(page, server, email);
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
    assert.equal(
      await page.getByRole('button', { name: 'Use your password' }).isVisible(),
      false,
      'no password on this account',
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

  test('step-up by password + authenticator code before adding a passkey', async () => {
    const { page, ...phone } = await device();
    const email = 'quentin@example.com';
    // The account, through the API from this browser: a password sign-up and an authenticator.
    assert.equal(
      (await pageApi(page, 'POST', '/api/v1/password/sign-up', { email, password: PASSWORD })).status,
      202,
    );
    const token = tokenIn(await mailMatching(server, email, /Confirm your/), '/password/confirm');
    assert.equal((await pageApi(page, 'POST', '/api/v1/password/sign-up/confirm', { token })).status, 200);
    const setup = await pageApi(page, 'POST', '/api/v1/mfa/totp/setup');
    assert.equal(setup.status, 200);
    const secret = setup.body.secret as string;
    const confirmed = await pageApi(page, 'POST', '/api/v1/mfa/totp/confirm', {
      code: currentCode(server, secret),
    });
    assert.equal(confirmed.status, 200);

    // Later: the sign-in is stale, so adding a passkey asks who it is.
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 30_000);
    await page.goto(`${server.url}/account`);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('heading', { name: "Confirm it's you" }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Use a passkey' }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Email me a code' }).isVisible(), true);
    await page.getByRole('button', { name: 'Use your password' }).click();
    const dialog = page.getByRole('dialog');
    // The account has an authenticator and step-up needs both factors: its code goes along.
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByLabel('Code from your authenticator app').fill('000000');
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.locator('#step-up-error:not(:empty)').waitFor();
    assert.equal((await phone.credentials()).length, 0, 'nothing happened on a wrong code');
    await dialog.getByLabel('Your password').fill(`${PASSWORD} `);
    await dialog.getByLabel('Code from your authenticator app').fill(currentCode(server, secret));
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByText('That password is not right.').waitFor();
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByText('Passkey added.').waitFor();
    assert.equal((await phone.credentials()).length, 1);
    const { body } = await pageApi(page, 'GET', '/api/v1/session');
    assert.deepEqual([...body.session.amr].sort(), ['mfa', 'otp', 'pwd'], 'both factors re-proven');
  });

  test('set a first password by mailed link, then change it behind step-up; other devices are signed out', async () => {
    const { page } = await device();
    const email = 'winifred@example.com';
    const first = 'a first long passphrase';
    const second = 'another entirely new passphrase';
    await signInByLink(page, server, email);

    // No password yet: the page offers a link to choose one.
    assert.equal(await page.getByLabel('Current password').count(), 0);
    await page.getByRole('button', { name: 'Email me a link to set a password' }).click();
    await page.getByText(`Check ${email}: open the link`).waitFor();
    await page.goto(linkIn(await mailMatching(server, email, /Reset your/), '/password/reset'));
    await page.getByLabel('New password', { exact: true }).fill(first);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Your password was changed.').waitFor();

    // A second device signs in with it.
    const other = (await device()).page;
    await other.getByLabel('Email address').fill(email);
    await other.getByLabel('Password', { exact: true }).fill(first);
    await other.getByRole('button', { name: 'Sign in with password' }).click();
    await other.waitForURL(`${server.url}/account`);

    // The policy's reasons appear under the new password.
    await page.goto(`${server.url}/account`);
    const current = page.getByLabel('Current password');
    const fresh = page.getByLabel('New password', { exact: true });
    const repeat = page.getByLabel('Repeat the new password');
    const change = page.getByRole('button', { name: 'Change password' });
    const problem = page.locator('#account-new-password-error');
    const attempts: Array<[string, RegExp]> = [
      ['short', /at least 8 characters/],
      ['password', /most common/],
      ['winifred winifred', /site name or your email address/],
    ];
    for (const [weak, reason] of attempts) {
      await current.fill(first);
      await fresh.fill(weak);
      await repeat.fill(weak);
      await change.click();
      await problem.filter({ hasText: reason }).waitFor();
      assert.equal(await fresh.getAttribute('aria-invalid'), 'true');
    }
    await fresh.fill(second);
    await repeat.fill(`${second}!`);
    await change.click();
    await page
      .locator('#repeat-password-error')
      .filter({ hasText: /not the same/ })
      .waitFor();
    await current.fill('not my password at all');
    await repeat.fill(second);
    await change.click();
    await page
      .locator('#current-password-error')
      .filter({ hasText: /not right/ })
      .waitFor();

    // Stale sign-in: step-up by password, and the change goes ahead with what was typed.
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    await current.fill(first);
    await change.click();
    await page.getByRole('heading', { name: "Confirm it's you" }).waitFor();
    await page.getByRole('button', { name: 'Use your password' }).click();
    await page.getByRole('dialog').getByLabel('Your password').fill(first);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByText('Password changed. Every other device').waitFor();
    assert.equal(await fresh.inputValue(), '', 'the form is emptied');
    assert.equal(await sessionStatus(other), 401, 'the other device was signed out');
    assert.equal(await sessionStatus(page), 200);
    assert.equal(await page.locator('#sessions > li').count(), 1);

    // The new password signs in; the old one no longer does.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${server.url}/sign-in`);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(first);
    await page.getByRole('button', { name: 'Sign in with password' }).click();
    await page.getByText('do not match').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(second);
    await page.getByRole('button', { name: 'Sign in with password' }).click();
    await page.waitForURL(`${server.url}/account`);
  });

  test('change of address end to end, and the old address undoes it', async () => {
    const { page } = await device();
    await signInByLink(page, server, 'old@example.com');
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

describe('an instance that requires MFA, in Chromium', { skip: skipUnlessChromium() }, () => {
  let browser: Browser;
  let server: TestServer;
  const clock = new TestClock();

  before(async () => {
    [browser, server] = await Promise.all([
      launchBrowser(),
      startGatehouse({ ...liftedRateLimits(), mfa: { required: true } }, { clock }),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signInByCode(page: Page, email: string): Promise<void> {
    const mark = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue with email' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const { code } = readSignInMail(await newSignInMail(server, email, mark));
    await page.getByLabel('6-digit code').fill(code);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  test('a user without a second factor sets up an authenticator while signing in, then lands signed in', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    try {
      const page = await context.newPage();
      const email = 'rosa@example.com';
      await signInByCode(page, email);

      await page.getByRole('heading', { name: 'Set up two-step sign-in' }).waitFor();
      assert.equal(await sessionStatus(page), 401, 'half-authenticated until the app is confirmed');
      await page.locator('#enrol-secret:not(:empty)').waitFor();
      const secret = (await page.locator('#enrol-secret').textContent()) ?? '';
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.match((await page.locator('#enrol-qr').getAttribute('src')) ?? '', /^data:image\/svg\+xml/);

      await page.getByLabel('Code from the app').fill('000000');
      await page.getByRole('button', { name: 'Turn on and continue' }).click();
      await page.locator('#error:not(:empty)').waitFor();
      assert.equal(await sessionStatus(page), 401);
      await page.getByLabel('Code from the app').fill(currentCode(server, secret));
      await page.getByRole('button', { name: 'Turn on and continue' }).click();

      // The recovery codes, once, before moving on; the sign-in is complete already.
      await page.locator('#enrol-recovery-codes li').first().waitFor();
      assert.equal(await page.locator('#enrol-recovery-codes li').count(), 10);
      assert.equal(await sessionStatus(page), 200);
      await page.getByRole('button', { name: 'I saved them, continue' }).click();
      await page.waitForURL(`${server.url}/account`);
      await page.getByText('10 recovery codes left').waitFor();

      // The next sign-in asks for the app's code, no longer for a set-up.
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.waitForURL(`${server.url}/sign-in`);
      clock.advance(30_000);
      await signInByCode(page, email);
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await page.getByLabel('Authenticator code').fill(currentCode(server, secret));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${server.url}/account`);
      assert.equal(await sessionStatus(page), 200);
    } finally {
      await context.close();
    }
  });
});
