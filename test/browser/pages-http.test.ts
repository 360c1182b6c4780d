import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from '../support/http-client.ts';
import { signInWithEmail } from '../support/sign-in.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.ts';

/**
 * The hosted pages over plain HTTP (no browser needed): what the server renders, its headers,
 * redirects, escaping and the static bundle. The browser suite next door drives the same pages.
 */
describe('hosted pages over HTTP', () => {
  let server: TestServer;
  let smtp: TestSmtpServer;
  let smtpServer: TestServer;

  before(async () => {
    [server, smtp] = await Promise.all([startGatehouse(), startSmtpServer()]);
    smtpServer = await startGatehouse({ smtpUrl: smtp.url });
  });

  after(async () => {
    await Promise.allSettled([server?.close(), smtpServer?.close()]);
    await smtp?.close();
  });

  test('/sign-in: HTML, nonce-bound bundle, no inline script or handler, not cached', async () => {
    const client = new TestClient(server.url);
    const response = await client.get('/sign-in');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const nonce = /'nonce-([^']+)'/.exec(response.headers.get('content-security-policy') ?? '')?.[1];
    assert.ok(nonce);
    const scripts = [...response.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.equal(scripts.length, 1);
    assert.match(scripts[0] ?? '', new RegExp(`nonce="${nonce.replace(/[+/=]/g, '\\$&')}"`));
    assert.match(scripts[0] ?? '', /src="\/assets\/app\.js\?v=[0-9a-f]{16}"/);
    assert.doesNotMatch(response.text, /\son[a-z]+=/i, 'no inline event handlers');
    assert.match(response.text, /autocomplete="username webauthn"/);
    assert.match(response.text, /<label for="email">/);
    assert.match(response.text, /role="alert"/);
  });

  test('/sign-up says "Create your account"; redirectTo is passed on only when allowed', async () => {
    const client = new TestClient(server.url);
    const allowed = await client.get('/sign-up?redirectTo=%2Faccount%3Ftab%3D1');
    assert.match(allowed.text, /Create your account/);
    assert.match(allowed.text, /data-redirect-to="\/account\?tab=1"/);
    assert.match(allowed.text, /href="\/sign-in\?redirectTo=%2Faccount%3Ftab%3D1"/);
    for (const evil of [
      '//evil.example',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      const refused = await client.get(`/sign-in?redirectTo=${encodeURIComponent(evil)}`);
      assert.equal(refused.status, 200);
      assert.doesNotMatch(refused.text, /data-redirect-to/, evil);
      assert.match(refused.text, /not allowed/, evil);
    }
  });

  test('/account: signed out goes to sign-in and back; signed in renders escaped user data', async () => {
    const client = new TestClient(server.url);
    const signedOut = await client.get('/account');
    assert.equal(signedOut.status, 302);
    assert.equal(signedOut.headers.get('location'), '/sign-in?redirectTo=%2Faccount');
    assert.equal((await client.get('/account/fragments/sessions')).status, 401);

    await signInWithEmail(server, client, 'mallory@example.com');
    const hostile = '<img src=x onerror=alert(1)>"\'';
    assert.equal((await client.patch('/api/v1/me', { displayName: hostile })).status, 200);
    const page = await client.get('/account');
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.text, /mallory@example\.com/);
    assert.ok(page.text.includes('value="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;"'));
    assert.ok(!page.text.includes('<img src=x'));
    const sessions = await client.get('/account/fragments/sessions');
    assert.equal(sessions.status, 200);
    assert.match(sessions.text, /This device/);
    assert.equal((await client.get('/account/fragments/nope')).status, 404);

    // Signed in, the sign-in page sends the browser on.
    const signIn = await client.get('/sign-in');
    assert.equal(signIn.status, 302);
    assert.equal(signIn.headers.get('location'), '/account');
  });

  test('/email/verify renders without redeeming anything', async () => {
    const response = await new TestClient(server.url).get('/email/verify');
    assert.equal(response.status, 200);
    assert.match(response.text, /data-page="email-verify"/);
    assert.match(response.text, /id="verify-button"/);
  });

  test('/assets: versioned bundle cached for a year, other URLs revalidate, ETag works', async () => {
    const client = new TestClient(server.url);
    const page = await client.get('/sign-in');
    const script = /src="(\/assets\/app\.js\?v=[0-9a-f]{16})"/.exec(page.text)?.[1];
    const style = /href="(\/assets\/app\.css\?v=[0-9a-f]{16})"/.exec(page.text)?.[1];
    assert.ok(script && style);
    const js = await client.get(script);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const css = await client.get(style);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    const unversioned = await client.get('/assets/app.js');
    assert.equal(unversioned.headers.get('cache-control'), 'no-cache');
    const etag = unversioned.headers.get('etag');
    assert.ok(etag);
    assert.equal((await client.get('/assets/app.js', { 'if-none-match': etag })).status, 304);
    assert.equal((await client.get('/assets/other.js')).status, 404);
  });

  test('/dev/mailbox lists mail with links, and is 404 when mail goes over SMTP', async () => {
    const client = new TestClient(server.url);
    await client.post('/api/v1/email/sign-in', { email: 'reader@example.com' });
    await server.latestMail('reader@example.com');
    const page = await client.get('/dev/mailbox?to=reader%40example.com');
    assert.equal(page.status, 200);
    assert.match(page.text, /sign-in code/);
    assert.match(page.text, /<a href="http:\/\/localhost:\d+\/email\/verify#token=[A-Za-z0-9_-]{43}">/);
    const invalid = await client.get('/dev/mailbox?to=%3Cscript%3E');
    assert.equal(invalid.status, 200);
    assert.ok(!invalid.text.includes('<script>'));

    const production = await new TestClient(smtpServer.url).get('/dev/mailbox');
    assert.equal(production.status, 404);
    assert.match(production.headers.get('content-type') ?? '', /application\/json/);
  });
});
