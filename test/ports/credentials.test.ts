/**
 * Behavioural suite for the credential and account-token ports (issue #3), on every database:
 * single-use secrets are consumed atomically (exactly one winner under concurrency), a used TOTP
 * step cannot be used again, and a working authenticator is never silently replaced.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccountTokenRecord } from '../../src/ports/account-token-store.ts';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, MINUTE, randomId, sessionRecord, T0, userRecord } from '../support/records.ts';

forEachDatabase('credential stores', (db) => {
  async function user(): Promise<string> {
    const record = userRecord();
    await db.stores.users.createOrGet(record);
    return record.id;
  }

  describe('PasswordStore', () => {
    it('sets, replaces only the expected hash, and deletes', async () => {
      const id = await user();
      assert.equal(await db.stores.passwords.find(id), undefined);
      await db.stores.passwords.set(id, 'hash-1', T0);
      await db.stores.passwords.set(id, 'hash-2', T0 + 1);
      assert.equal(await db.stores.passwords.find(id), 'hash-2');
      // A rehash computed from an older hash loses to a change made meanwhile.
      assert.equal(await db.stores.passwords.replaceIf(id, 'hash-1', 'rehash', T0 + 2), false);
      assert.equal(await db.stores.passwords.replaceIf(id, 'hash-2', 'rehash', T0 + 2), true);
      assert.equal(await db.stores.passwords.find(id), 'rehash');
      assert.equal(await db.stores.passwords.delete(id), true);
      assert.equal(await db.stores.passwords.delete(id), false);
    });

    it('goes with the user', async () => {
      const id = await user();
      await db.stores.passwords.set(id, 'hash', T0);
      assert.equal(await db.stores.users.delete(id), true);
      assert.equal(await db.stores.passwords.find(id), undefined);
    });
  });

  describe('TotpStore', () => {
    const pending = (userId: string, sealed = 'sealed-1') => ({
      userId,
      secretSealed: sealed,
      confirmedAt: null,
      lastUsedStep: null,
      createdAt: T0,
    });

    it('replaces an unconfirmed secret but never a confirmed one', async () => {
      const id = await user();
      assert.equal(await db.stores.totp.putPending(pending(id, 'first')), true);
      assert.equal(await db.stores.totp.putPending(pending(id, 'second')), true);
      assert.equal((await db.stores.totp.find(id))?.secretSealed, 'second');
      assert.equal(await db.stores.totp.confirm(id, 100, T0 + 1), true);
      assert.equal(await db.stores.totp.confirm(id, 101, T0 + 2), false, 'confirmed once');
      assert.equal(await db.stores.totp.putPending(pending(id, 'third')), false);
      assert.deepEqual(await db.stores.totp.find(id), {
        userId: id,
        secretSealed: 'second',
        confirmedAt: T0 + 1,
        lastUsedStep: 100,
        createdAt: T0,
      });
    });

    it('accepts each step once and only forward, with one winner under concurrency', async () => {
      const id = await user();
      await db.stores.totp.putPending(pending(id));
      assert.equal(await db.stores.totp.useStep(id, 5), false, 'not before it is confirmed');
      await db.stores.totp.confirm(id, 100, T0);
      assert.equal(await db.stores.totp.useStep(id, 100), false, 'the confirming code is used');
      assert.equal(await db.stores.totp.useStep(id, 99), false, 'older step');
      const results = await concurrently(10, () => db.stores.totp.useStep(id, 101));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await db.stores.totp.useStep(id, 102), true);
      assert.equal(await db.stores.totp.delete(id), true);
      assert.equal(await db.stores.totp.useStep(id, 103), false);
    });
  });

  describe('RecoveryCodeStore', () => {
    it('replaces the whole set, consumes each code once (one winner), counts what is left', async () => {
      const id = await user();
      const other = await user();
      await db.stores.recoveryCodes.replaceAll(
        id,
        [
          { id: randomId(), codeHash: 'a' },
          { id: randomId(), codeHash: 'b' },
        ],
        T0,
      );
      await db.stores.recoveryCodes.replaceAll(other, [{ id: randomId(), codeHash: 'x' }], T0);
      assert.equal(await db.stores.recoveryCodes.consume(other, 'a', T0), false, "another user's code");
      const results = await concurrently(10, () => db.stores.recoveryCodes.consume(id, 'a', T0 + 1));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await db.stores.recoveryCodes.countUnused(id), 1);
      await db.stores.recoveryCodes.replaceAll(id, [{ id: randomId(), codeHash: 'c' }], T0 + 2);
      assert.equal(await db.stores.recoveryCodes.consume(id, 'b', T0 + 3), false, 'old set gone');
      assert.equal(await db.stores.recoveryCodes.countUnused(id), 1);
      assert.equal(await db.stores.recoveryCodes.deleteAll(id), 1);
      assert.equal(await db.stores.recoveryCodes.countUnused(other), 1);
    });
  });

  describe('AccountTokenStore', () => {
    const token = (overrides: Partial<AccountTokenRecord> = {}): AccountTokenRecord => ({
      id: randomId(),
      purpose: 'password_reset',
      userId: null,
      email: 'ada@example.test',
      tokenHash: randomId(),
      data: { from: 'old@example.test' },
      expiresAt: T0 + 30 * MINUTE,
      usedAt: null,
      createdAt: T0,
      ...overrides,
    });

    it('finds without spending, consumes once (one winner), by purpose, until expiry', async () => {
      const record = token({ userId: await user() });
      await db.stores.accountTokens.create(record);
      assert.deepEqual(await db.stores.accountTokens.find(record.tokenHash, 'password_reset', T0), record);
      assert.equal(await db.stores.accountTokens.consume(record.tokenHash, 'email_change', T0), undefined);
      const results = await concurrently(10, () =>
        db.stores.accountTokens.consume(record.tokenHash, 'password_reset', T0 + 1),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(results.find(Boolean), { ...record, usedAt: T0 + 1 });
      assert.equal(await db.stores.accountTokens.find(record.tokenHash, 'password_reset', T0 + 2), undefined);
      const late = token();
      await db.stores.accountTokens.create(late);
      assert.equal(
        await db.stores.accountTokens.consume(late.tokenHash, 'password_reset', late.expiresAt),
        undefined,
      );
      assert.equal(await db.stores.accountTokens.deleteExpired(late.expiresAt), 2);
    });

    it('invalidates by owner and purpose only', async () => {
      const id = await user();
      const mine = token({ userId: id });
      const change = token({ userId: id, purpose: 'email_change' });
      const signUp = token({ purpose: 'password_sign_up', email: 'new@example.test' });
      const stranger = token({ purpose: 'password_sign_up', email: 'other@example.test' });
      for (const record of [mine, change, signUp, stranger]) await db.stores.accountTokens.create(record);
      assert.equal(
        await db.stores.accountTokens.invalidate({ purpose: 'password_reset', userId: id }, T0),
        1,
      );
      assert.equal(
        await db.stores.accountTokens.invalidate(
          { purpose: 'password_sign_up', email: 'new@example.test' },
          T0,
        ),
        1,
      );
      assert.ok(await db.stores.accountTokens.find(change.tokenHash, 'email_change', T0));
      assert.ok(await db.stores.accountTokens.find(stranger.tokenHash, 'password_sign_up', T0));
      await assert.rejects(db.stores.accountTokens.invalidate({ purpose: 'password_reset' }, T0));
    });
  });

  describe('UserStore account lifecycle', () => {
    it('moves an account to a free address (verified), refuses a taken one, deletes', async () => {
      const a = userRecord({ email: 'a@example.test' });
      const b = userRecord({ email: 'b@example.test' });
      await db.stores.users.createOrGet(a);
      await db.stores.users.createOrGet(b);
      assert.equal(await db.stores.users.changeEmail(a.id, 'b@example.test', T0 + 1), 'taken');
      assert.equal(await db.stores.users.changeEmail(a.id, 'c@example.test', T0 + 1), 'changed');
      const moved = await db.stores.users.findById(a.id);
      assert.equal(moved?.email, 'c@example.test');
      assert.equal(moved?.emailVerifiedAt, T0 + 1);
      assert.equal(await db.stores.users.changeEmail('missing', 'd@example.test', T0), 'missing');
      assert.equal(await db.stores.users.delete(a.id), true);
      assert.equal(await db.stores.users.findById(a.id), undefined);
    });
  });

  describe('SessionStore', () => {
    it('keeps the second-factor-pending flag and counts failures atomically', async () => {
      const id = await user();
      const session = sessionRecord(id, { mfaPending: true });
      await db.stores.sessions.create(session);
      assert.equal((await db.stores.sessions.findByTokenHash(session.tokenHash))?.session.mfaPending, true);
      assert.equal((await db.stores.sessions.listByUser(id))[0]?.mfaPending, true);
      const counts = await concurrently(5, () => db.stores.sessions.recordAuthFailure(session.id));
      assert.deepEqual([...counts].sort(), [1, 2, 3, 4, 5]);
    });
  });
});
