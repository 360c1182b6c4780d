import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import {
  type DeviceUnderTest,
  launchBrowser,
  newContextWithAuthenticator,
  skipUnlessChromium,
} from '../support/browser.ts';
import {
  authorizationRequest,
  CALLBACK,
  discover,
  SIGNED_OUT,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import { readSignInMail, type TestServer } from '../support/server.ts';

/**
 * The OAuth provider with a real browser: an app sends the user to Gatehouse, the user signs
 * in (email code, then a passkey) on the hosted pages and answers the consent page, and
 * openid-client redeems the code the browser brought back.
 */
/** A navigation the page should make within 10 s (a CSP block shows up as never arriving). */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the browser never reached ${what}`)), 10_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('OAuth provider in Chromium', { skip: skipUnlessChromium() }, () => {
  let browser: Browser;
  let server: TestServer;
  const devices: DeviceUnderTest[] = [];

  before(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startOAuthGatehouse()]);
  });
  after(async () => {
    await Promise.allSettled(devices.map((device) => device.context.close()));
    await browser?.close();
    await server?.close();
  });

  /** Catches the redirect to the app (which does not exist) and returns the URL the browser was sent to. */
  async function arriveAtApp(page: Page, action: () => Promise<void>): Promise<URL> {
    let arrived!: (url: URL) => void;
    const landing = new Promise<URL>((resolve) => {
      arrived = resolve;
    });
    await page.route('https://app.example.test/**', async (route) => {
      arrived(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'the app' });
    });
    await action();
    const url = await within(landing, 'the app');
    await page.unroute('https://app.example.test/**');
    return url;
  }

  test('code + PKCE: sign in with an emailed code, create a passkey, consent; a passkey step-up (prompt=login, acr_values=phr); signed out, a passkey sign-in and consent', async () => {
    const device = await newContextWithAuthenticator(browser);
    devices.push(device);
    const { page } = device;
    // The modal passkey prompt, not autofill: with automatic presence the virtual authenticator
    // would answer a pending autofill request on its own.
    await page.goto(`${server.url}/healthz`);
    await device.setConditionalMediation(false);
    const config = await discover(server, WEB_APP);
    const email = 'browser-oauth@example.com';

    // 1. The app sends the browser to the authorization endpoint; Gatehouse asks to sign in.
    const first = await authorizationRequest(config);
    await page.goto(first.url.href);
    await page.waitForURL(/\/sign-in\?/);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue with email' }).click();
    await page.getByLabel('6-digit code').waitFor();
    await page.getByLabel('6-digit code').fill(readSignInMail(await server.latestMail(email)).code);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    // 2. Back in the authorization: the consent page names the app and what it asks.
    await page.getByRole('heading', { name: 'Example App wants to access your account' }).waitFor();
    assert.match((await page.locator('#permissions').textContent()) ?? '', /See your email address/);
    const callback = await arriveAtApp(page, () => page.getByRole('button', { name: 'Allow' }).click());
    assert.equal(callback.origin + callback.pathname, CALLBACK);
    assert.equal(callback.searchParams.get('iss'), server.url);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: first.verifier,
      expectedState: first.state,
      expectedNonce: first.nonce,
    });
    assert.deepEqual(tokens.claims()?.amr, ['otp']);
    assert.equal((await device.credentials()).length, 1);

    // 3. prompt=login with acr_values=phr: the signed-in user confirms it's them by step-up,
    //    and only a passkey is offered (an emailed code is not phishing-resistant); consent is
    //    remembered, so the browser goes straight back to the app.
    const second = await authorizationRequest(config, { prompt: 'login', acr_values: 'phr' });
    await page.goto(second.url.href);
    await page.getByRole('heading', { name: "Confirm it's you" }).first().waitFor();
    const dialog = page.locator('#step-up');
    await dialog.getByRole('button', { name: 'Use a passkey' }).waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Email me a code' }).isVisible(), false);
    const again = await arriveAtApp(page, () =>
      dialog.getByRole('button', { name: 'Use a passkey' }).click(),
    );
    const reauthenticated = await client.authorizationCodeGrant(config, again, {
      pkceCodeVerifier: second.verifier,
      expectedState: second.state,
      expectedNonce: second.nonce,
    });
    const claims = reauthenticated.claims();
    assert.deepEqual(claims?.amr, ['pop', 'user', 'mfa']);
    assert.equal(claims?.acr, 'phr');
    assert.ok((claims?.auth_time ?? 0) >= (tokens.claims()?.auth_time ?? Infinity));

    // 4. The account page lists the app and disconnects it.
    await page.goto(`${server.url}/account`);
    const item = page.locator('#connected-apps > li', { hasText: 'Example App' });
    await item.getByRole('button', { name: 'Disconnect Example App' }).click();
    await page.getByText('Example App is disconnected.').waitFor();
    assert.equal(await page.locator('#connected-apps-empty').count(), 1);
    await assert.rejects(
      client.refreshTokenGrant(config, reauthenticated.refresh_token ?? tokens.refresh_token ?? 'x'),
    );

    // 5. Signed out, the user comes back through the app: signs in with the passkey on the
    //    sign-in page and, the app having been disconnected, answers consent again.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/sign-in/);
    const third = await authorizationRequest(config);
    await page.goto(third.url.href);
    await page.waitForURL(/\/sign-in\?/);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Example App wants to access your account' }).waitFor();
    const back = await arriveAtApp(page, () => page.getByRole('button', { name: 'Allow' }).click());
    const viaPasskey = await client.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: third.verifier,
      expectedState: third.state,
      expectedNonce: third.nonce,
    });
    assert.equal(viaPasskey.claims()?.acr, 'phr');
    assert.deepEqual(viaPasskey.claims()?.amr, ['pop', 'user', 'mfa']);
  });

  /** Signs a fresh browser in through an authorization request (email code, consent) and returns its tokens. */
  async function signedInApp(email: string) {
    const device = await newContextWithAuthenticator(browser);
    devices.push(device);
    const { page } = device;
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config);
    await page.goto(request.url.href);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue with email' }).click();
    await page.getByLabel('6-digit code').fill(readSignInMail(await server.latestMail(email)).code);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Not now' }).click();
    const callback = await arriveAtApp(page, () => page.getByRole('button', { name: 'Allow' }).click());
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    return { page, config, tokens };
  }

  async function arriveSignedOut(page: Page, action: () => Promise<void>): Promise<URL> {
    let arrived!: (url: URL) => void;
    const landing = new Promise<URL>((resolve) => {
      arrived = resolve;
    });
    await page.route(`${SIGNED_OUT}**`, async (route) => {
      arrived(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed out' });
    });
    await action();
    return within(landing, 'the app’s post-logout page');
  }

  test('RP-initiated logout: with id_token_hint the page submits itself (its script allowed by hash) and the form may redirect to the app', async () => {
    const { page, config, tokens } = await signedInApp('browser-logout@example.com');
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/.test(message.text())) blocked.push(message.text());
    });
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: SIGNED_OUT,
      state: 'bye',
    });
    const landed = await arriveSignedOut(page, () => page.goto(url.href).then(() => undefined));
    assert.equal(landed.searchParams.get('state'), 'bye');
    assert.deepEqual(blocked, []);
    const status = await (await page.context().request.get(`${server.url}/api/v1/session`)).status();
    assert.equal(status, 401, 'signed out of Gatehouse');
  });

  test('RP-initiated logout without a hint asks; "Yes, sign me out" returns to the app', async () => {
    const { page, config } = await signedInApp('browser-logout-ask@example.com');
    const url = client.buildEndSessionUrl(config, {
      client_id: WEB_APP.client_id,
      post_logout_redirect_uri: SIGNED_OUT,
    });
    await page.goto(url.href);
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    const landed = await arriveSignedOut(page, () =>
      page.getByRole('button', { name: 'Yes, sign me out' }).click(),
    );
    assert.equal(landed.origin + landed.pathname, SIGNED_OUT);
    const status = await (await page.context().request.get(`${server.url}/api/v1/session`)).status();
    assert.equal(status, 401);
  });
});
