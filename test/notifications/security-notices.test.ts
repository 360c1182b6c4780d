/**
 * Security notices by mail: a sign-in from a new device, a passkey added or removed (repeated
 * failed attempts: test/abuse/brute-force.test.ts). Each says what happened, when, from which
 * device and IP, and links to the account page; everything in it is escaped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEVICE_COOKIE } from '../../src/http/device-cookie.ts';
import type { StoredMessage } from '../../src/ports/mail.ts';
import { fromIp, requestCode, userWithPasskey } from '../support/abuse.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { currentCode, enrolTotp } from '../support/mfa.ts';
import { emailFirstFactor, signInWithEmail } from '../support/sign-in.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0';

describe('security notices', () => {
  let server: TestServer;
  const clock = new TestClock(Date.UTC(2025, 5, 15, 15, 6, 40));
  before(async () => {
    server = await startGatehouse({ trustedProxies: '127.0.0.1', appName: 'Acme <b>Auth</b>' }, { clock });
  });
  after(() => server.close());

  /** Every mail for `to` whose subject matches, once the mail worker has caught up. */
  async function notices(to: string, subject: RegExp): Promise<StoredMessage[]> {
    for (let i = 0; i < 100; i++) {
      if ((await server.services.stores.outbox.stats()).pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return (await server.services.stores.devMailbox.list({ to, limit: 50 })).filter((m) =>
      subject.test(m.subject),
    );
  }

  test('the first device of an account is not news; the same device again is not either', async () => {
    const browser = new TestClient(server.url);
    await signInWithEmail(server, browser, 'first@example.com');
    await signInWithEmail(server, browser, 'first@example.com');
    assert.deepEqual(await notices('first@example.com', /New sign-in/), []);
  });

  test('a sign-in from a new device mails what, when, which device, which IP, and where to act', async () => {
    const laptop = new TestClient(server.url);
    await signInWithEmail(server, laptop, 'ada@example.com');
    const phone = new TestClient(server.url);
    phone.userAgent = FIREFOX_MAC;
    const { token } = await requestCode(server, phone, 'ada@example.com', fromIp('203.0.113.77'));
    assert.equal((await phone.post('/api/v1/email/verify', { token }, fromIp('203.0.113.77'))).status, 200);

    const [notice, ...more] = await notices('ada@example.com', /New sign-in/);
    assert.ok(notice, 'a notice was sent');
    assert.equal(more.length, 0);
    assert.match(notice.subject, /New sign-in to your Acme <b>Auth<\/b> account/);
    assert.match(notice.text, /signed in to from a device it had not been used on before/);
    assert.match(notice.text, /When: 2025-06-15 15:06 UTC/);
    assert.match(notice.text, /Device: Firefox on macOS/);
    assert.match(notice.text, /IP address: 203\.0\.113\.77/);
    assert.match(notice.text, new RegExp(`Secure my account: ${server.url}/account`));
    assert.match(notice.html, new RegExp(`href="${server.url}/account"`));
    assert.match(notice.html, /Acme &lt;b&gt;Auth&lt;\/b&gt;/, 'the app name is escaped in HTML');
    assert.doesNotMatch(notice.html, /<b>Auth/);

    const events = await server.services.stores.audit.list({ type: 'sign_in.new_device', limit: 5 });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.ip, '203.0.113.77');
  });

  test('a hostile user agent reaches the mail only as a label from a fixed list', async () => {
    const first = new TestClient(server.url);
    await signInWithEmail(server, first, 'ua@example.com');
    const hostile = new TestClient(server.url);
    hostile.userAgent = '<script>alert(1)</script> "><img src=x onerror=alert(1)> Chrome/1.0 Windows';
    await signInWithEmail(server, hostile, 'ua@example.com');
    const [notice] = await notices('ua@example.com', /New sign-in/);
    assert.ok(notice);
    assert.match(notice.text, /Device: Chrome on Windows/);
    assert.doesNotMatch(notice.html + notice.text, /script|onerror|<img/);
  });

  test('the device cookie is __Host-, HttpOnly, Secure, SameSite=Lax, long-lived, and stored only hashed', async () => {
    const browser = new TestClient(server.url);
    const { token } = await requestCode(server, browser, 'cookie@example.com');
    const response = await browser.post('/api/v1/email/verify', { token });
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith(`${DEVICE_COOKIE}=`)) ?? '';
    const attributes = cookie.split(';').map((a) => a.trim().toLowerCase());
    for (const expected of ['httponly', 'secure', 'samesite=lax', 'path=/'])
      assert.ok(attributes.includes(expected), expected);
    assert.ok(!attributes.some((a) => a.startsWith('domain=')));
    assert.equal(
      attributes.find((a) => a.startsWith('max-age=')),
      `max-age=${400 * 24 * 60 * 60}`,
    );
    const value = browser.cookies.get(DEVICE_COOKIE) ?? '';
    assert.equal(Buffer.from(value, 'base64url').length, 32);
    const rows = await server.services.database.db.selectFrom('known_devices').selectAll().execute();
    assert.ok(rows.length > 0 && rows.every((row) => !JSON.stringify(row).includes(value)));
  });

  test('a browser past the first factor only is not a known device until the second is done', async () => {
    const owner = new TestClient(server.url);
    const userId = await signInWithEmail(server, owner, 'two-step@example.com');
    const { secret } = await enrolTotp(server, owner, clock);
    const stranger = new TestClient(server.url);
    const firstFactor = await emailFirstFactor(server, stranger, 'two-step@example.com');
    assert.equal(firstFactor.status, 200, firstFactor.text);
    assert.equal(stranger.cookies.has(DEVICE_COOKIE), false, 'no device cookie for a half sign-in');
    assert.deepEqual(await notices('two-step@example.com', /New sign-in/), []);

    const completed = await stranger.post('/api/v1/mfa/verify', { code: currentCode(server, secret) });
    assert.equal(completed.status, 200, completed.text);
    const token = stranger.cookies.get(DEVICE_COOKIE) ?? '';
    assert.ok(await server.services.devices.isKnown(userId, token));
    assert.equal((await notices('two-step@example.com', /New sign-in/)).length, 1);
  });

  test('adding and removing a passkey are both mailed', async () => {
    const { client } = await userWithPasskey(server, 'keys@example.com');
    const [added] = await notices('keys@example.com', /passkey was added/);
    assert.ok(added);
    assert.match(added.text, /A new passkey was added to your account/);
    assert.match(added.text, /IP address: 127\.0\.0\.1/);

    // A second passkey, so the first may go (the last way to sign in cannot be removed).
    const options = await client.post('/api/v1/passkeys/register/options');
    const second = await client.post('/api/v1/passkeys/register/verify', {
      response: await new SoftAuthenticator({ origin: server.origin }).register(options.body),
    });
    assert.equal(second.status, 201);
    assert.equal((await client.delete(`/api/v1/passkeys/${second.body.passkey.id}`)).status, 204);
    const [removed] = await notices('keys@example.com', /passkey was removed/);
    assert.ok(removed);
    assert.match(removed.text, /can no longer be used to sign in/);
    assert.equal((await notices('keys@example.com', /passkey was added/)).length, 2);
  });

  test('a failed registration or removal sends nothing', async () => {
    const { client } = await userWithPasskey(server, 'quiet@example.com');
    const before = (await notices('quiet@example.com', /passkey/)).length;
    assert.equal(
      (
        await client.post('/api/v1/passkeys/register/verify', {
          response: {
            id: 'x',
            rawId: 'x',
            type: 'public-key',
            response: { clientDataJSON: 'e30', attestationObject: 'AA' },
          },
        })
      ).status,
      400,
    );
    assert.equal((await client.delete('/api/v1/passkeys/no-such-passkey')).status, 404);
    assert.equal((await notices('quiet@example.com', /passkey/)).length, before);
  });
});
