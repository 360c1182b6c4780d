/**
 * A half-authenticated Gatehouse session (first factor done, second pending) seen from the OAuth
 * provider: it is no session there (src/http/oauth-session-bridge.ts), whether the provider has
 * a session of its own for the browser or not. An authorization request with it goes to the
 * sign-in page (prompt=none: login_required) and never yields a code; once the second factor is
 * in, the same request goes through.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../support/http-client.ts';
import { currentCode, enrolTotp } from '../support/mfa.ts';
import {
  authorizationRequest,
  CALLBACK,
  codeFlow,
  discover,
  followAuthorization,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import { TestClock, type TestServer } from '../support/server.ts';
import { emailFirstFactor, signInWithEmail } from '../support/sign-in.ts';

describe('OAuth provider: a half-authenticated session', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startOAuthGatehouse({}, {}, { clock });
  });
  after(() => server.close());

  /** A user with an authenticator app; returns its secret. */
  async function enrolled(email: string): Promise<string> {
    const setup = new TestClient(server.url);
    await signInWithEmail(server, setup, email);
    return (await enrolTotp(server, setup, clock)).secret;
  }

  /** A browser holding a half-authenticated session for `email` (email sign-in answered mfa_required). */
  async function halfSignedIn(agent: TestClient, email: string): Promise<string> {
    const first = await emailFirstFactor(server, agent, email);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.mfa_required, true);
    const pending = agent.cookies.get(SESSION_COOKIE);
    assert.ok(pending, 'a half-authenticated session cookie');
    return pending;
  }

  /** Completes the sign-in with the authenticator code of the current step (each works once). */
  async function completeSecondFactor(agent: TestClient, secret: string): Promise<void> {
    const verified = await agent.post('/api/v1/mfa/verify', { code: currentCode(server, secret) });
    assert.equal(verified.status, 200, verified.text);
    assert.deepEqual([...verified.body.session.amr].sort(), ['mfa', 'otp']);
  }

  test('is signed out to the provider: sent to /sign-in, prompt=none gets login_required, no code; after the second factor the same request succeeds', async () => {
    const secret = await enrolled('pending-oauth@example.com');
    const agent = new TestClient(server.url);
    await halfSignedIn(agent, 'pending-oauth@example.com');
    const config = await discover(server, WEB_APP);

    const silent = await authorizationRequest(config, { prompt: 'none' });
    const refused = await followAuthorization(server, agent, silent.url);
    assert.ok(refused.callback, JSON.stringify(refused).slice(0, 300));
    assert.equal(refused.callback.searchParams.get('error'), 'login_required');
    assert.equal(refused.callback.searchParams.get('state'), silent.state);
    assert.equal(refused.callback.searchParams.get('code'), null, 'no code');

    const request = await authorizationRequest(config);
    const outcome = await followAuthorization(server, agent, request.url);
    assert.equal(outcome.callback, null, 'never back at the client');
    assert.equal(outcome.consentShown, false, 'no consent page for a half-signed-in user');
    assert.ok(outcome.signIn, JSON.stringify(outcome).slice(0, 300));
    const resume = outcome.signIn.searchParams.get('redirectTo');
    assert.match(resume ?? '', /^\/interaction\//);
    // Coming back to the interaction still half signed in changes nothing.
    const again = await followAuthorization(server, agent, new URL(resume ?? '', server.url));
    assert.ok(again.signIn, JSON.stringify(again).slice(0, 300));
    assert.equal(again.callback, null);

    // The second factor completes the sign-in; the sign-in page sends the browser back to the
    // interaction, and the same authorization request ends at the client with a code.
    await completeSecondFactor(agent, secret);
    const resumed = await followAuthorization(server, agent, new URL(resume ?? '', server.url));
    assert.ok(resumed.callback, JSON.stringify(resumed).slice(0, 300));
    assert.equal(`${resumed.callback.origin}${resumed.callback.pathname}`, CALLBACK);
    assert.equal(resumed.callback.searchParams.get('state'), request.state);
    assert.ok(resumed.callback.searchParams.get('code'), 'a code');
    const tokens = await client.authorizationCodeGrant(config, resumed.callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    assert.deepEqual([...((tokens.claims()?.amr as string[] | undefined) ?? [])].sort(), ['mfa', 'otp']);
  });

  test('a provider session does not carry over to the half-authenticated sign-in that replaced it, even within the same second', async () => {
    const secret = await enrolled('pending-replaced@example.com');
    const agent = new TestClient(server.url);
    await halfSignedIn(agent, 'pending-replaced@example.com');
    await completeSecondFactor(agent, secret);
    const config = await discover(server, WEB_APP);
    // A provider session and a grant for this browser: prompt=none would now give a code.
    await codeFlow(server, agent, config);
    const silent = await followAuthorization(
      server,
      agent,
      (await authorizationRequest(config, { prompt: 'none' })).url,
    );
    assert.ok(silent.callback?.searchParams.get('code'), JSON.stringify(silent).slice(0, 300));

    // Signing in again in this browser: the full session ends, the new one waits for its second
    // factor. The clock stands still, so the new session's auth time is the very second the
    // provider session was logged in with (same user, same auth_time): only its being pending
    // tells them apart.
    const pending = await halfSignedIn(agent, 'pending-replaced@example.com');
    const request = await authorizationRequest(config, { prompt: 'none' });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.equal(agent.cookies.get(SESSION_COOKIE), pending);
    assert.ok(outcome.callback, JSON.stringify(outcome).slice(0, 300));
    assert.equal(outcome.callback.searchParams.get('code'), null, 'no code for a pending session');
    assert.equal(outcome.callback.searchParams.get('error'), 'login_required');
    const interactive = await followAuthorization(server, agent, (await authorizationRequest(config)).url);
    assert.ok(interactive.signIn, JSON.stringify(interactive).slice(0, 300));

    // A new code for the next step (the one spent above works once).
    clock.advance(30_000);
    await completeSecondFactor(agent, secret);
    const resumed = await followAuthorization(
      server,
      agent,
      new URL(interactive.signIn.searchParams.get('redirectTo') ?? '', server.url),
    );
    assert.ok(resumed.callback?.searchParams.get('code'), JSON.stringify(resumed).slice(0, 300));
  });
});
