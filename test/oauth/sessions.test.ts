import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { TestClient } from '../support/http-client.ts';
import {
  authorizationRequest,
  codeFlow,
  decodeJwt,
  discover,
  followAuthorization,
  reauthenticationPage,
  SIGNED_OUT,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import type { TestServer } from '../support/server.ts';
import { reauthenticateByEmail, signInWithEmail } from '../support/sign-in.ts';

/** Fills in and submits the provider's logout form like a browser would (the button's name/value included). */
async function submitLogout(agent: TestClient, page: string, logout: boolean) {
  const action = /<form id="logout-form" method="post" action="([^"]+)"/.exec(page)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(action && xsrf, 'a logout form');
  const form = new URLSearchParams({ xsrf, ...(logout ? { logout: 'yes' } : {}) });
  return agent.request('POST', new URL(action.replace(/&amp;/g, '&')).pathname, form.toString(), {
    'content-type': 'application/x-www-form-urlencoded',
  });
}

describe('OAuth provider: Gatehouse sessions, prompts and logout', () => {
  let server: TestServer;
  before(async () => {
    server = await startOAuthGatehouse();
  });
  after(() => server.close());

  async function signedInWithGrant(email: string) {
    const agent = new TestClient(server.url);
    const userId = await signInWithEmail(server, agent, email);
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, agent, config);
    return { agent, userId, config, tokens };
  }

  test('prompt=none without a session: login_required at the client', async () => {
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config, { prompt: 'none' });
    const outcome = await followAuthorization(server, new TestClient(server.url), request.url);
    assert.equal(outcome.callback?.searchParams.get('error'), 'login_required');
    assert.equal(outcome.callback?.searchParams.get('state'), request.state);
  });

  test('prompt=none with a session and earlier consent: a code without any page', async () => {
    const { agent, config } = await signedInWithGrant('silent@example.com');
    const request = await authorizationRequest(config, { prompt: 'none' });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.ok(outcome.callback?.searchParams.get('code'));
    assert.equal(outcome.consentShown, false);
  });

  test('signing out of Gatehouse ends the provider session for it', async () => {
    const { agent, config } = await signedInWithGrant('sign-out@example.com');
    assert.equal((await agent.delete('/api/v1/session')).status, 204);
    const outcome = await followAuthorization(
      server,
      agent,
      (await authorizationRequest(config, { prompt: 'none' })).url,
    );
    assert.equal(outcome.callback?.searchParams.get('error'), 'login_required');
  });

  test('revoking the session from another device ends the provider session for it', async () => {
    const { agent, config } = await signedInWithGrant('revoked@example.com');
    const phone = new TestClient(server.url);
    await signInWithEmail(server, phone, 'revoked@example.com');
    const { body } = await phone.get('/api/v1/sessions');
    const laptop = body.sessions.find((s: { current: boolean }) => !s.current);
    assert.equal((await phone.delete(`/api/v1/sessions/${laptop.id}`)).status, 204);
    const outcome = await followAuthorization(
      server,
      agent,
      (await authorizationRequest(config, { prompt: 'none' })).url,
    );
    assert.equal(outcome.callback?.searchParams.get('error'), 'login_required');
  });

  test('signing in again (a new Gatehouse session) is reflected in auth_time without a prompt', async () => {
    const { agent, config, tokens } = await signedInWithGrant('again@example.com');
    const before = tokens.claims()!.auth_time!;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await signInWithEmail(server, agent, 'again@example.com');
    const next = await codeFlow(server, agent, config);
    assert.ok(next.claims()!.auth_time! > before);
  });

  test('max_age=1: a sign-in older than a second must be repeated, by step-up', async () => {
    const { agent, config } = await signedInWithGrant('max-age@example.com');
    const before = (await agent.get('/api/v1/session')).body;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const request = await authorizationRequest(config, { max_age: '1' });
    const page = reauthenticationPage(server, await followAuthorization(server, agent, request.url));
    assert.deepEqual(page.requirement, { factors: [], methods: ['email'], secondFactor: null });
    assert.match(page.text, /Not max-age@example\.com\? <a href="\/sign-in\?[^"]*reauth=1/);
    // Coming back without re-authenticating changes nothing.
    reauthenticationPage(server, await followAuthorization(server, agent, page.resume));
    const reauthenticated = await reauthenticateByEmail(server, agent, 'max-age@example.com');
    assert.equal(reauthenticated.status, 200, reauthenticated.text);
    const resumed = await followAuthorization(server, agent, page.resume);
    const tokens = await client.authorizationCodeGrant(config, resumed.callback!, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      maxAge: 1,
    });
    assert.ok(Date.now() / 1000 - tokens.claims()!.auth_time! <= 2);
    const after = (await agent.get('/api/v1/session')).body;
    assert.notEqual(after.session.id, before.session.id, 'the step-up issued a new session');
    assert.equal(after.user.id, before.user.id, 'for the same user');
  });

  test('max_age=0: one step-up is enough (no loop)', async () => {
    const { agent, config } = await signedInWithGrant('max-age-zero@example.com');
    const request = await authorizationRequest(config, { max_age: '0' });
    const page = reauthenticationPage(server, await followAuthorization(server, agent, request.url));
    await reauthenticateByEmail(server, agent, 'max-age-zero@example.com');
    const resumed = await followAuthorization(server, agent, page.resume);
    assert.ok(resumed.callback?.searchParams.get('code'));
  });

  test('prompt=login forces a re-authentication even with a fresh session', async () => {
    const { agent, config } = await signedInWithGrant('prompt-login@example.com');
    const request = await authorizationRequest(config, { prompt: 'login' });
    const page = reauthenticationPage(server, await followAuthorization(server, agent, request.url));
    // Coming back without re-authenticating does not satisfy it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    reauthenticationPage(server, await followAuthorization(server, agent, page.resume));
    await reauthenticateByEmail(server, agent, 'prompt-login@example.com');
    const resumed = await followAuthorization(server, agent, page.resume);
    assert.ok(resumed.callback?.searchParams.get('code'));
  });

  test('prompt=login: a signed-out user is sent to the sign-in page and comes back', async () => {
    const agent = new TestClient(server.url);
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config, { prompt: 'login' });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.ok(outcome.signIn, 'sent to sign in');
    assert.equal(outcome.signIn.searchParams.get('reauth'), null);
    await signInWithEmail(server, agent, 'prompt-login-out@example.com');
    const resumed = await followAuthorization(
      server,
      agent,
      new URL(outcome.signIn.searchParams.get('redirectTo')!, server.url),
    );
    assert.ok(resumed.callback?.searchParams.get('code'));
  });

  test('cancelling the re-authentication: access_denied at the client, audited', async () => {
    const { agent, config, userId } = await signedInWithGrant('cancel-login@example.com');
    const request = await authorizationRequest(config, { prompt: 'login' });
    const page = reauthenticationPage(server, await followAuthorization(server, agent, request.url));
    const answer = await agent.post(`${page.resume.pathname}/abandon`, {});
    assert.equal(answer.status, 200, answer.text);
    const back = await followAuthorization(server, agent, new URL(answer.body.redirectTo, server.url));
    assert.equal(back.callback?.searchParams.get('error'), 'access_denied');
    assert.equal(back.callback?.searchParams.get('state'), request.state);
    const events = await server.services.stores.audit.list({
      userId,
      type: 'oauth.reauthentication_abandoned',
      limit: 5,
    });
    assert.equal(events.length, 1);
  });

  test('RP-initiated logout with a valid id_token_hint: no question, back to the app, signed out of Gatehouse', async () => {
    const { agent, config, tokens } = await signedInWithGrant('logout-hint@example.com');
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: SIGNED_OUT,
      state: 'bye',
    });
    const page = await agent.get(url.pathname + url.search);
    assert.equal(page.status, 200);
    assert.match(page.text, /Signing you out/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'sha256-[^']+'/, 'only the hashed auto-submit script may run');
    assert.match(csp, /form-action 'self' https:\/\/app\.example\.test/);
    const confirmed = await submitLogout(agent, page.text, true);
    assert.equal(confirmed.status, 303);
    const location = new URL(confirmed.headers.get('location')!);
    assert.equal(location.origin + location.pathname, SIGNED_OUT);
    assert.equal(location.searchParams.get('state'), 'bye');
    assert.equal((await agent.get('/api/v1/session')).status, 401, 'the Gatehouse session ended too');
    // The grant's refresh token was revoked with the session.
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token ?? 'none'));
  });

  test('RP-initiated logout without a hint asks first; "stay signed in" keeps the Gatehouse session', async () => {
    const { agent, config } = await signedInWithGrant('logout-ask@example.com');
    const url = client.buildEndSessionUrl(config, {
      client_id: WEB_APP.client_id,
      post_logout_redirect_uri: SIGNED_OUT,
    });
    const page = await agent.get(url.pathname + url.search);
    assert.match(page.text, /Sign out\?/);
    assert.doesNotMatch(page.text, /<script>/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'strict-dynamic'/);
    const stayed = await submitLogout(agent, page.text, false);
    assert.equal(stayed.status, 303);
    assert.equal((await agent.get('/api/v1/session')).status, 200);
  });

  test('a logout request for a browser without a provider session never signs it out of Gatehouse', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'forced@example.com');
    const config = await discover(server, WEB_APP);
    const url = client.buildEndSessionUrl(config, { client_id: WEB_APP.client_id });
    const page = await agent.get(url.pathname + url.search);
    // The provider answers with its own auto-submitting form (nothing to ask about).
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const posted = await agent.request(
      'POST',
      '/oauth/logout/confirm',
      new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    assert.equal(posted.status, 303);
    assert.equal((await agent.get('/api/v1/session')).status, 200);
  });

  test('connected apps: listed, revocable; revoking kills its tokens and asks for consent again', async () => {
    const { agent, config, tokens, userId } = await signedInWithGrant('apps@example.com');
    const listed = await agent.get('/api/v1/connected-apps');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.apps.map((app: { clientId: string; scopes: string[] }) => [
        app.clientId,
        app.scopes.sort(),
      ]),
      [[WEB_APP.client_id, ['email', 'openid']]],
    );
    const page = await agent.get('/account');
    assert.match(page.text, /Connected apps[\s\S]*Example App/);
    assert.equal((await agent.delete('/api/v1/connected-apps/nope')).status, 404);
    assert.equal((await agent.delete(`/api/v1/connected-apps/${WEB_APP.client_id}`)).status, 204);
    assert.deepEqual((await agent.get('/api/v1/connected-apps')).body.apps, []);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!));
    const again = await followAuthorization(server, agent, (await authorizationRequest(config)).url);
    assert.ok(again.consentShown, 'consent asked again');
    const [event] = await server.services.stores.audit.list({ userId, type: 'oauth.app_revoked', limit: 1 });
    assert.equal(event?.details['clientId'], WEB_APP.client_id);
    assert.equal((await new TestClient(server.url).get('/api/v1/connected-apps')).status, 401);
  });

  test('the consent answer needs JSON from our own pages', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'consent-csrf@example.com');
    const config = await discover(server, WEB_APP);
    const start = await agent.get(
      (await authorizationRequest(config)).url.pathname + (await authorizationRequest(config)).url.search,
    );
    let location = start.headers.get('location')!;
    let page = await agent.get(location);
    while (page.status === 303) {
      location = page.headers.get('location')!;
      page = await agent.get(location);
    }
    assert.match(page.text, /data-page="consent"/);
    const path = `${new URL(location, server.url).pathname}/consent`;
    const crossSite = await agent.post(path, { decision: 'allow' }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    const form = await agent.request('POST', path, JSON.stringify({ decision: 'allow' }), {
      'content-type': 'text/plain',
    });
    assert.equal(form.status, 415);
    const other = new TestClient(server.url);
    await signInWithEmail(server, other, 'someone-else@example.com');
    for (const [name, value] of agent.cookies)
      if (name.startsWith('gatehouse_oidc')) other.cookies.set(name, value);
    const intruder = await other.post(path, { decision: 'allow' });
    assert.equal(intruder.status, 400, 'another user cannot answer someone else’s consent');
    const allowed = await agent.post(path, { decision: 'allow' });
    assert.equal(allowed.status, 200);
  });

  test('ID tokens: ES256 by default, carrying auth_time, amr and acr of the Gatehouse session', async () => {
    const { tokens } = await signedInWithGrant('id-token@example.com');
    const { header, payload } = decodeJwt(tokens.id_token!);
    assert.equal(header['alg'], 'ES256');
    assert.deepEqual(payload['amr'], ['otp']);
    assert.equal(payload['acr'], 'urn:gatehouse:acr:basic');
    const session = await server.services.database.db
      .selectFrom('sessions')
      .select(['auth_time'])
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    assert.equal(payload['auth_time'], Math.floor(Number(session?.auth_time) / 1000));
  });
});
