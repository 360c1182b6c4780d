import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AuditEvent } from '../../src/ports/audit-log.ts';
import { forEachDatabase } from '../support/databases.ts';
import { randomId, T0 } from '../support/records.ts';

forEachDatabase('AuditLog', (db) => {
  let clock = T0;

  async function record(overrides: Partial<AuditEvent> = {}): Promise<AuditEvent> {
    const event: AuditEvent = {
      id: randomId('evt_'),
      at: clock++,
      type: 'sign_in.passkey',
      outcome: 'success',
      userId: 'usr_ada',
      sessionId: null,
      ip: null,
      userAgent: null,
      requestId: null,
      details: {},
      ...overrides,
    };
    await db.stores.audit.record(event);
    return event;
  }

  it('records an event with every field and nested details intact', async () => {
    const event = await record({
      outcome: 'failure',
      sessionId: 'ses_1',
      ip: '2001:db8::1',
      userAgent: 'Mozilla/5.0 (test)',
      requestId: 'req_1',
      details: { reason: 'counter_regression', factor: 'passkey', attempts: 2, flags: [true, null] },
    });
    assert.deepEqual(await db.stores.audit.list({ limit: 10 }), [event]);
  });

  it('lists newest first, up to the limit', async () => {
    const first = await record();
    const second = await record({ userId: null, type: 'sign_in.email_requested' });
    const third = await record({ outcome: 'failure' });
    assert.deepEqual(await db.stores.audit.list({ limit: 10 }), [third, second, first]);
    assert.deepEqual(await db.stores.audit.list({ limit: 2 }), [third, second]);
  });

  it('filters by user, by type, and by both', async () => {
    const adaPasskey = await record();
    const bobPasskey = await record({ userId: 'usr_bob' });
    const adaEmail = await record({ type: 'sign_in.email_link' });
    await record({ userId: null, type: 'sign_in.email_link', outcome: 'failure' });
    assert.deepEqual(await db.stores.audit.list({ userId: 'usr_ada', limit: 10 }), [adaEmail, adaPasskey]);
    assert.deepEqual(await db.stores.audit.list({ type: 'sign_in.passkey', limit: 10 }), [
      bobPasskey,
      adaPasskey,
    ]);
    assert.deepEqual(
      await db.stores.audit.list({ userId: 'usr_ada', type: 'sign_in.email_link', limit: 10 }),
      [adaEmail],
    );
    assert.deepEqual(await db.stores.audit.list({ userId: 'usr_carol', limit: 10 }), []);
  });
});
