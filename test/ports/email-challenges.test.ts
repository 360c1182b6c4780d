import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EmailChallengeRecord } from '../../src/ports/email-challenge-store.ts';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, emailChallengeRecord, MINUTE, T0 } from '../support/records.ts';

const MAX_ATTEMPTS = 3;

forEachDatabase('EmailChallengeStore', (db) => {
  async function create(overrides: Partial<EmailChallengeRecord> = {}): Promise<EmailChallengeRecord> {
    const challenge = emailChallengeRecord(overrides);
    await db.stores.emailChallenges.create(challenge);
    return challenge;
  }

  const byCode = (challenge: EmailChallengeRecord, now = T0, changes: Partial<EmailChallengeRecord> = {}) =>
    db.stores.emailChallenges.consumeByCode(
      {
        flowHash: changes.flowHash ?? challenge.flowHash,
        codeHash: changes.codeHash ?? challenge.codeHash,
        email: changes.email ?? challenge.email,
        maxAttempts: MAX_ATTEMPTS,
      },
      now,
    );

  describe('consumeByLink', () => {
    it('returns the challenge marked used, once', async () => {
      const challenge = await create({ redirectTo: '/account' });
      assert.deepEqual(await db.stores.emailChallenges.consumeByLink(challenge.linkHash, T0 + 1), {
        ...challenge,
        usedAt: T0 + 1,
      });
      assert.equal(await db.stores.emailChallenges.consumeByLink(challenge.linkHash, T0 + 2), undefined);
    });

    it('refuses an expired link (at its expiry instant) and an unknown one', async () => {
      const challenge = await create();
      assert.equal(
        await db.stores.emailChallenges.consumeByLink(challenge.linkHash, challenge.expiresAt),
        undefined,
      );
      assert.equal(await db.stores.emailChallenges.consumeByLink('unknown-link', T0), undefined);
      assert.equal(
        (await db.stores.emailChallenges.consumeByLink(challenge.linkHash, challenge.expiresAt - 1))?.id,
        challenge.id,
      );
    });

    it('burns the code too: a challenge is used once, by link or by code', async () => {
      const challenge = await create();
      assert.ok(await db.stores.emailChallenges.consumeByLink(challenge.linkHash, T0));
      assert.equal(await byCode(challenge), undefined);
    });
  });

  describe('consumeByCode', () => {
    it('returns the challenge marked used when flow, code and email match, once', async () => {
      const challenge = await create();
      assert.deepEqual(await byCode(challenge, T0 + 1), { ...challenge, usedAt: T0 + 1 });
      assert.equal(await byCode(challenge, T0 + 2), undefined);
      assert.equal(await db.stores.emailChallenges.consumeByLink(challenge.linkHash, T0 + 3), undefined);
    });

    it('refuses a wrong email, flow or code and leaves the challenge usable', async () => {
      const challenge = await create();
      assert.equal(await byCode(challenge, T0, { email: 'mallory@example.test' }), undefined);
      assert.equal(await byCode(challenge, T0, { flowHash: 'other-flow' }), undefined);
      assert.equal(await byCode(challenge, T0, { codeHash: 'other-code' }), undefined);
      assert.equal((await byCode(challenge))?.id, challenge.id);
    });

    it('refuses an expired code', async () => {
      const challenge = await create();
      assert.equal(await byCode(challenge, challenge.expiresAt), undefined);
    });

    it('allows the right code until the attempts limit is reached', async () => {
      const challenge = await create();
      for (let i = 0; i < MAX_ATTEMPTS - 1; i++)
        await db.stores.emailChallenges.recordFailedAttempt(challenge.flowHash, T0);
      assert.equal((await byCode(challenge))?.attempts, MAX_ATTEMPTS - 1);
    });

    it('refuses the right code once the attempts limit is reached', async () => {
      const challenge = await create();
      for (let i = 0; i < MAX_ATTEMPTS; i++)
        await db.stores.emailChallenges.recordFailedAttempt(challenge.flowHash, T0);
      assert.equal(await byCode(challenge), undefined);
    });

    it('counts failed attempts only against live challenges of that flow', async () => {
      const challenge = await create();
      const otherFlow = await create();
      const expired = await create({ flowHash: challenge.flowHash, expiresAt: T0 });
      for (let i = 0; i < MAX_ATTEMPTS; i++)
        await db.stores.emailChallenges.recordFailedAttempt(challenge.flowHash, T0);
      assert.equal((await byCode(otherFlow))?.attempts, 0);
      // Not counted because expired: visible when consumed "before" its expiry.
      assert.equal((await byCode(expired, T0 - 1))?.attempts, 0);
    });
  });

  it('invalidateForEmail kills every outstanding challenge for the address and no other', async () => {
    const first = await create();
    const second = await create();
    const used = await create({ usedAt: T0 - 1 });
    const bobs = await create({ email: 'bob@example.test' });
    assert.equal(await db.stores.emailChallenges.invalidateForEmail(first.email, T0), 2);
    assert.equal(await db.stores.emailChallenges.consumeByLink(first.linkHash, T0), undefined);
    assert.equal(await byCode(second), undefined);
    assert.equal(await db.stores.emailChallenges.consumeByLink(used.linkHash, T0), undefined);
    assert.equal((await db.stores.emailChallenges.consumeByLink(bobs.linkHash, T0))?.id, bobs.id);
  });

  it('deleteExpired removes challenges expired by `before` and keeps live ones', async () => {
    const before = T0 + 20 * MINUTE;
    await create({ expiresAt: before });
    await create({ expiresAt: before - MINUTE, usedAt: T0 });
    const live = await create({ expiresAt: before + 1 });
    assert.equal(await db.stores.emailChallenges.deleteExpired(before), 2);
    assert.equal((await db.stores.emailChallenges.consumeByLink(live.linkHash, before))?.id, live.id);
  });

  describe('under concurrency', () => {
    it('lets exactly one of 50 concurrent link consumers win', async () => {
      const challenge = await create();
      const results = await concurrently(50, () =>
        db.stores.emailChallenges.consumeByLink(challenge.linkHash, T0),
      );
      assert.deepEqual(
        results.filter((r) => r !== undefined).map((r) => r.id),
        [challenge.id],
      );
    });

    it('lets exactly one of 50 concurrent code consumers win', async () => {
      const challenge = await create();
      const results = await concurrently(50, () => byCode(challenge));
      assert.deepEqual(
        results.filter((r) => r !== undefined).map((r) => r.id),
        [challenge.id],
      );
    });
  });
});
