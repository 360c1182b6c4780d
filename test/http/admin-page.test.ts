/**
 * GET /admin over plain HTTP: who gets which page, and that the page is built like every other
 * hosted page (nonce-bound bundle, no inline handlers, DESIGN §4 headers). What it does is in
 * test/browser/admin.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient, type TestResponse } from '../support/http-client.ts';
import { startOAuthGatehouse } from '../support/oauth.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { signInWithEmail, unverifiedSession } from '../support/sign-in.ts';

const ADMIN = 'admin@example.com';
/** Listed in adminEmails but never verified: not an administrator (src/domain/authz/admin.ts). */
const UNVERIFIED = 'unverified@example.com';

/** Markup that exists only on the administrators' page. */
const ADMIN_MARKERS = [
  /user-search/,
  /audit-table/,
  /audit-type/,
  /clients-panel/,
  /step-up/,
  /user\.disabled/,
];

/** The page without its per-response nonce, so two answers can be compared byte for byte. */
const withoutNonce = (response: TestResponse): string =>
  response.text.replace(/nonce="[^"]+"/g, 'nonce=""').replace(/\?v=[0-9a-f]{16}/g, '');

describe('the /admin page over HTTP', () => {
  let server: TestServer;
  let oauthServer: TestServer;
  let admin: TestClient;
  let alice: TestClient;

  before(async () => {
    [server, oauthServer] = await Promise.all([
      startGatehouse({ adminEmails: [ADMIN, UNVERIFIED] }),
      startOAuthGatehouse({}, { adminEmails: [ADMIN] }),
    ]);
    admin = new TestClient(server.url);
    await signInWithEmail(server, admin, ADMIN);
    alice = new TestClient(server.url);
    await signInWithEmail(server, alice, 'alice@example.com');
  });
  after(async () => {
    await Promise.allSettled([server?.close(), oauthServer?.close()]);
  });

  test('signed out: to sign-in, and back to /admin afterwards', async () => {
    const response = await new TestClient(server.url).get('/admin');
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/sign-in?redirectTo=%2Fadmin');
    assert.ok(!ADMIN_MARKERS.some((marker) => marker.test(response.text)));
  });

  test('signed in, not an administrator: 403 page with no admin markup, identical for every non-admin', async () => {
    const page = await alice.get('/admin');
    assert.equal(page.status, 403);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.text, /Not an administrator/);
    assert.match(page.text, /data-page="admin-forbidden"/);
    for (const marker of ADMIN_MARKERS) assert.doesNotMatch(page.text, marker);
    assert.doesNotMatch(page.text, /alice@example\.com/, 'not even the reader’s own address');
    assert.doesNotMatch(page.text, new RegExp(ADMIN), 'nothing about who the administrators are');

    // An account holding a listed but unproven address gets the very same page: the answer
    // does not tell which addresses are on the list.
    const pending = await (await unverifiedSession(server, 'usr_unverified_listed', UNVERIFIED)).get(
      '/admin',
    );
    assert.equal(pending.status, 403);
    assert.equal(withoutNonce(pending), withoutNonce(page));
  });

  test('an administrator: 200 with the users and audit panels, nonce-bound bundle, DESIGN §4 headers', async () => {
    const page = await admin.get('/admin');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.match(page.headers.get('strict-transport-security') ?? '', /max-age=31536000; includeSubDomains/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, 'a nonce-based CSP');
    const scripts = [...page.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.equal(scripts.length, 1, 'the bundle is the only script');
    assert.ok(scripts[0]?.includes(`nonce="${nonce}"`));
    assert.match(scripts[0] ?? '', /src="\/assets\/app\.js\?v=[0-9a-f]{16}"/);
    assert.doesNotMatch(page.text, /\son[a-z]+=/i, 'no inline event handlers');

    assert.match(page.text, /data-page="admin"/);
    assert.match(page.text, /Signed in as <strong>admin@example\.com<\/strong>/);
    assert.match(page.text, /<form id="user-search"/);
    assert.match(page.text, /<table id="audit-table"/);
    assert.match(page.text, /<option value="user\.disabled">/, 'event types to filter by');
    assert.match(page.text, /<dialog id="step-up"/, 'the step-up prompt the client opens');
    assert.doesNotMatch(page.text, /clients-panel/, 'the OAuth provider is off here');

    // The account page shows administrators the way here, and only them.
    assert.match((await admin.get('/account')).text, /<a href="\/admin" id="admin-link">/);
    assert.doesNotMatch((await alice.get('/account')).text, /href="\/admin"/);
  });

  test('with the OAuth provider on, the page has the OAuth clients panel', async () => {
    const client = new TestClient(oauthServer.url);
    await signInWithEmail(oauthServer, client, ADMIN);
    const page = await client.get('/admin');
    assert.equal(page.status, 200);
    assert.match(page.text, /id="clients-panel"/);
    assert.match(page.text, /<form id="client-add"/);
    assert.match(page.text, /value="urn:ietf:params:oauth:grant-type:device_code"/);
  });
});
