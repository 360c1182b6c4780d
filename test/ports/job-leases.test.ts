import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, MINUTE, T0 } from '../support/records.ts';

forEachDatabase('JobLeases', (db) => {
  it('one holder per lease period; the lease passes on once it has run out', async () => {
    const leases = db.stores.jobLeases;
    assert.equal(await leases.claim('pruning', 'node-a', T0, T0 + 10 * MINUTE), true);
    assert.equal(await leases.claim('pruning', 'node-b', T0 + MINUTE, T0 + 11 * MINUTE), false);
    assert.equal(
      await leases.claim('pruning', 'node-a', T0 + MINUTE, T0 + 11 * MINUTE),
      false,
      'not even twice by its holder',
    );
    assert.equal(await leases.claim('other-job', 'node-b', T0, T0 + MINUTE), true, 'jobs are independent');
    assert.equal(await leases.claim('pruning', 'node-b', T0 + 10 * MINUTE, T0 + 20 * MINUTE), true);
  });

  it('of many nodes claiming at once, exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const now = T0 + round * 10 * MINUTE;
      const won = await concurrently(12, (i) =>
        db.stores.jobLeases.claim('pruning', `node-${i}`, now, now + 10 * MINUTE),
      );
      assert.equal(won.filter(Boolean).length, 1, `round ${round}`);
    }
  });
});
