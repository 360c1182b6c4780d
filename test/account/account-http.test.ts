/**
 * The account lifecycle (issue #3): change of address (confirm, notice with revert link,
 * revert), deletion, notices for credential changes, and an unverified account that cannot
 * keep an address from its real owner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../support/http-client.ts';
import { enrolTotp } from '../support/mfa.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { mailMatching, tokenIn } from '../support/mail.ts';
import { emailFirstFactor, signInWithEmail } from '../support/sign-in.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

const PASSWORD = 'a passphrase for leaving';

describe('account lifecycle', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse({ ...liftedRateLimits(), passwords: { enabled: true } }, { clock });
  });
  after(() => server.close());

  test('change of address: confirm at the new address, other sessions end, the old address can revert', async () => {
    const laptop = new TestClient(server.url);
    const phone = new TestClient(server.url);
    const userId = await signInWithEmail(server, laptop, 'before@example.com');
    await signInWithEmail(server, phone, 'before@example.com');

    const asked = await laptop.post('/api/v1/me/email', { email: 'After@Example.com' });
    assert.equal(asked.status, 202, asked.text);
    assert.equal(
      (await laptop.get('/api/v1/me')).body.user.email,
      'before@example.com',
      'nothing changes yet',
    );
    const confirmToken = tokenIn(
      await mailMatching(server, 'After@example.com', /Confirm your new/),
      '/email/change',
    );

    const confirmed = await laptop.post('/api/v1/me/email/confirm', { token: confirmToken });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.body.user.email, 'After@example.com');
    assert.equal(confirmed.body.user.emailVerified, true);
    assert.equal((await laptop.get('/api/v1/session')).status, 200, 'the confirming browser stays signed in');
    assert.equal((await phone.get('/api/v1/session')).status, 401, 'every other session ended');
    assert.equal(
      (await laptop.post('/api/v1/me/email/confirm', { token: confirmToken })).status,
      400,
      'single use',
    );

    const notice = await mailMatching(server, 'before@example.com', /address was changed/);
    assert.match(notice.text, /Device: Chrome on Linux · IP address: 127\.0\.0\.1/);
    assert.match(notice.text, /After@example\.com/);
    assert.match(notice.text, /7 days/);
    const revertToken = tokenIn(notice, '/email/revert');

    // The attacker (say) moves it on again; the old owner's link still brings it home.
    const again = await laptop.post('/api/v1/me/email', { email: 'third@example.com' });
    assert.equal(again.status, 202);
    await laptop.post('/api/v1/me/email/confirm', {
      token: tokenIn(await mailMatching(server, 'third@example.com', /Confirm your new/), '/email/change'),
    });

    const somewhere = new TestClient(server.url);
    const reverted = await somewhere.post('/api/v1/me/email/revert', { token: revertToken });
    assert.equal(reverted.status, 200, reverted.text);
    assert.equal((await server.services.users.findById(userId))?.email, 'before@example.com');
    assert.equal((await laptop.get('/api/v1/session')).status, 401, 'signed out everywhere');
    assert.equal((await somewhere.post('/api/v1/me/email/revert', { token: revertToken })).status, 400);
    const types = (await server.services.stores.audit.list({ userId, limit: 50 })).map((e) => e.type);
    assert.ok(
      types.includes('email.change_requested') &&
        types.includes('email.changed') &&
        types.includes('email.change_reverted'),
    );
  });

  test('change of address: an address with an account gets a notice, the same answer, and no link', async () => {
    const taken = new TestClient(server.url);
    await signInWithEmail(server, taken, 'taken@example.com');
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'mover@example.com');
    const free = await client.post('/api/v1/me/email', { email: 'free@example.com' });
    const inUse = await client.post('/api/v1/me/email', { email: 'taken@example.com' });
    assert.deepEqual([inUse.status, inUse.body], [free.status, free.body]);
    const notice = await mailMatching(server, 'taken@example.com', /Change of address/);
    assert.doesNotMatch(notice.text, /#token=/);
    const same = await client.post('/api/v1/me/email', { email: 'mover@example.com' });
    assert.equal(same.status, 400);
  });

  test('the revert link lasts 7 days', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'slow@example.com');
    await client.post('/api/v1/me/email', { email: 'slow2@example.com' });
    await client.post('/api/v1/me/email/confirm', {
      token: tokenIn(await mailMatching(server, 'slow2@example.com', /Confirm your new/), '/email/change'),
    });
    const revertToken = tokenIn(
      await mailMatching(server, 'slow@example.com', /address was changed/),
      '/email/revert',
    );
    clock.advance(server.services.config.emailChange.revertTtlMs);
    const late = await new TestClient(server.url).post('/api/v1/me/email/revert', { token: revertToken });
    assert.equal(late.status, 400);
    assert.equal(late.body.error.code, 'invalid_or_expired');
  });

  test('deleting the account (step-up): credentials and sessions go, audit entries stay', async () => {
    const { stores } = server.services;
    const client = new TestClient(server.url);
    const other = new TestClient(server.url);
    const userId = await signInWithEmail(server, client, 'leaving@example.com');
    // A first password, set through the mailed link (the resetting browser stays signed in).
    assert.equal(
      (await client.post('/api/v1/password/forgot', { email: 'leaving@example.com' })).status,
      202,
    );
    const resetToken = tokenIn(
      await mailMatching(server, 'leaving@example.com', /Reset your/),
      '/password/reset',
    );
    assert.equal(
      (await client.post('/api/v1/password/reset', { token: resetToken, password: PASSWORD })).status,
      200,
    );
    assert.ok(await stores.passwords.find(userId), 'a password is set');
    await signInWithEmail(server, other, 'leaving@example.com');
    // A linked upstream account, as a federated sign-in leaves it.
    await stores.federatedIdentities.createOrGet({
      id: 'fid_leaving',
      userId,
      providerId: 'test',
      issuer: 'https://idp.example.com',
      subject: 'leaving-subject',
      email: 'leaving@example.com',
      emailVerified: true,
      createdAt: clock.now(),
      lastUsedAt: null,
    });
    assert.equal((await stores.federatedIdentities.listByUser(userId)).length, 1);
    await enrolTotp(server, client, clock);
    const options = await client.post('/api/v1/passkeys/register/options');
    const key = new SoftAuthenticator({ origin: server.origin });
    assert.equal(
      (await client.post('/api/v1/passkeys/register/verify', { response: await key.register(options.body) }))
        .status,
      201,
    );

    const deleted = await client.delete('/api/v1/me');
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal(client.cookies.has(SESSION_COOKIE), false, 'cookie cleared');
    assert.equal((await other.get('/api/v1/session')).status, 401);
    const { db } = server.services.database;
    for (const table of [
      'users',
      'sessions',
      'passkeys',
      'totp_credentials',
      'recovery_codes',
      'password_credentials',
      'federated_identities',
    ] as const) {
      const column = table === 'users' ? 'id' : 'user_id';
      const rows = await db.selectFrom(table).selectAll().where(column, '=', userId).execute();
      assert.equal(rows.length, 0, table);
    }
    assert.equal(await stores.passwords.find(userId), undefined, 'the password is gone');
    assert.equal(
      await stores.federatedIdentities.findBySubject('https://idp.example.com', 'leaving-subject'),
      undefined,
      'the upstream account is unlinked',
    );
    const byPassword = await new TestClient(server.url).post('/api/v1/password/sign-in', {
      email: 'leaving@example.com',
      password: PASSWORD,
    });
    assert.equal(byPassword.status, 401, 'the password no longer signs in');
    const events = await server.services.stores.audit.list({ userId, limit: 100 });
    assert.ok(events.some((e) => e.type === 'account.deleted'));
    assert.ok(
      events.some((e) => e.type === 'mfa.totp_enabled'),
      'earlier entries are kept',
    );
    assert.match((await mailMatching(server, 'leaving@example.com', /was deleted/)).text, /deleted/);
    // The address is free: continuing with email makes a new, empty account.
    const again = await emailFirstFactor(server, new TestClient(server.url), 'leaving@example.com');
    assert.equal(again.body.created, true);
    assert.notEqual(again.body.user.id, userId);
  });

  test('passkey added or removed: the owner is mailed', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'notices@example.com');
    const options = await client.post('/api/v1/passkeys/register/options');
    const key = new SoftAuthenticator({ origin: server.origin });
    const added = await client.post('/api/v1/passkeys/register/verify', {
      response: await key.register(options.body),
    });
    await mailMatching(server, 'notices@example.com', /passkey was added/, /new passkey was added/);
    assert.equal((await client.delete(`/api/v1/passkeys/${added.body.passkey.id}`)).status, 204);
    await mailMatching(server, 'notices@example.com', /passkey was removed/, /can no longer be used/);
  });

  test('an account whose address was never proven loses what it held when the owner signs in by email', async () => {
    // A squatter's account for the owner's address: a password, an authenticator, a passkey
    // and a live session, all set up without ever proving the address.
    const squatter = new TestClient(server.url);
    const userId = await signInWithEmail(server, squatter, 'owner@example.com');
    await enrolTotp(server, squatter, clock);
    const options = await squatter.post('/api/v1/passkeys/register/options');
    const key = new SoftAuthenticator({ origin: server.origin });
    await squatter.post('/api/v1/passkeys/register/verify', { response: await key.register(options.body) });
    await server.services.stores.passwords.set(
      userId,
      '$argon2id$v=19$m=19456,t=2,p=1$c3F1YXR0ZXI$c3F1YXR0ZXJzcXVhdHRlcnNxdWF0dGVyc3F1YXR0ZXI',
      clock.now(),
    );
    await server.services.database.db
      .updateTable('users')
      .set({ email_verified_at: null })
      .where('id', '=', userId)
      .execute();

    const owner = new TestClient(server.url);
    const signedIn = await emailFirstFactor(server, owner, 'owner@example.com');
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.ok(signedIn.body.user, 'signed in without the squatter’s second factor');
    assert.equal(signedIn.body.user.emailVerified, true);
    assert.equal((await squatter.get('/api/v1/session')).status, 401, "the squatter's session ended");
    assert.equal(await server.services.stores.passwords.find(userId), undefined);
    assert.equal(await server.services.stores.totp.find(userId), undefined);
    assert.equal(await server.services.stores.recoveryCodes.countUnused(userId), 0);
    assert.equal(await server.services.stores.passkeys.countByUser(userId), 0);
    const event = (await server.services.stores.audit.list({ userId, limit: 100 })).find(
      (e) => e.type === 'account.unproven_credentials_removed',
    );
    assert.ok(event, 'the takeover attempt is audited');
    assert.deepEqual(event.details['removed'], {
      pwd: true,
      totp: true,
      recoveryCodes: 10,
      passkeys: 1,
      sessions: 1,
      oauth: 0,
    });
  });
});
