import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { sql } from 'kysely';
import { type AuditRecord, type ChainLink, GENESIS_HASH } from '../../src/ports/audit-log.ts';
import { forEachDatabase } from '../support/databases.ts';
import { DAY, randomId, T0 } from '../support/records.ts';

/** A stand-in for the domain's keyed link: the port only stores what it is given. */
const link: ChainLink = (prevHash, record) =>
  createHash('sha256').update(`${prevHash}|${record.id}|${record.details}`).digest('hex');

forEachDatabase('AuditLog', (db) => {
  let clock = T0;

  function event(overrides: Partial<AuditRecord> = {}): AuditRecord {
    return {
      id: randomId('evt_'),
      at: clock++,
      type: 'sign_in.passkey',
      outcome: 'success',
      userId: 'usr_ada',
      actorId: null,
      sessionId: null,
      ip: null,
      userAgent: null,
      requestId: null,
      details: '{}',
      ...overrides,
    };
  }

  async function append(...records: AuditRecord[]): Promise<AuditRecord[]> {
    await db.stores.audit.append(records, link);
    return records;
  }

  it('stores every field; details come back parsed from list and verbatim from scan', async () => {
    const [written] = await append(
      event({
        outcome: 'failure',
        actorId: 'usr_admin',
        sessionId: 'ses_1',
        ip: '2001:db8::1',
        userAgent: 'Mozilla/5.0 (test)',
        requestId: 'req_1',
        details: '{"factor":"passkey","flags":[true,null],"reason":"counter_regression"}',
      }),
    );
    const [listed] = await db.stores.audit.list({ limit: 10 });
    const { details, seq, prevHash, hash, ...rest } = listed!;
    assert.deepEqual(details, { factor: 'passkey', flags: [true, null], reason: 'counter_regression' });
    assert.deepEqual({ ...rest, details: written!.details }, written);
    assert.equal(prevHash, GENESIS_HASH);
    assert.equal(hash, link(GENESIS_HASH, written!));
    const [scanned] = await db.stores.audit.scan({ afterSeq: -1, limit: 10 });
    assert.equal(scanned?.details, written!.details);
    assert.equal(scanned?.seq, seq);
  });

  it('links each appended event to the one before, across separate appends', async () => {
    const first = await append(event(), event());
    const second = await append(event());
    const rows = await db.stores.audit.scan({ afterSeq: -1, limit: 10 });
    assert.deepEqual(
      rows.map((r) => r.id),
      [...first, ...second].map((r) => r.id),
    );
    let prev = GENESIS_HASH;
    for (const row of rows) {
      assert.equal(row.prevHash, prev);
      assert.equal(row.hash, link(prev, row));
      prev = row.hash!;
    }
    assert.ok(rows.every((row, i) => i === 0 || row.seq > rows[i - 1]!.seq));
  });

  it('lists newest first with filters by user, type and time, and a cursor by seq', async () => {
    const adaPasskey = event();
    const bobPasskey = event({ userId: 'usr_bob' });
    const adaEmail = event({ type: 'sign_in.email_link' });
    const anonymous = event({ userId: null, type: 'sign_in.email_link', outcome: 'failure' });
    await append(adaPasskey, bobPasskey, adaEmail, anonymous);
    const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);
    assert.deepEqual(
      ids(await db.stores.audit.list({ limit: 10 })),
      ids([anonymous, adaEmail, bobPasskey, adaPasskey]),
    );
    assert.deepEqual(
      ids(await db.stores.audit.list({ userId: 'usr_ada', limit: 10 })),
      ids([adaEmail, adaPasskey]),
    );
    assert.deepEqual(
      ids(await db.stores.audit.list({ type: 'sign_in.passkey', limit: 10 })),
      ids([bobPasskey, adaPasskey]),
    );
    assert.deepEqual(
      ids(await db.stores.audit.list({ since: bobPasskey.at, until: anonymous.at, limit: 10 })),
      ids([adaEmail, bobPasskey]),
    );
    const [newest, second] = await db.stores.audit.list({ limit: 2 });
    assert.deepEqual(
      ids(await db.stores.audit.list({ beforeSeq: second!.seq, limit: 10 })),
      ids([bobPasskey, adaPasskey]),
    );
    assert.equal(newest?.id, anonymous.id);
    assert.deepEqual(await db.stores.audit.list({ userId: 'usr_carol', limit: 10 }), []);
    assert.deepEqual(
      ids(await db.stores.audit.scan({ afterSeq: -1, type: 'sign_in.email_link', limit: 10 })),
      ids([adaEmail, anonymous]),
    );
  });

  it('refuses a fork: two events can never name the same predecessor', async () => {
    const [first] = await append(event());
    const [stored] = await db.stores.audit.scan({ afterSeq: -1, limit: 1 });
    await assert.rejects(
      db.database.db
        .insertInto('audit_events')
        .values({
          id: randomId('evt_'),
          at: first!.at,
          type: 'sign_in.passkey',
          outcome: 'success',
          user_id: null,
          actor_id: null,
          session_id: null,
          ip: null,
          user_agent: null,
          request_id: null,
          details: '{}',
          prev_hash: stored!.prevHash,
          hash: 'f'.repeat(64),
        })
        .execute(),
    );
  });

  it('prunes a prefix, keeps the anchor sealed, and resumes the chain from it', async () => {
    clock = T0;
    const old = await append(event(), event(), event());
    clock = T0 + 100 * DAY;
    const recent = await append(event());
    const throughSeq = await db.stores.audit.lastSeqBefore(T0 + 90 * DAY);
    const rows = await db.stores.audit.scan({ afterSeq: -1, limit: 10 });
    assert.equal(throughSeq, rows[2]!.seq);
    const seal = (seq: number, hash: string) => `sealed:${seq}:${hash}`;
    assert.equal(await db.stores.audit.prune(throughSeq!, seal, T0 + 100 * DAY), 3);
    const anchor = await db.stores.audit.anchor();
    assert.deepEqual(anchor, {
      seq: rows[2]!.seq,
      hash: rows[2]!.hash,
      mac: seal(rows[2]!.seq, rows[2]!.hash!),
      prunedTotal: 3,
      updatedAt: T0 + 100 * DAY,
    });
    const left = await db.stores.audit.scan({ afterSeq: -1, limit: 10 });
    assert.deepEqual(
      left.map((r) => r.id),
      recent.map((r) => r.id),
    );
    assert.equal(left[0]!.prevHash, anchor?.hash, 'the first remaining event links to the anchor');
    assert.equal(old.length, 3);

    // Pruning everything: the next event links to the anchor, and the total accumulates.
    assert.equal(await db.stores.audit.prune(left[0]!.seq, seal, T0 + 101 * DAY), 1);
    const [next] = await append(event());
    const [stored] = await db.stores.audit.scan({ afterSeq: -1, limit: 10 });
    assert.equal(stored?.id, next!.id);
    assert.equal(stored?.prevHash, left[0]!.hash);
    assert.equal((await db.stores.audit.anchor())?.prunedTotal, 4);
  });

  it('lastSeqBefore ends the prefix before the first event at or after the cut-off', async () => {
    assert.equal(await db.stores.audit.lastSeqBefore(T0), undefined, 'empty log');
    clock = T0;
    await append(event(), event({ at: T0 + 5 * DAY }), event({ at: T0 + 1 }));
    const rows = await db.stores.audit.scan({ afterSeq: -1, limit: 10 });
    // The third event is older than the cut-off but follows a newer one: it stays, so the
    // pruned part is always a prefix of the chain.
    assert.equal(await db.stores.audit.lastSeqBefore(T0 + DAY), rows[0]!.seq);
    assert.equal(await db.stores.audit.lastSeqBefore(T0 + 10 * DAY), rows[2]!.seq);
  });

  it('reads an anchor-free, empty log', async () => {
    assert.equal(await db.stores.audit.anchor(), undefined);
    assert.deepEqual(await db.stores.audit.scan({ afterSeq: -1, limit: 10 }), []);
    await db.stores.audit.append([], link);
    assert.equal(
      Number(
        (await sql<{ n: number }>`select count(*) as n from audit_events`.execute(db.database.db)).rows[0]?.n,
      ),
      0,
    );
  });
});
