import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { AuditRecorder } from '../../src/domain/audit/audit-recorder.ts';
import { verifyChain } from '../../src/domain/audit/chain-verifier.ts';
import { forEachDatabase } from '../support/databases.ts';
import { T0 } from '../support/records.ts';
import { TestClock } from '../support/server.ts';

const KEY = randomBytes(32);

forEachDatabase('AuditRecorder', (db) => {
  const errors: unknown[] = [];
  const recorder = () => new AuditRecorder(db.stores.audit, new TestClock(T0), (e) => errors.push(e), KEY);

  it('escapes control and text-direction characters in every stored string (log injection)', async () => {
    // A user agent that would forge a second log line and reverse what a reader sees, and a
    // literal backslash sequence that must not pass for an escaped newline.
    const userAgent = 'curl/8\r\n2025-01-01 sign_in.passkey success usr_admin\u202Egnp.exe\u0000 \\u000a';
    await recorder().record(
      { ip: '203.0.113.7\n', userAgent, requestId: 'req\u2028x' },
      {
        type: 'sign_in.email_link',
        outcome: 'failure',
        details: { reason: 'bad\nline', nested: { 'key\u0007': ['\u009b31m'] } },
      },
    );
    const [stored] = await db.stores.audit.scan({ afterSeq: -1, limit: 1 });
    assert.equal(
      stored?.userAgent,
      'curl/8\\u000d\\u000a2025-01-01 sign_in.passkey success usr_admin\\u202egnp.exe\\u0000 \\\\u000a',
    );
    assert.equal(stored?.ip, '203.0.113.7\\u000a');
    // A line separator is not a control character: stored as is, escaped by exports.
    assert.equal(stored?.requestId, 'req\u2028x');
    assert.equal(stored?.details, '{"nested":{"key\\\\u0007":["\\\\u009b31m"]},"reason":"bad\\\\u000aline"}');
    for (const value of [stored?.userAgent, stored?.ip, stored?.details]) {
      assert.doesNotMatch(value ?? '', /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u);
    }
    assert.equal((await verifyChain(KEY, db.stores.audit)).ok, true, 'the hash covers the escaped text');
  });

  it('redacts detail keys that could hold a secret, at any depth', async () => {
    await recorder().record(
      { ip: null, userAgent: null, requestId: null },
      {
        type: 'passkey.added',
        outcome: 'success',
        details: {
          passkeyId: 'pk_1',
          token: 'A'.repeat(43),
          nested: { clientSecret: 's3cret', recoveryCode: '1234-5678', reason: 'invalid_code' },
          Authorization: 'Bearer x',
        },
      },
    );
    const [event] = await db.stores.audit.list({ limit: 1 });
    assert.deepEqual(event?.details, {
      passkeyId: 'pk_1',
      token: '[redacted]',
      nested: { clientSecret: '[redacted]', recoveryCode: '[redacted]', reason: 'invalid_code' },
      Authorization: '[redacted]',
    });
  });

  it('records the actor apart from the user, and a failed write is reported, not thrown', async () => {
    await recorder().record(
      { ip: null, userAgent: null, requestId: null },
      { type: 'audit.viewed', outcome: 'success', actorId: 'usr_admin', userId: null },
    );
    const [event] = await db.stores.audit.list({ limit: 1 });
    assert.deepEqual([event?.actorId, event?.userId], ['usr_admin', null]);

    const broken = new AuditRecorder(
      {
        ...db.stores.audit,
        append: async () => {
          throw new Error('database down');
        },
      },
      new TestClock(T0),
      (e) => errors.push(e),
      KEY,
    );
    await broken.record(
      { ip: null, userAgent: null, requestId: null },
      { type: 'sign_out', outcome: 'success' },
    );
    assert.match(String(errors.pop()), /database down/);
  });

  it('events recorded at once are committed together, in the order they were recorded', async () => {
    const audit = recorder();
    await Promise.all(
      Array.from({ length: 250 }, (_, i) =>
        audit.record(
          { ip: null, userAgent: null, requestId: null },
          { type: 'sign_out', outcome: 'success', details: { i } },
        ),
      ),
    );
    const rows = await db.stores.audit.scan({ afterSeq: -1, limit: 1000 });
    assert.deepEqual(
      rows.map((r) => JSON.parse(r.details).i),
      Array.from({ length: 250 }, (_, i) => i),
    );
    assert.equal((await verifyChain(KEY, db.stores.audit)).verified, 250);
    assert.deepEqual(errors, []);
  });
});
