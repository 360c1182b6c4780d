import type { Kysely, Selectable } from 'kysely';
import type { EmailChallengeRecord, EmailChallengeStore } from '../../ports/email-challenge-store.ts';
import type { Database, EmailChallengesTable } from './database.ts';

function toChallenge(row: Selectable<EmailChallengesTable>): EmailChallengeRecord {
  return {
    id: row.id,
    email: row.email,
    linkHash: row.link_hash,
    flowHash: row.flow_hash,
    codeHash: row.code_hash,
    attempts: row.attempts,
    redirectTo: row.redirect_to,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    createdAt: row.created_at,
  };
}

export class SqlEmailChallengeStore implements EmailChallengeStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(challenge: EmailChallengeRecord): Promise<void> {
    await this.#db
      .insertInto('email_challenges')
      .values({
        id: challenge.id,
        email: challenge.email,
        link_hash: challenge.linkHash,
        flow_hash: challenge.flowHash,
        code_hash: challenge.codeHash,
        attempts: challenge.attempts,
        redirect_to: challenge.redirectTo,
        expires_at: challenge.expiresAt,
        used_at: challenge.usedAt,
        created_at: challenge.createdAt,
      })
      .execute();
  }

  async consumeByLink(linkHash: string, now: number): Promise<EmailChallengeRecord | undefined> {
    // One UPDATE … WHERE used_at IS NULL … RETURNING: exactly one concurrent caller gets the row.
    const row = await this.#db
      .updateTable('email_challenges')
      .set({ used_at: now })
      .where('link_hash', '=', linkHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row && toChallenge(row);
  }

  async consumeByCode(
    input: { flowHash: string; codeHash: string; email: string; maxAttempts: number },
    now: number,
  ): Promise<EmailChallengeRecord | undefined> {
    const row = await this.#db
      .updateTable('email_challenges')
      .set({ used_at: now })
      .where('flow_hash', '=', input.flowHash)
      .where('code_hash', '=', input.codeHash)
      .where('email', '=', input.email)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .where('attempts', '<', input.maxAttempts)
      .returningAll()
      .executeTakeFirst();
    return row && toChallenge(row);
  }

  async recordFailedAttempt(flowHash: string, now: number): Promise<void> {
    await this.#db
      .updateTable('email_challenges')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('flow_hash', '=', flowHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .execute();
  }

  async invalidateForEmail(email: string, now: number): Promise<number> {
    const result = await this.#db
      .updateTable('email_challenges')
      .set({ used_at: now })
      .where('email', '=', email)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async deleteExpired(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('email_challenges')
      .where('expires_at', '<=', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
