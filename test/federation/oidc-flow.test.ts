import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../../src/ports/audit-log.ts';
import { TestClient, type TestResponse } from '../support/http-client.ts';
import { type IdTokenShape, type IssuerAccount, JoseIssuer } from '../support/jose-issuer.ts';
import { currentCode, enrolTotp } from '../support/mfa.ts';
import { readSignInMail, startGatehouse, TestClock, type TestServer } from '../support/server.ts';

/**
 * Federation with a generic OpenID Connect provider, over HTTP against a real Gatehouse and a
 * small jose-built issuer that can answer what a real provider never would. Every refusal lands
 * on the sign-in page with a notice, creates nothing, and is audited.
 *
 * The issuer advertises `none` and `HS256` among its ID token algorithms on purpose: a careless
 * provider's metadata must not be what stops such tokens, Gatehouse's own allowlist must.
 */
const FLOW_COOKIE = '__Host-gatehouse_fed_flow';
const LINK_COOKIE = '__Host-gatehouse_fed_link';

describe('federation: OpenID Connect sign-in over HTTP', () => {
  const clock = new TestClock();
  let issuer: JoseIssuer;
  let other: JoseIssuer;
  let server: TestServer;
  let serial = 0;

  before(async () => {
    [issuer, other] = await Promise.all([
      JoseIssuer.start({
        clientId: 'gatehouse',
        clientSecret: 'test-client-secret',
        metadata: { id_token_signing_alg_values_supported: ['ES256', 'HS256', 'none'] },
      }),
      JoseIssuer.start({ clientId: 'gatehouse-other', clientSecret: 'other-secret' }),
    ]);
    server = await startGatehouse(
      {
        federation: {
          providers: [
            { id: 'test', issuer: issuer.issuer, clientId: 'gatehouse', clientSecret: 'test-client-secret' },
            {
              id: 'other',
              issuer: other.issuer,
              clientId: 'gatehouse-other',
              clientSecret: 'other-secret',
              displayName: 'Other IdP',
            },
            // Nothing listens on port 1: discovery fails.
            { id: 'down', issuer: 'http://127.0.0.1:1', clientId: 'x', clientSecret: 'y' },
          ],
        },
      },
      { clock },
    );
  });

  after(async () => {
    await server?.close();
    await Promise.all([issuer?.close(), other?.close()]);
  });

  /** A fresh person at the provider: unique subject and address. */
  function person(
    overrides: IssuerAccount = {},
  ): Required<Pick<IssuerAccount, 'sub' | 'email'>> & IssuerAccount {
    serial++;
    return {
      sub: `sub-${serial}`,
      email: `person${serial}@example.com`,
      email_verified: true,
      name: `Person ${serial}`,
      ...overrides,
    };
  }

  async function start(client: TestClient, path = '/auth/test'): Promise<string> {
    const response = await client.get(path);
    assert.equal(response.status, 302, response.text);
    return response.headers.get('location') ?? '';
  }

  /** Button → provider → callback, in one browser; `shape` bends the ID token. */
  async function signIn(
    client: TestClient,
    account: IssuerAccount,
    shape: IdTokenShape = {},
    at: JoseIssuer = issuer,
    path = '/auth/test',
  ): Promise<TestResponse<any>> {
    const location = await start(client, path);
    at.nextIdToken = shape;
    const { callbackUrl } = await at.authorize(location, account);
    return client.get(callbackUrl.pathname + callbackUrl.search);
  }

  function landsWith(response: TestResponse<any>, notice: string, path = '/sign-in'): URL {
    assert.equal(response.status, 302, response.text);
    const location = new URL(response.headers.get('location') ?? '', server.url);
    assert.equal(location.pathname, path);
    assert.equal(location.searchParams.get('federation'), notice);
    return location;
  }

  async function signedIn(client: TestClient): Promise<TestResponse<any>> {
    return client.get('/api/v1/session');
  }

  async function lastEvent(type: string): Promise<AuditEvent> {
    const [event] = await server.services.stores.audit.list({ type, limit: 1 });
    assert.ok(event, `an audit event ${type}`);
    return event;
  }

  /** Refused: no session, nothing created, a failure audited with this reason. */
  async function refused(
    client: TestClient,
    response: TestResponse<any>,
    reason: string,
    account: IssuerAccount,
  ) {
    landsWith(response, reason);
    assert.equal((await signedIn(client)).status, 401);
    assert.equal(await server.services.users.findByEmail(String(account.email)), undefined);
    const event = await lastEvent('sign_in.federated');
    assert.equal(event.outcome, 'failure');
    assert.equal(event.details.reason, reason);
    return event;
  }

  test('first sign-in creates the account, the second finds it; PKCE, state and nonce on every request', async () => {
    const client = new TestClient(server.url);
    const ada = person({ name: 'Ada Lovelace', amr: ['pwd', 'mfa'] });
    const location = new URL(await start(client));
    const request = location.searchParams;
    assert.equal(request.get('response_type'), 'code');
    assert.equal(request.get('code_challenge_method'), 'S256');
    assert.match(request.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(request.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(request.get('nonce') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(request.get('redirect_uri'), `${server.url}/auth/test/callback`);
    assert.equal(request.get('scope'), 'openid email profile');
    assert.equal(request.get('response_mode'), null);

    const { callbackUrl } = await issuer.authorize(location.href, ada);
    const first = await client.get(callbackUrl.pathname + callbackUrl.search);
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), '/account');
    const session = await signedIn(client);
    assert.equal(session.status, 200);
    assert.equal(session.body.user.email, ada.email);
    assert.equal(session.body.user.emailVerified, true, 'the provider vouched for the address');
    assert.equal(session.body.user.displayName, 'Ada Lovelace');
    // RFC 8176 "fed", plus what the provider reported; never the provider's "mfa", which
    // would let the upstream's word replace Gatehouse's own second factor.
    assert.deepEqual(session.body.session.amr, ['fed', 'pwd']);
    assert.equal(client.cookies.has(FLOW_COOKIE), false, 'the flow cookie is spent');
    // The token request carried the PKCE verifier for the challenge sent.
    const token = issuer.tokenRequests.at(-1);
    assert.match(token?.body.get('code_verifier') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(token?.authorization ?? '', /^Basic /, 'client_secret_basic, as the provider supports it');

    const identities = await client.get('/api/v1/identities');
    assert.equal(identities.status, 200);
    assert.equal(identities.body.identities.length, 1);
    assert.deepEqual(
      { ...identities.body.identities[0], id: undefined, createdAt: undefined, lastUsedAt: undefined },
      {
        id: undefined,
        provider: 'test',
        providerName: 'test',
        email: ada.email,
        emailVerified: true,
        createdAt: undefined,
        lastUsedAt: undefined,
      },
    );
    const stored = await server.services.stores.federatedIdentities.findBySubject(issuer.issuer, ada.sub);
    assert.equal(stored?.userId, session.body.user.id, 'keyed by (issuer, subject)');
    assert.equal((await lastEvent('user.created')).userId, session.body.user.id);

    // Second sign-in, another browser, a changed address at the provider: same account, found
    // by (issuer, subject), never by email.
    const later = new TestClient(server.url);
    const again = await signIn(later, { ...ada, email: 'ada.new@example.com' });
    assert.equal(again.status, 302);
    const second = await signedIn(later);
    assert.equal(second.body.user.id, session.body.user.id);
    assert.equal(await server.services.users.findByEmail('ada.new@example.com'), undefined);
    const event = await lastEvent('sign_in.federated');
    assert.equal(event.outcome, 'success');
    assert.equal(event.userId, session.body.user.id);
    assert.equal(event.details.provider, 'test');
  });

  test('the flow cookie is __Host-, HttpOnly, Secure, SameSite=Lax and short-lived', async () => {
    const response = await new TestClient(server.url).get('/auth/test');
    const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${FLOW_COOKIE}=`)) ?? '';
    assert.match(line, /; HttpOnly/);
    assert.match(line, /; Secure/);
    assert.match(line, /; SameSite=Lax/);
    assert.match(line, /; Path=\//);
    assert.doesNotMatch(line, /Domain=/i);
    assert.match(line, /Max-Age=600\b/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  test('redirectTo is checked by the redirect policy and honoured after sign-in', async () => {
    const client = new TestClient(server.url);
    const refusedStart = await client.get(
      `/auth/test?redirectTo=${encodeURIComponent('https://evil.example/')}`,
    );
    assert.equal(refusedStart.status, 400);
    assert.equal(refusedStart.body.error.code, 'redirect_refused');
    assert.equal(client.cookies.has(FLOW_COOKIE), false);
    const response = await signIn(client, person(), {}, issuer, '/auth/test?redirectTo=%2Faccount%3Ftab%3D1');
    assert.equal(response.headers.get('location'), `${server.url}/account?tab=1`);
  });

  test('a provider that cannot be reached sends the person back with a notice, audited', async () => {
    const client = new TestClient(server.url);
    landsWith(await client.get('/auth/down'), 'unavailable');
    assert.equal(client.cookies.has(FLOW_COOKIE), false);
    const event = await lastEvent('sign_in.federated');
    assert.equal(event.details.provider, 'down');
    assert.equal(event.details.reason, 'unavailable');
  });

  test('the sign-in pages offer each provider, keep the return address, and show only known notices', async () => {
    const client = new TestClient(server.url);
    const page = (await client.get('/sign-in?redirectTo=%2Faccount%3Ftab%3D2')).text;
    assert.match(page, /href="\/auth\/test\?redirectTo=%2Faccount%3Ftab%3D2"[^>]*>Continue with test</);
    assert.match(page, />Continue with Other IdP</);
    assert.match((await client.get('/sign-up')).text, /href="\/auth\/other"/);
    const notice = (await client.get('/sign-in?federation=cancelled&provider=other')).text;
    assert.match(notice, /You cancelled signing in with Other IdP\./);
    // The notice text is ours: nothing from the query string is reflected.
    const forged = (await client.get('/sign-in?federation=%3Cb%3Ehi&provider=%3Cscript%3E')).text;
    assert.doesNotMatch(forged, /federation-notice|<b>hi|<script>/);
    const unknownProvider = (await client.get('/sign-in?federation=failed&provider=%3Cscript%3E')).text;
    assert.match(unknownProvider, /Signing in with that provider didn&#39;t work/);
  });

  test('an unknown provider is a 404', async () => {
    const client = new TestClient(server.url);
    assert.equal((await client.get('/auth/nope')).status, 404);
    assert.equal((await client.get('/auth/nope/callback?code=x&state=y')).status, 404);
  });

  describe('the ID token', () => {
    const cases: Array<[string, (account: IssuerAccount) => IdTokenShape, RegExp]> = [
      ['from another issuer', () => ({ claims: (c) => ({ ...c, iss: 'https://evil.example' }) }), /iss/],
      ['for another client (aud)', () => ({ claims: (c) => ({ ...c, aud: 'someone-else' }) }), /aud/],
      ['without a subject', () => ({ claims: ({ sub: _sub, ...c }) => c }), /sub/],
      ['with another nonce', () => ({ claims: (c) => ({ ...c, nonce: 'not-the-one-we-sent' }) }), /nonce/],
      [
        'expired',
        () => ({ claims: (c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 120 }) }),
        /exp|timestamp/,
      ],
      ['unsigned (alg none)', () => ({ signing: 'none' }), /signature/],
      ['HMAC-signed with the client secret', () => ({ signing: 'hs256' }), /signature/],
      ['with a tampered signature', () => ({ tamper: true }), /signature/],
      ['signed by a key the provider does not publish', () => ({ signing: 'unpublished-key' }), /signature/],
    ];
    for (const [name, shape, detail] of cases) {
      test(`is refused when ${name}`, async () => {
        const client = new TestClient(server.url);
        const account = person();
        const response = await signIn(client, account, shape(account));
        const event = await refused(client, response, 'failed', account);
        assert.match(String(event.details.detail), detail);
      });
    }
  });

  test('a rotated provider key is fetched once the cache may refresh; an unknown kid alone cannot force fetches', async () => {
    // Prime the key cache.
    assert.equal((await signIn(new TestClient(server.url), person())).status, 302);
    const fetchesBefore = issuer.jwksRequests;
    await issuer.rotate();
    // Within the cooldown, a token under an unseen key is refused without another fetch.
    const early = new TestClient(server.url);
    const account = person();
    await refused(early, await signIn(early, account), 'failed', account);
    assert.equal(issuer.jwksRequests, fetchesBefore);
    // After it, the unknown kid triggers one refetch, which finds the new key.
    clock.advance(31_000);
    const later = new TestClient(server.url);
    assert.equal((await signIn(later, person())).status, 302);
    assert.equal((await signedIn(later)).status, 200);
    assert.equal(issuer.jwksRequests, fetchesBefore + 1);
  });

  describe('the flow is bound to the browser, the provider and one use', () => {
    test('a callback in another browser (no flow cookie) is refused, and the real flow still works', async () => {
      const victim = new TestClient(server.url);
      const account = person();
      const { callbackUrl } = await issuer.authorize(await start(victim), account);
      const attacker = new TestClient(server.url);
      await refused(
        attacker,
        await attacker.get(callbackUrl.pathname + callbackUrl.search),
        'expired',
        account,
      );
      assert.equal((await victim.get(callbackUrl.pathname + callbackUrl.search)).status, 302);
      assert.equal((await signedIn(victim)).status, 200);
    });

    test("a state minted for one provider is refused at another provider's callback (mix-up)", async () => {
      const client = new TestClient(server.url);
      const account = person();
      const { callbackUrl } = await issuer.authorize(await start(client), account);
      const response = await client.get(`/auth/other/callback${callbackUrl.search}`);
      const event = await refused(client, response, 'failed', account);
      assert.match(String(event.details.detail), /another provider|provider test/);
      assert.equal(other.tokenRequests.length, 0, 'the other provider never saw the code');
    });

    test('a replayed callback (copied cookie and URL) is refused even though the code still works', async () => {
      const client = new TestClient(server.url);
      const account = person();
      const location = await start(client);
      const cookie = client.cookies.get(FLOW_COOKIE) ?? '';
      const { callbackUrl } = await issuer.authorize(location, account);
      assert.equal((await client.get(callbackUrl.pathname + callbackUrl.search)).status, 302);
      const replayer = new TestClient(server.url);
      replayer.cookies.set(FLOW_COOKIE, cookie);
      const replay = await replayer.get(callbackUrl.pathname + callbackUrl.search);
      landsWith(replay, 'expired');
      assert.equal((await signedIn(replayer)).status, 401);
      assert.match(String((await lastEvent('sign_in.federated')).details.detail), /already used/);
    });

    test('an expired flow is refused', async () => {
      const client = new TestClient(server.url);
      const account = person();
      const { callbackUrl } = await issuer.authorize(await start(client), account);
      clock.advance(server.services.config.federation.flowTtlMs + 1000);
      await refused(client, await client.get(callbackUrl.pathname + callbackUrl.search), 'expired', account);
    });

    test('a forged or altered flow cookie is refused', async () => {
      const client = new TestClient(server.url);
      const account = person();
      const location = await start(client);
      const sealed = client.cookies.get(FLOW_COOKIE) ?? '';
      client.cookies.set(FLOW_COOKIE, `${sealed.slice(0, -4)}AAAA`);
      const { callbackUrl } = await issuer.authorize(location, account);
      await refused(client, await client.get(callbackUrl.pathname + callbackUrl.search), 'expired', account);
    });

    test('a callback whose state differs from the flow is refused', async () => {
      const client = new TestClient(server.url);
      const account = person();
      const { callbackUrl } = await issuer.authorize(await start(client), account);
      callbackUrl.searchParams.set('state', 'A'.repeat(43));
      await refused(client, await client.get(callbackUrl.pathname + callbackUrl.search), 'failed', account);
    });
  });

  test('an `iss` response parameter naming another issuer is refused (RFC 9207)', async () => {
    const client = new TestClient(server.url);
    const account = person();
    issuer.nextAuthorization = { iss: other.issuer };
    const tokenRequests = issuer.tokenRequests.length;
    const event = await refused(client, await signIn(client, account), 'failed', account);
    assert.match(String(event.details.detail), /iss/);
    assert.equal(issuer.tokenRequests.length, tokenRequests, 'the code was never redeemed');
  });

  test('cancelling at the provider lands on the sign-in page, audited', async () => {
    const client = new TestClient(server.url);
    const account = person();
    issuer.nextAuthorization = { error: 'access_denied' };
    const location = landsWith(await signIn(client, account), 'cancelled');
    assert.equal(location.searchParams.get('provider'), 'test');
    const event = await lastEvent('sign_in.federated');
    assert.equal(event.details.reason, 'cancelled');
  });

  describe('addresses', () => {
    test('an unverified address neither creates an account nor links to one', async () => {
      const client = new TestClient(server.url);
      const account = person({ email_verified: false });
      await refused(client, await signIn(client, account), 'email_unverified', account);
      // The same with an existing account for that address: it stays untouched.
      const owner = new TestClient(server.url);
      const ownerId = await emailSignIn(owner, String(account.email));
      const again = new TestClient(server.url);
      landsWith(await signIn(again, { ...account, email_verified: false }), 'email_unverified');
      assert.equal(again.cookies.has(LINK_COOKIE), false);
      assert.equal(await server.services.stores.federatedIdentities.countByUser(ownerId), 0);
    });

    test('no address at all is refused with its own message', async () => {
      const client = new TestClient(server.url);
      const { email: _email, ...account } = person();
      landsWith(await signIn(client, account), 'no_email');
    });

    test('a verified address of an existing account is linked only after its owner signs in', async () => {
      const owner = new TestClient(server.url);
      const account = person();
      const ownerId = await emailSignIn(owner, String(account.email));

      // Someone continues with the provider: not signed in, not linked, asked to prove the account.
      const browser = new TestClient(server.url);
      const held = await signIn(browser, account);
      const location = landsWith(held, 'link_required');
      assert.equal(location.searchParams.get('redirectTo'), '/account');
      assert.equal((await signedIn(browser)).status, 401);
      assert.equal(await server.services.stores.federatedIdentities.countByUser(ownerId), 0);
      assert.equal((await lastEvent('identity.link_pending')).userId, ownerId);
      const linkCookie = browser.cookies.get(LINK_COOKIE) ?? '';
      assert.ok(linkCookie);

      // Without a sign-in, there is nothing to confirm it with.
      assert.equal((await browser.post('/api/v1/identities/link')).status, 401);
      // Another browser signed in as the owner has no pending link.
      const noLink = await owner.post('/api/v1/identities/link');
      assert.equal(noLink.status, 400);
      assert.equal(noLink.body.error.code, 'invalid_or_expired');

      // The owner proves the account in this browser (emailed code), then confirms.
      clock.advance(1000);
      const userId = await emailCodeSignIn(browser, String(account.email));
      assert.equal(userId, ownerId);
      const linked = await browser.post('/api/v1/identities/link');
      assert.equal(linked.status, 200, linked.text);
      assert.equal(linked.body.identity.provider, 'test');
      assert.equal(browser.cookies.has(LINK_COOKIE), false);
      assert.equal((await lastEvent('identity.linked')).outcome, 'success');

      // Single use: the same cookie, put back, links nothing more.
      browser.cookies.set(LINK_COOKIE, linkCookie);
      const replay = await browser.post('/api/v1/identities/link');
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error.code, 'invalid_or_expired');

      // From now on the provider signs the owner in.
      const fresh = new TestClient(server.url);
      await signIn(fresh, account);
      assert.equal((await signedIn(fresh)).body.user.id, ownerId);
    });

    test('a pending link needs a sign-in after it was made, by the account it names', async () => {
      const account = person();
      const ownerId = await emailSignIn(new TestClient(server.url), String(account.email));
      // A browser already signed in (as the owner) before the link was held back.
      const stale = new TestClient(server.url);
      await emailSignIn(stale, String(account.email));
      const held = await signIn(stale, account);
      landsWith(held, 'link_required', '/account');
      const tooOld = await stale.post('/api/v1/identities/link');
      assert.equal(tooOld.status, 403);
      assert.match(tooOld.body.error.message, /Sign in again/);
      // Signed in as someone else, the held link is not theirs to take.
      const someoneElse = person();
      await emailSignIn(stale, String(someoneElse.email));
      const wrongUser = await stale.post('/api/v1/identities/link');
      assert.equal(wrongUser.status, 403);
      assert.equal(await server.services.stores.federatedIdentities.countByUser(ownerId), 0);
    });

    test('with sign-up closed, an unknown person is refused', async () => {
      const closed = await startGatehouse({
        signUp: 'closed',
        federation: {
          providers: [
            { id: 'test', issuer: issuer.issuer, clientId: 'gatehouse', clientSecret: 'test-client-secret' },
          ],
        },
      });
      try {
        const client = new TestClient(closed.url);
        const location = await (async () => {
          const response = await client.get('/auth/test');
          return response.headers.get('location') ?? '';
        })();
        const { callbackUrl } = await issuer.authorize(location, person());
        const response = await client.get(callbackUrl.pathname + callbackUrl.search);
        assert.equal(
          new URL(response.headers.get('location') ?? '', closed.url).searchParams.get('federation'),
          'sign_up_closed',
        );
        assert.equal((await client.get('/api/v1/session')).status, 401);
      } finally {
        await closed.close();
      }
    });
  });

  describe('linked accounts', () => {
    test('connecting a provider from the account page links it to the signed-in user', async () => {
      const client = new TestClient(server.url);
      const userId = await emailSignIn(client, person().email);
      const response = await signIn(
        client,
        person({ email: 'different@example.net' }),
        {},
        issuer,
        '/auth/test?intent=link',
      );
      landsWith(response, 'linked', '/account');
      const { identities } = (await client.get('/api/v1/identities')).body;
      assert.equal(identities.length, 1);
      assert.equal(identities[0].email, 'different@example.net');
      assert.equal((await signedIn(client)).body.user.id, userId, 'still the same session user');
    });

    test('connecting needs a session, and cannot take an upstream account linked to someone else', async () => {
      assert.equal((await new TestClient(server.url).get('/auth/test?intent=link')).status, 401);
      const taken = person();
      await signIn(new TestClient(server.url), taken);
      const client = new TestClient(server.url);
      await emailSignIn(client, person().email);
      landsWith(
        await signIn(client, taken, {}, issuer, '/auth/test?intent=link'),
        'already_linked',
        '/account',
      );
      assert.equal((await client.get('/api/v1/identities')).body.identities.length, 0);
    });

    test('unlinking: allowed while another way to sign in remains, refused for the last one', async () => {
      const client = new TestClient(server.url);
      await signIn(client, person());
      const [identity] = (await client.get('/api/v1/identities')).body.identities;
      // Another user cannot remove it.
      const stranger = new TestClient(server.url);
      await emailSignIn(stranger, person().email);
      assert.equal((await stranger.delete(`/api/v1/identities/${identity.id}`)).status, 404);
      // The account also has its verified address, so the identity is not the last way in.
      assert.equal((await client.delete(`/api/v1/identities/${identity.id}`)).status, 204);
      assert.equal((await client.get('/api/v1/identities')).body.identities.length, 0);
      assert.equal((await lastEvent('identity.unlinked')).outcome, 'success');

      // An account whose only way in is its identity keeps it.
      const { stores, sessions } = server.services;
      const { user } = await stores.users.createOrGet({
        id: `usr_${serial}`,
        email: `only-identity-${serial}@example.com`,
        emailVerifiedAt: null,
        displayName: null,
        createdAt: clock.now(),
        updatedAt: clock.now(),
        disabledAt: null,
      });
      const { identity: only } = await stores.federatedIdentities.createOrGet({
        id: `fid_${serial}`,
        userId: user.id,
        providerId: 'test',
        issuer: issuer.issuer,
        subject: `only-${serial}`,
        email: user.email,
        emailVerified: false,
        createdAt: clock.now(),
        lastUsedAt: null,
      });
      const issued = await sessions.issue(user.id, ['fed'], { ip: null, userAgent: null, requestId: null });
      const lone = new TestClient(server.url);
      lone.cookies.set('__Host-gatehouse_session', issued.token);
      const last = await lone.delete(`/api/v1/identities/${only.id}`);
      assert.equal(last.status, 409);
      assert.equal(last.body.error.code, 'last_sign_in_method');
    });
  });

  test('a federated sign-in is one factor: with MFA required the session waits for the second', async () => {
    const strict = await startGatehouse({
      mfa: { required: true },
      federation: {
        providers: [
          { id: 'test', issuer: issuer.issuer, clientId: 'gatehouse', clientSecret: 'test-client-secret' },
        ],
      },
    });
    try {
      const client = new TestClient(strict.url);
      const response = await client.get('/auth/test');
      const { callbackUrl } = await issuer.authorize(
        response.headers.get('location') ?? '',
        person({ amr: ['mfa'] }),
      );
      await client.get(callbackUrl.pathname + callbackUrl.search);
      const session = await client.get('/api/v1/session');
      assert.equal(session.status, 401, 'not signed in until the second factor');
      assert.equal(session.body.error.code, 'mfa_required');
    } finally {
      await strict.close();
    }
  });

  test('a user with an authenticator app finishes a federated sign-in on the second-factor step', async () => {
    const account = person();
    const first = new TestClient(server.url);
    const started = await first.get('/auth/test?redirectTo=/account');
    const { callbackUrl } = await issuer.authorize(started.headers.get('location') ?? '', account);
    await first.get(callbackUrl.pathname + callbackUrl.search);
    assert.equal((await first.get('/api/v1/session')).status, 200);
    const { secret } = await enrolTotp(server, first, clock);

    const browser = new TestClient(server.url);
    const again = await browser.get('/auth/test?redirectTo=/account');
    const back = await issuer.authorize(again.headers.get('location') ?? '', account);
    const landed = await browser.get(back.callbackUrl.pathname + back.callbackUrl.search);
    assert.equal(landed.status, 302);
    assert.equal(landed.headers.get('location'), '/sign-in?step=second-factor&redirectTo=%2Faccount');
    assert.equal((await browser.get('/api/v1/session')).body.error.code, 'mfa_required');
    const page = await browser.get('/sign-in?step=second-factor&redirectTo=%2Faccount');
    assert.equal(page.status, 200);
    assert.match(page.text, /data-second-factor="ask"/);
    const verified = await browser.post('/api/v1/mfa/verify', { code: currentCode(server, secret) });
    assert.equal(verified.status, 200, verified.text);
    const session = await browser.get('/api/v1/session');
    assert.equal(session.status, 200);
    assert.ok(session.body.session.amr.includes('fed'));
    // Once signed in, the sign-in page has no step to show.
    assert.equal((await browser.get('/sign-in')).status, 302);
  });

  /** Continue with email through the link; returns the user id. */
  async function emailSignIn(client: TestClient, email: string): Promise<string> {
    const { token } = readSignInMail(await requestMail(client, email));
    const verified = await client.post('/api/v1/email/verify', { token });
    assert.equal(verified.status, 200, verified.text);
    return verified.body.user.id;
  }

  /** Continue with email through the code typed in this browser; returns the user id. */
  async function emailCodeSignIn(client: TestClient, email: string): Promise<string> {
    const { code } = readSignInMail(await requestMail(client, email));
    const verified = await client.post('/api/v1/email/verify', { email, code });
    assert.equal(verified.status, 200, verified.text);
    return verified.body.user.id;
  }

  async function requestMail(client: TestClient, email: string) {
    const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
    assert.equal((await client.post('/api/v1/email/sign-in', { email })).status, 202);
    for (let i = 0; i < 250; i++) {
      const [latest] = await server.services.stores.devMailbox.list({ to: email, limit: 1 });
      if (latest && latest.id !== before) return latest;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no mail arrived');
  }
});
