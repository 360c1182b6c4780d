import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { DEVICE_CODE_GRANT } from '../../src/domain/oauth-provider/client-policy.ts';
import { launchBrowser, newContextWithAuthenticator, skipUnlessChromium } from '../support/browser.ts';
import { approveDevice, enterCode, errorCodeOf, postForm, TV_APP, xsrfOf } from '../support/device-flow.ts';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  CLIENTS,
  decodeJwt,
  discover,
  providerPost,
  SPA,
  startOAuthGatehouse,
  WEB_APP,
  refusalOf,
} from '../support/oauth.ts';
import { readSignInMail, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

/**
 * The device authorization grant (RFC 8628) end to end: openid-client plays the device
 * (initiateDeviceAuthorization, pollDeviceAuthorizationGrant); the user's part runs in Chromium
 * (sign-in with an emailed code and a passkey) or, for the refusals, in a cookie-keeping HTTP
 * agent that submits the same forms.
 */

const USER_LIMIT = 6;
const SETTINGS = {
  clients: [...CLIENTS, TV_APP],
  // Whole seconds: openid-client waits `interval` between polls.
  deviceFlow: { pollIntervalMs: 1000, userCodeAttempts: { perIdentifier: { limit: USER_LIMIT } } },
};

describe('OAuth provider: device authorization grant (RFC 8628)', () => {
  let server: TestServer;
  let tv: client.Configuration;
  /** Real time that a test can move forward (the polling pace counts on Gatehouse's clock). */
  const clock = { shift: 0, now: (): number => Date.now() + clock.shift };

  before(async () => {
    server = await startOAuthGatehouse(SETTINGS, {}, { clock });
    tv = await discover(server, TV_APP);
  });
  after(() => server?.close());

  test('discovery: the device authorization endpoint and grant are advertised; codes are 8 base-20 letters and interval is sent', async () => {
    const metadata = tv.serverMetadata();
    assert.equal(metadata.device_authorization_endpoint, `${server.url}/oauth/device/auth`);
    assert.ok(metadata.grant_types_supported?.includes(DEVICE_CODE_GRANT));
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    assert.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(started.verification_uri, `${server.url}/oauth/device`);
    assert.equal(
      started.verification_uri_complete,
      `${server.url}/oauth/device?user_code=${started.user_code}`,
    );
    assert.equal(started.interval, 1);
    assert.equal(started.expires_in, 600);
    assert.ok(started.device_code.length >= 43, 'the device code is a long random secret');
    // At rest only its hash keys the row, and neither code is in the clear (DESIGN §3).
    const row = await server.services.stores.oauthModels.find('DeviceCode', sha256(started.device_code));
    assert.ok(row, 'keyed by SHA-256 of the device code');
    assert.ok(!row.payload.includes(started.device_code));
  });

  test('a client without the device grant is refused (unauthorized_client)', async () => {
    for (const setup of [WEB_APP, SPA]) {
      const other = await discover(server, setup);
      const refused = await refusalOf(client.initiateDeviceAuthorization(other, { scope: 'openid' }));
      assert.equal(refused.error, 'unauthorized_client', setup.client_id);
    }
    // Nor may it redeem another client's device code at the token endpoint.
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const stolen = await providerPost(
      server,
      '/oauth/token',
      { grant_type: DEVICE_CODE_GRANT, device_code: started.device_code },
      WEB_APP,
    );
    assert.equal(stolen.status, 400);
    assert.equal(stolen.body['error'], 'unauthorized_client');
  });

  test('signed out, /oauth/device sends the browser to sign in first, keeping the code of verification_uri_complete', async () => {
    const agent = new TestClient(server.url);
    const entry = await agent.get('/oauth/device?user_code=BCDF-GHJK');
    assert.equal(entry.status, 303);
    const target = new URL(entry.headers.get('location') ?? '', server.url);
    assert.equal(target.pathname, '/sign-in');
    assert.equal(target.searchParams.get('redirectTo'), '/oauth/device?user_code=BCDF-GHJK');
    // Every spelling the provider's router accepts goes through the same gate.
    for (const path of ['/oauth/device/', '/oauth/DEVICE']) {
      const other = await agent.get(path);
      assert.equal(other.status, 303, path);
      assert.match(other.headers.get('location') ?? '', /^\/sign-in\?/);
    }
    const posted = await postForm(agent, { xsrf: 'x', user_code: 'BCDF-GHJK' });
    assert.equal(posted.status, 303, 'no code is looked up for a signed-out browser');
  });

  test('a wrong user code is refused with a clear message (invalid_user_code), and the form comes back', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'device-wrong@example.com');
    const wrong = await enterCode(agent, 'BBBB-BBBB');
    assert.equal(wrong.status, 400);
    assert.equal(errorCodeOf(wrong), 'invalid_user_code');
    assert.match(wrong.text, /That code is not valid/);
    assert.match(wrong.text, /value="BBBB-BBBB"/, 'what was typed is shown again to correct');
    assert.match(wrong.headers.get('content-security-policy') ?? '', /script-src 'strict-dynamic'/);
    const empty = await postForm(agent, { xsrf: xsrfOf(wrong), user_code: '' });
    assert.equal(empty.status, 400);
    assert.equal(errorCodeOf(empty), 'missing_user_code');
  });

  test('user codes: lower case and without the dash are accepted; the confirmation page names the app, the code and where the request came from', async () => {
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'device-typing@example.com');
    const confirmation = await enterCode(agent, started.user_code.replace('-', ' ').toLowerCase());
    assert.equal(confirmation.status, 200);
    assert.match(confirmation.text, /Connect Living Room TV\?/);
    assert.match(confirmation.text, new RegExp(`id="device-user-code">${started.user_code}<`));
    assert.match(confirmation.text, /The request came from 127\.0\.0\.1/);
  });

  test('denying on the confirmation page: the poller gets access_denied and the code cannot be used again', async () => {
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'device-deny@example.com');
    const confirmation = await enterCode(agent, started.user_code);
    const denied = await postForm(agent, {
      xsrf: xsrfOf(confirmation),
      user_code: started.user_code,
      abort: 'yes',
    });
    assert.equal(denied.status, 200);
    assert.match(denied.text, /Access denied/);
    const [event] = await server.services.stores.audit.list({ type: 'oauth.consent_denied', limit: 1 });
    assert.deepEqual(event?.details, { clientId: TV_APP.client_id, flow: 'device' });
    const poll = await providerPost(
      server,
      '/oauth/token',
      { grant_type: DEVICE_CODE_GRANT, device_code: started.device_code },
      TV_APP,
    );
    assert.equal(poll.body['error'], 'access_denied');
    const again = await enterCode(agent, started.user_code);
    assert.equal(errorCodeOf(again), 'used_user_code');
  });

  test('denying at consent: the poller (openid-client) gets access_denied', async () => {
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid email' });
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'device-consent-deny@example.com');
    const outcome = await approveDevice(server, agent, started.user_code, 'deny');
    assert.ok(outcome.consentShown, 'the consent page was shown');
    assert.match(outcome.stoppedAt?.text ?? '', /Access denied/);
    assert.equal((await refusalOf(client.pollDeviceAuthorizationGrant(tv, started))).error, 'access_denied');
  });

  test('an expired code: the page says so (expired_user_code) and the poller gets expired_token', async () => {
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    // Age the stored device code past its lifetime (the provider checks `exp` in its payload).
    const { oauthModels } = server.services.stores;
    const row = await oauthModels.findByUserCode('DeviceCode', started.user_code.replace('-', ''));
    assert.ok(row);
    const payload = JSON.parse(row.payload) as { exp: number };
    payload.exp = Math.floor(Date.now() / 1000) - 1;
    await oauthModels.upsert({ ...row, payload: JSON.stringify(payload) });
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'device-expired@example.com');
    const page = await enterCode(agent, started.user_code);
    assert.equal(page.status, 400);
    assert.equal(errorCodeOf(page), 'expired_user_code');
    const refused = await refusalOf(client.pollDeviceAuthorizationGrant(tv, started));
    assert.equal(refused.error, 'expired_token');
  });

  test('polling faster than the interval gets slow_down, and the interval grows by 5 s (RFC 8628 §3.5)', async () => {
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const poll = () =>
      providerPost(
        server,
        '/oauth/token',
        { grant_type: DEVICE_CODE_GRANT, device_code: started.device_code },
        TV_APP,
      );
    assert.equal((await poll()).body['error'], 'authorization_pending');
    const tooSoon = await poll();
    assert.equal(tooSoon.status, 400);
    assert.equal(tooSoon.body['error'], 'slow_down');
    clock.shift += 1000;
    assert.equal(
      (await poll()).body['error'],
      'slow_down',
      '1 s is no longer enough: the interval is 6 s now',
    );
    // The device kept polling early, so the interval is 11 s now; at that pace it is fine again.
    clock.shift += 11_000;
    assert.equal((await poll()).body['error'], 'authorization_pending');
    clock.shift += 6000;
    assert.equal((await poll()).body['error'], 'slow_down', 'the longer interval stays');
  });

  test('user-code attempts are limited per user: past the limit 429 with Retry-After, before any code is looked up', async () => {
    const started = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'device-guess@example.com');
    const entry = await agent.get('/oauth/device');
    let xsrf = xsrfOf(entry);
    for (let attempt = 0; attempt < USER_LIMIT; attempt++) {
      const wrong = await postForm(agent, { xsrf, user_code: `BBBB-BBB${'CDFGHJKLMN'[attempt]}` });
      assert.equal(wrong.status, 400);
      xsrf = xsrfOf(wrong);
    }
    const limited = await postForm(agent, { xsrf, user_code: started.user_code });
    assert.equal(limited.status, 429);
    assert.equal(errorCodeOf(limited), 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.doesNotMatch(limited.text, /Connect Living Room TV/, 'the right code is not even looked at');
    const audit = await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 10 });
    assert.ok(
      audit.some((event) => (event.details as { endpoint?: string }).endpoint === 'device_user_code'),
      'the limit is audited',
    );
  });
});

