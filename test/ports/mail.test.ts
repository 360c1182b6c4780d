import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoredMessage } from '../../src/ports/mail.ts';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, MINUTE, randomId, T0 } from '../support/records.ts';

const LEASE = MINUTE;

forEachDatabase('MailOutbox', (db) => {
  async function enqueue(createdAt = T0): Promise<{ id: string; sealed: string }> {
    const item = { id: randomId('msg_'), sealed: randomId('sealed:'), createdAt };
    await db.stores.outbox.enqueue(item);
    return { id: item.id, sealed: item.sealed };
  }

  // The port cannot read a body back once handled; a database dump is what must not leak it.
  async function sealedAtRest(id: string): Promise<string | null> {
    const row = await db.database.db
      .selectFrom('mail_outbox')
      .select('sealed')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return row.sealed;
  }

  it('claimDue leases due messages: a second claim before the lease expires gets nothing', async () => {
    const message = await enqueue();
    assert.deepEqual(await db.stores.outbox.claimDue(T0, T0 + LEASE, 10), [{ ...message, attempts: 0 }]);
    assert.deepEqual(await db.stores.outbox.claimDue(T0 + LEASE - 1, T0 + 2 * LEASE, 10), []);
    // A worker that crashed mid-send only delays the message.
    assert.deepEqual(await db.stores.outbox.claimDue(T0 + LEASE, T0 + 2 * LEASE, 10), [
      { ...message, attempts: 0 },
    ]);
  });

  it('claimDue skips messages not yet due and honours the limit, oldest first', async () => {
    const oldest = await enqueue(T0 - 2);
    const older = await enqueue(T0 - 1);
    const newest = await enqueue(T0);
    await enqueue(T0 + 1);
    const ids = async (now: number): Promise<string[]> =>
      (await db.stores.outbox.claimDue(now, now + LEASE, 2)).map((item) => item.id);
    assert.deepEqual(await ids(T0), [oldest.id, older.id]);
    assert.deepEqual(await ids(T0), [newest.id]);
    assert.deepEqual(await ids(T0), []);
  });

  it('hands each message to one of several concurrent workers', async () => {
    const messages = await concurrently(10, () => enqueue());
    const claims = await concurrently(5, () => db.stores.outbox.claimDue(T0, T0 + LEASE, 10));
    const claimed = claims.flat().map((item) => item.id);
    assert.deepEqual(claimed.sort(), messages.map((m) => m.id).sort());
  });

  it('markSent erases the sealed body and the message is never claimed again', async () => {
    const message = await enqueue();
    await db.stores.outbox.claimDue(T0, T0 + LEASE, 10);
    await db.stores.outbox.markSent(message.id, T0 + 1);
    assert.equal(await sealedAtRest(message.id), null);
    assert.deepEqual(await db.stores.outbox.claimDue(T0 + 10 * LEASE, T0 + 11 * LEASE, 10), []);
    assert.deepEqual(await db.stores.outbox.stats(), { pending: 0, failed: 0, sent: 1 });
  });

  it('markFailed with retryAt reschedules the message and counts the attempt', async () => {
    const message = await enqueue();
    await db.stores.outbox.claimDue(T0, T0 + LEASE, 10);
    const retryAt = T0 + 5 * MINUTE;
    await db.stores.outbox.markFailed(message.id, 'SMTP 451 try later', retryAt, T0 + 1);
    assert.deepEqual(await db.stores.outbox.claimDue(retryAt - 1, retryAt + LEASE, 10), []);
    assert.deepEqual(await db.stores.outbox.claimDue(retryAt, retryAt + LEASE, 10), [
      { ...message, attempts: 1 },
    ]);
    assert.deepEqual(await db.stores.outbox.stats(), { pending: 1, failed: 0, sent: 0 });
  });

  it('markFailed without retryAt marks the message failed and erases the body', async () => {
    const message = await enqueue();
    await db.stores.outbox.claimDue(T0, T0 + LEASE, 10);
    await db.stores.outbox.markFailed(message.id, 'SMTP 550 no such user', null, T0 + 1);
    assert.equal(await sealedAtRest(message.id), null);
    assert.deepEqual(await db.stores.outbox.claimDue(T0 + 10 * LEASE, T0 + 11 * LEASE, 10), []);
    assert.deepEqual(await db.stores.outbox.stats(), { pending: 0, failed: 1, sent: 0 });
  });

  it('stats counts messages by state', async () => {
    assert.deepEqual(await db.stores.outbox.stats(), { pending: 0, failed: 0, sent: 0 });
    const [sent, failed, retried] = await concurrently(5, () => enqueue());
    await db.stores.outbox.markSent(sent!.id, T0);
    await db.stores.outbox.markFailed(failed!.id, 'rejected', null, T0);
    await db.stores.outbox.markFailed(retried!.id, 'timeout', T0 + MINUTE, T0);
    assert.deepEqual(await db.stores.outbox.stats(), { pending: 3, failed: 1, sent: 1 });
  });
});

forEachDatabase('DevMailboxStore', (db) => {
  async function store(to: string, createdAt: number): Promise<StoredMessage> {
    const message: StoredMessage = {
      id: randomId('dm_'),
      to,
      subject: `Sign in (${createdAt - T0})`,
      text: `Your code is ${createdAt - T0}`,
      html: `<p>Your code is <b>${createdAt - T0}</b></p>`,
      createdAt,
    };
    await db.stores.devMailbox.store(message);
    return message;
  }

  it('lists messages newest first (by arrival, even within one millisecond), up to the limit', async () => {
    const first = await store('ada@example.test', T0 + 1);
    const second = await store('ada@example.test', T0 + 1);
    const third = await store('bob@example.test', T0 + 1);
    assert.deepEqual(await db.stores.devMailbox.list({ limit: 10 }), [third, second, first]);
    assert.deepEqual(await db.stores.devMailbox.list({ limit: 2 }), [third, second]);
  });

  it('filters by recipient', async () => {
    const first = await store('ada@example.test', T0 + 1);
    await store('bob@example.test', T0 + 2);
    const second = await store('ada@example.test', T0 + 3);
    assert.deepEqual(await db.stores.devMailbox.list({ to: 'ada@example.test', limit: 10 }), [second, first]);
    assert.deepEqual(await db.stores.devMailbox.list({ to: 'carol@example.test', limit: 10 }), []);
  });
});
