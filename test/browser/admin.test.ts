/**
 * The /admin page in real Chromium against a real Gatehouse (OAuth provider on): an
 * administrator finds an account, disables it through the step-up prompt, and the account's
 * session dies; the audit table shows it and pages back through older events; OAuth clients
 * are added, their secret shown once, rotated and removed, while config-file clients stay
 * read-only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import {
  type DeviceUnderTest,
  launchBrowser,
  newContextWithAuthenticator,
  skipUnlessChromium,
} from '../support/browser.ts';
import { signInByLink } from '../support/browser-sign-in.ts';
import { TestClient } from '../support/http-client.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { startOAuthGatehouse } from '../support/oauth.ts';
import { readSignInMail, TestClock, type TestServer } from '../support/server.ts';
import { newSignInMail, signInWithEmail } from '../support/sign-in.ts';

const ADMIN = 'admin@example.com';

describe('the admin page in Chromium', { skip: skipUnlessChromium() }, () => {
  let browser: Browser;
  let server: TestServer;
  const clock = new TestClock();
  const devices: DeviceUnderTest[] = [];

  before(async () => {
    [browser, server] = await Promise.all([
      launchBrowser(),
      startOAuthGatehouse({}, { ...liftedRateLimits(), adminEmails: [ADMIN] }, { clock }),
    ]);
  });
  after(async () => {
    await Promise.allSettled(devices.map((device) => device.context.close()));
    await browser?.close();
    await server?.close();
  });

  /** The administrator, signed in on a fresh browser, on /admin; every confirm() is accepted. */
  async function adminPage(): Promise<Page> {
    const device = await newContextWithAuthenticator(browser);
    devices.push(device);
    const { page } = device;
    page.on('dialog', (dialog) => void dialog.accept());
    await signInByLink(page, server, ADMIN);
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.waitForURL(`${server.url}/admin`);
    return page;
  }

  const statusText = (page: Page): Promise<string> =>
    page
      .locator('#status:not(:empty)')
      .textContent()
      .then((text) => text ?? '');
  const errorText = (page: Page): Promise<string> =>
    page
      .locator('#error:not(:empty)')
      .textContent()
      .then((text) => text ?? '');

  async function find(page: Page, email: string): Promise<void> {
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Find' }).click();
  }

  test('find an account, disable it through step-up: its session is refused and the audit table shows it', async () => {
    const bobEmail = 'bob@example.com';
    const bob = new TestClient(server.url);
    const bobId = await signInWithEmail(server, bob, bobEmail);
    // More events of one type than a page holds, for "Older events".
    // (54 names, then one more below: 55 events of one type.)
    for (let i = 0; i < 54; i++) {
      assert.equal((await bob.patch('/api/v1/me', { displayName: `Bob ${i}` })).status, 200);
    }
    // Data from users is text on the page, never markup.
    const markup = '<img src=x id=injected onerror=alert(1)>';
    assert.equal((await bob.patch('/api/v1/me', { displayName: markup })).status, 200);
    const page = await adminPage();
    const adminId = (await server.services.stores.users.findByEmail(ADMIN))?.id;
    assert.ok(adminId);

    // The audit table loads by itself, newest first.
    await page.locator('#audit-rows tr').first().waitFor();

    await find(page, 'nobody@example.com');
    await page.locator('#user-none').waitFor();

    await find(page, bobEmail);
    const card = page.locator('#user-card');
    await card.waitFor();
    assert.equal(await card.getAttribute('data-user-id'), bobId);
    assert.match((await card.textContent()) ?? '', /bob@example\.com/);
    assert.ok(((await card.textContent()) ?? '').includes(markup), 'the name shown as typed');
    assert.equal(await page.locator('#injected').count(), 0, 'and not as an element');
    assert.equal(await page.locator('#user-state').textContent(), 'Enabled');

    // The sign-in is now stale: the disable needs the step-up prompt, here by emailed code.
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    const mark = (await server.services.stores.devMailbox.list({ to: ADMIN, limit: 1 }))[0]?.id;
    await page.getByRole('button', { name: 'Disable account' }).click();
    await page.getByRole('heading', { name: "Confirm it's you" }).waitFor();
    assert.equal(
      (await bob.get('/api/v1/session')).status,
      200,
      'nothing happens before the prompt is answered',
    );
    await page.getByRole('button', { name: 'Email me a code' }).click();
    const { code } = readSignInMail(await newSignInMail(server, ADMIN, mark));
    await page.getByLabel('Code from the email').fill(code);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();

    await page.locator('#user-state', { hasText: 'Disabled' }).waitFor();
    assert.match(await statusText(page), /bob@example\.com is disabled: 1 session ended/);
    const refused = await bob.get('/api/v1/session');
    assert.equal(refused.status, 401, 'the disabled account’s session is refused');

    // The table reloads after the change: the event, Bob as the user, the administrator as actor.
    const event = page.locator(`#audit-rows tr[data-type="user.disabled"][data-user-id="${bobId}"]`);
    await event.waitFor();
    assert.match((await event.textContent()) ?? '', new RegExp(adminId));

    // An administrator cannot disable themselves: the API's refusal, in words.
    await find(page, ADMIN);
    await page.locator(`#user-card[data-user-id="${adminId}"]`).waitFor();
    await page.getByRole('button', { name: 'Disable account' }).click();
    assert.equal(await errorText(page), 'You cannot disable your own account.');
    assert.equal((await server.services.stores.users.findById(adminId))?.disabledAt, null);

    // Filters and "older": Bob's profile changes, 50 to a page, then the remaining 5.
    await page.getByLabel('User id', { exact: true }).fill(bobId);
    await page.getByLabel('Event type', { exact: true }).selectOption('profile.updated');
    await page.getByRole('button', { name: 'Show events' }).click();
    const rows = page.locator('#audit-rows tr');
    await page.locator('#audit-rows tr[data-type="user.disabled"]').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Older events' }).waitFor();
    assert.equal(await rows.count(), 50);
    assert.equal(await page.locator('#audit-rows tr:not([data-type="profile.updated"])').count(), 0);
    await page.getByRole('button', { name: 'Older events' }).click();
    // The last page's rows, then no button for more (in whichever order the page does them).
    await rows.nth(54).waitFor();
    await page.getByRole('button', { name: 'Older events' }).waitFor({ state: 'hidden' });
    assert.equal(await rows.count(), 55);
    const seqs = await rows.evaluateAll((all) => all.map((row) => Number(row.getAttribute('data-seq'))));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => b - a),
      'newest first, without repeats',
    );
    assert.equal(new Set(seqs).size, 55);

    // A time window in the future holds nothing.
    await page.getByLabel('From', { exact: true }).fill('2999-01-01T00:00');
    await page.getByRole('button', { name: 'Show events' }).click();
    await page.locator('#audit-empty').waitFor();
    assert.equal(await rows.count(), 0);

    // Enable again (the sign-in is still recent: no prompt this time).
    await find(page, bobEmail);
    await page.getByRole('button', { name: 'Enable account' }).click();
    await page.locator('#user-state', { hasText: 'Enabled' }).waitFor();
    assert.equal((await server.services.stores.users.findById(bobId))?.disabledAt, null);

    // And delete (the confirmation dialog is accepted by the page's dialog handler).
    await page.getByRole('button', { name: 'Delete account' }).click();
    await page.locator('#user-deleted').waitFor();
    assert.equal(await server.services.stores.users.findById(bobId), undefined);
    assert.match(await statusText(page), /bob@example\.com is deleted/);
  });

  test('OAuth clients: config clients read-only; add one with its secret shown once, rotate it, remove it', async () => {
    const page = await adminPage();
    const storedRow = (clientId: string) =>
      server.services.database.db
        .selectFrom('oauth_clients')
        .selectAll()
        .where('client_id', '=', clientId)
        .executeTakeFirst();

    const configured = page.locator('#clients li[data-client-id="web-app"]');
    await configured.waitFor();
    assert.match((await configured.textContent()) ?? '', /Read-only: declared in the config file/);
    assert.equal(await configured.locator('button').count(), 0);

    // A rule of the profile, refused with the reason.
    await page.getByLabel('Client id', { exact: true }).fill('page-made');
    await page.getByLabel('Redirect URIs', { exact: true }).fill('http://app.example.test/callback');
    await page.getByRole('button', { name: 'Add client' }).click();
    assert.match(await errorText(page), /redirect URI http:\/\/app\.example\.test\/callback must use https/);
    assert.equal(await storedRow('page-made'), undefined);

    await page.getByLabel('Name shown on the consent page (optional)').fill('Made on the page');
    await page
      .getByLabel('Redirect URIs', { exact: true })
      .fill('https://app.example.test/callback\nhttps://app.example.test/other');
    await page.getByLabel('Scope', { exact: true }).fill('openid email');
    await page.getByRole('button', { name: 'Add client' }).click();
    const secret = page.locator('#client-secret');
    await page.locator('#client-secret:not(:empty)').waitFor();
    const first = (await secret.textContent()) ?? '';
    assert.match(first, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await storedRow('page-made'))?.secret_hash, sha256(first), 'only its hash is kept');
    const added = page.locator('#clients li[data-client-id="page-made"]');
    await added.waitFor();
    assert.match((await added.textContent()) ?? '', /Made on the page.*Confidential/);
    assert.ok(!(await page.locator('#clients').innerHTML()).includes(first), 'the list never shows it');
    await page.getByRole('button', { name: 'I saved it' }).click();
    assert.equal(await page.locator('#client-secret-box').isHidden(), true);
    assert.equal(await secret.textContent(), '', 'gone from the page');

    await added.getByRole('button', { name: 'Rotate secret' }).click();
    await page.locator('#client-secret:not(:empty)').waitFor();
    const second = (await secret.textContent()) ?? '';
    assert.notEqual(second, first);
    assert.equal((await storedRow('page-made'))?.secret_hash, sha256(second));

    await added.getByRole('button', { name: 'Remove' }).click();
    await added.waitFor({ state: 'detached' });
    assert.equal(await storedRow('page-made'), undefined);
    await page.locator('#audit-rows tr[data-type="oauth.client_removed"]').first().waitFor();
  });
});
