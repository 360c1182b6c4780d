import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, MINUTE, T0, userRecord } from '../support/records.ts';

forEachDatabase('KnownDeviceStore', (db) => {
  it('a device is new once; later sign-ins from it only move last_seen_at', async () => {
    const user = userRecord();
    await db.stores.users.createOrGet(user);
    const devices = db.stores.knownDevices;
    assert.equal(await devices.remember(user.id, 'device-a', T0), true);
    assert.equal(await devices.remember(user.id, 'device-a', T0 + MINUTE), false);
    assert.equal(await devices.isKnown(user.id, 'device-a'), true);
    // Seen a minute later: a cut-off between the two sign-ins keeps it.
    assert.equal(await devices.deleteUnseenSince(T0 + 1), 0);
    assert.equal(await devices.isKnown(user.id, 'device-a'), true);
    assert.equal(await devices.deleteUnseenSince(T0 + 2 * MINUTE), 1);
    assert.equal(await devices.isKnown(user.id, 'device-a'), false);
  });

  it('of sign-ins racing from one new device, exactly one reports it new', async () => {
    const user = userRecord();
    await db.stores.users.createOrGet(user);
    const results = await concurrently(8, () => db.stores.knownDevices.remember(user.id, 'device-b', T0));
    assert.equal(results.filter(Boolean).length, 1);
  });
});
