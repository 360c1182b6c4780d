import type { Kysely } from 'kysely';
import type { JobLeases } from '../../ports/job-lease.ts';
import type { Database } from './database.ts';

export class SqlJobLeases implements JobLeases {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async claim(job: string, holder: string, now: number, until: number): Promise<boolean> {
    // Insert the first lease, or take over one that has run out: one statement, so two nodes
    // claiming at once cannot both win (the loser's upsert waits for the winner's row and
    // then finds it unexpired). A row comes back only when this node got the lease.
    const row = await this.#db
      .insertInto('job_leases')
      .values({ name: job, holder, lease_until: until })
      .onConflict((conflict) =>
        conflict
          .column('name')
          .doUpdateSet({ holder, lease_until: until })
          .where('job_leases.lease_until', '<=', now),
      )
      .returning('name')
      .executeTakeFirst();
    return row !== undefined;
  }
}
