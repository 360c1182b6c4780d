import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { it } from 'node:test';
import { AuditRecorder } from '../../src/domain/audit/audit-recorder.ts';
import { AuditRetention } from '../../src/domain/audit/audit-retention.ts';
import { verifyChain } from '../../src/domain/audit/chain-verifier.ts';
import type { RequestContext } from '../../src/domain/request-context.ts';
import { forEachDatabase } from '../support/databases.ts';
import { DAY, T0 } from '../support/records.ts';
import { TestClock } from '../support/server.ts';

const KEY = randomBytes(32);
const OTHER_NODE = new URL('fixtures/append-events.ts', import.meta.url).pathname;
const CONTEXT: RequestContext = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (test)', requestId: 'req_1' };

forEachDatabase('audit hash chain', (db) => {
  const clock = new TestClock(T0);
  const recorder = () =>
    new AuditRecorder(
      db.stores.audit,
      clock,
      (error) => {
        throw error;
      },
      KEY,
    );

  async function recordMany(count: number, audit = recorder()): Promise<void> {
    for (let i = 0; i < count; i++) {
      await audit.record(CONTEXT, {
        type: 'sign_in.passkey',
        outcome: i % 3 ? 'success' : 'failure',
        userId: `usr_${i % 2}`,
        details: { factor: 'passkey', attempt: i },
      });
      clock.advance(1000);
    }
  }

  const rows = () => db.stores.audit.scan({ afterSeq: -1, limit: 1000 });
  const edit = (seq: number) => db.database.db.updateTable('audit_events').where('seq', '=', seq);

  it('an untouched log verifies, and the report names its head', async () => {
    await recordMany(5);
    const all = await rows();
    const report = await verifyChain(KEY, db.stores.audit);
    assert.equal(report.ok, true);
    assert.equal(report.verified, 5);
    assert.equal(report.lastSeq, all[4]!.seq);
    assert.equal(report.head, all[4]!.hash);
    assert.equal(report.broken, null);
  });

  it('a modified event is named, even when its hash is recomputed without the key', async () => {
    await recordMany(5);
    const target = (await rows())[2]!;
    await edit(target.seq).set({ details: '{"attempt":2,"factor":"password"}' }).execute();
    let report = await verifyChain(KEY, db.stores.audit);
    assert.deepEqual(
      { ok: report.ok, seq: report.broken?.seq, id: report.broken?.id, reason: report.broken?.reason },
      { ok: false, seq: target.seq, id: target.id, reason: 'hash_mismatch' },
    );
    assert.equal(report.verified, 2, 'the events before it still verify');
    // An attacker with the database but not the secret can only compute an unkeyed hash.
    const forged = createHash('sha256')
      .update(JSON.stringify({ ...target, details: 'x' }))
      .digest('hex');
    await edit(target.seq).set({ hash: forged }).execute();
    report = await verifyChain(KEY, db.stores.audit);
    assert.equal(report.broken?.seq, target.seq);
    assert.equal(report.broken?.reason, 'hash_mismatch');
  });

  it('a deleted event breaks the link of the one after it', async () => {
    await recordMany(5);
    const all = await rows();
    await db.database.db.deleteFrom('audit_events').where('seq', '=', all[1]!.seq).execute();
    const report = await verifyChain(KEY, db.stores.audit);
    assert.equal(report.broken?.seq, all[2]!.seq);
    assert.equal(report.broken?.reason, 'link_mismatch');
  });

  it('a hash removed after the chain started, and a moved anchor, are breaks', async () => {
    await recordMany(4);
    const all = await rows();
    await edit(all[3]!.seq).set({ hash: null, prev_hash: null }).execute();
    assert.equal((await verifyChain(KEY, db.stores.audit)).broken?.reason, 'missing_hash');
    await edit(all[3]!.seq).set({ hash: all[3]!.hash, prev_hash: all[3]!.prevHash }).execute();
    assert.equal((await verifyChain(KEY, db.stores.audit)).ok, true);

    clock.advance(100 * DAY);
    await recordMany(1);
    await new AuditRetention({
      log: db.stores.audit,
      audit: recorder(),
      clock,
      chainKey: KEY,
      retentionMs: 90 * DAY,
    }).run();
    assert.equal((await verifyChain(KEY, db.stores.audit)).ok, true);
    // Moving the anchor forward would hide events from verification: its seal refuses it.
    const [first] = await rows();
    await db.database.db
      .updateTable('audit_chain_anchor')
      .set({ seq: first!.seq, hash: first!.hash! })
      .execute();
    const report = await verifyChain(KEY, db.stores.audit);
    assert.equal(report.broken?.reason, 'anchor_forged');
  });

  it('events written before the chain existed are counted, not verified, and cannot follow it', async () => {
    await db.database.db
      .insertInto('audit_events')
      .values(
        [1, 2].map((i) => ({
          id: `legacy_${i}`,
          at: T0,
          type: 'sign_in.passkey',
          outcome: 'success',
          user_id: null,
          actor_id: null,
          session_id: null,
          ip: null,
          user_agent: null,
          request_id: null,
          details: '{}',
          prev_hash: null,
          hash: null,
        })),
      )
      .execute();
    await recordMany(2);
    const report = await verifyChain(KEY, db.stores.audit);
    assert.deepEqual([report.ok, report.unchained, report.verified], [true, 2, 2]);
    // Clearing the hash of the chain's first event to pass it off as pre-chain moves the
    // break to the next one, whose predecessor is no longer the genesis.
    const all = await rows();
    await edit(all[2]!.seq).set({ hash: null, prev_hash: null }).execute();
    const broken = await verifyChain(KEY, db.stores.audit);
    assert.equal(broken.broken?.seq, all[3]!.seq);
  });

  it('retention prunes old events, the chain stays verifiable, and each run is on the record', async () => {
    await recordMany(6);
    clock.advance(91 * DAY);
    await recordMany(3);
    const retention = new AuditRetention({
      log: db.stores.audit,
      audit: recorder(),
      clock,
      chainKey: KEY,
      retentionMs: 90 * DAY,
    });
    assert.equal(await retention.run(), 6);
    let report = await verifyChain(KEY, db.stores.audit);
    assert.equal(report.ok, true);
    assert.equal(report.verified, 4, 'three recent events and the audit.pruned event');
    assert.deepEqual(report.anchor?.prunedTotal, 6);
    const [pruned] = await db.stores.audit.list({ type: 'audit.pruned', limit: 1 });
    assert.equal(pruned?.outcome, 'success');
    assert.deepEqual(
      { count: pruned?.details.count, chainIntact: pruned?.details.chainIntact },
      { count: 6, chainIntact: true },
    );
    assert.equal(await retention.run(), 0, 'nothing more is old enough');

    // Everything ages out, and new events keep chaining from the anchor.
    clock.advance(91 * DAY);
    assert.equal(await retention.run(), 4);
    await recordMany(2);
    report = await verifyChain(KEY, db.stores.audit);
    assert.equal(report.ok, true);
    assert.equal(report.anchor?.prunedTotal, 10);
  });

  it('retention records a break found in the part it deletes, so pruning cannot launder it', async () => {
    await recordMany(4);
    const all = await rows();
    await edit(all[1]!.seq).set({ outcome: 'success', ip: '198.51.100.1' }).execute();
    clock.advance(91 * DAY);
    await new AuditRetention({
      log: db.stores.audit,
      audit: recorder(),
      clock,
      chainKey: KEY,
      retentionMs: 90 * DAY,
    }).run();
    const [pruned] = await db.stores.audit.list({ type: 'audit.pruned', limit: 1 });
    assert.equal(pruned?.outcome, 'failure');
    assert.deepEqual(
      [pruned?.details.chainIntact, pruned?.details.brokenAtSeq, pruned?.details.breakReason],
      [false, all[1]!.seq, 'hash_mismatch'],
    );
    assert.equal((await verifyChain(KEY, db.stores.audit)).ok, true, 'what remains verifies');
  });

  it('two processes appending at once produce one valid chain (appends are serialised)', async () => {
    const perNode = 150;
    const other = spawn(
      process.execPath,
      [OTHER_NODE, JSON.stringify(db.location), Buffer.from(KEY).toString('hex'), String(perNode)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = once(other, 'exit');
    await once(other.stdout!, 'data');
    other.stdin!.end('go\n');
    const audit = recorder();
    for (let i = 0; i < perNode; i++) {
      await audit.record(CONTEXT, { type: 'sign_in.email_link', outcome: 'success', details: { i } });
    }
    assert.deepEqual(await exited, [0, null], 'the other process recorded every event');
    const report = await verifyChain(KEY, db.stores.audit);
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    assert.equal(report.verified, perNode * 2);
    const agents = new Set((await rows()).map((r) => r.userAgent));
    assert.deepEqual([...agents].sort(), ['Mozilla/5.0 (test)', 'other node'], 'both wrote');
  });
});