describe('OAuth provider: device authorization grant in Chromium', { skip: skipUnlessChromium() }, () => {
  let server: TestServer;
  let browser: Browser;
  let tv: client.Configuration;

  before(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startOAuthGatehouse(SETTINGS)]);
    tv = await discover(server, TV_APP);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('device code issued; a signed-out user signs in (email code, then a passkey), confirms the code and consents; the device gets a JWT access token, a refresh token and an ID token', async () => {
    const device = await newContextWithAuthenticator(browser);
    const { page } = device;
    try {
      await page.goto(`${server.url}/healthz`);
      await device.setConditionalMediation(false);
      const blocked: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/.test(message.text())) blocked.push(message.text());
      });
      const email = 'device-browser@example.com';

      // 1. The TV asks for a code and starts polling; the user opens verification_uri_complete.
      const started = await client.initiateDeviceAuthorization(tv, {
        scope: 'openid email offline_access read',
        resource: API,
      });
      const polling = client.pollDeviceAuthorizationGrant(tv, started, { resource: API });
      polling.catch(() => {}); // awaited below; a failure before then must not go unhandled
      await page.goto(started.verification_uri_complete ?? '');

      // 2. Signed out: Gatehouse's sign-in first (email code, then a new passkey), then back.
      await page.waitForURL(/\/sign-in\?/);
      await page.getByLabel('Email address').fill(email);
      await page.getByRole('button', { name: 'Continue with email' }).click();
      await page.getByLabel('6-digit code').fill(readSignInMail(await server.latestMail(email)).code);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('button', { name: 'Create a passkey' }).click();

      // 3. The confirmation page: the app and the code to compare with the TV's.
      await page.getByRole('heading', { name: 'Connect Living Room TV?' }).waitFor();
      assert.equal(await page.locator('#device-user-code').textContent(), started.user_code);
      await page.getByRole('button', { name: 'Yes, it is my device' }).click();

      // 4. Consent (the existing rules: a first request from this app asks), then done.
      await page.getByRole('heading', { name: 'Living Room TV wants to access your account' }).waitFor();
      assert.match((await page.locator('#permissions').textContent()) ?? '', /See your email address/);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.getByRole('heading', { name: 'Your device is connected' }).waitFor();

      // 5. The device's poll ends with tokens.
      const tokens = await polling;
      const access = decodeJwt(tokens.access_token);
      assert.equal(access.header['typ'], 'at+jwt');
      assert.equal(access.payload['aud'], API);
      assert.equal(access.payload['client_id'], TV_APP.client_id);
      assert.equal(access.payload['scope'], 'read');
      assert.ok(tokens.refresh_token, 'a refresh token (offline_access)');
      const claims = tokens.claims();
      assert.ok(claims);
      assert.equal(claims.aud, TV_APP.client_id);
      assert.equal(claims.iss, server.url);
      assert.deepEqual(claims.amr, ['otp']);
      assert.equal(claims.sub, access.payload['sub']);
      const refreshed = await client.refreshTokenGrant(tv, tokens.refresh_token, { resource: API });
      assert.ok(refreshed.access_token);
      assert.equal((await device.credentials()).length, 1, 'the passkey was created');
      const apps = await (await page.context().request.get(`${server.url}/api/v1/connected-apps`)).json();
      assert.ok(JSON.stringify(apps).includes('tv-app'), 'the TV is listed among connected apps');

      // 6. Signed out, a second TV request, typed by hand: sign in with the passkey; consent is
      //    remembered.
      await page.context().request.delete(`${server.url}/api/v1/session`);
      const second = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
      const secondPoll = client.pollDeviceAuthorizationGrant(tv, second);
      secondPoll.catch(() => {}); // awaited below; a failure before then must not go unhandled
      await page.goto(second.verification_uri);
      await page.waitForURL(/\/sign-in\?/);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.getByLabel('Code from your device').fill(second.user_code.toLowerCase());
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Yes, it is my device' }).click();
      // A native app's identity cannot be assured, so the provider asks every time (its
      // native_client_prompt), but only to confirm: nothing new is asked for.
      await page.getByRole('heading', { name: 'Living Room TV wants to access your account' }).waitFor();
      assert.match(
        (await page.locator('#permissions').textContent()) ?? '',
        /nothing you have not allowed before/,
      );
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.getByRole('heading', { name: 'Your device is connected' }).waitFor();
      const again = (await secondPoll).claims();
      assert.deepEqual(again?.amr, ['pop', 'user', 'mfa']);
      assert.equal(again?.sub, claims.sub);
      assert.deepEqual(blocked, [], 'no page needed a script the CSP blocks');
    } finally {
      await device.context.close();
    }
  });
});
