import { z } from 'zod';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import type { Clock } from '../../ports/clock.ts';
import type { UserStore } from '../../ports/user-store.ts';
import { isAppError } from '../../errors/app-error.ts';
import { randomId } from '../crypto/secrets.ts';
import { keycloakCredentialSchema, keycloakPasswordHash } from '../passwords/keycloak-credentials.ts';
import { importableHashProblem, isBcryptHash } from '../passwords/legacy-hashes.ts';
import { isPbkdf2Hash } from '../passwords/pbkdf2-hashes.ts';
import { normalizeEmail } from './email-address.ts';

/**
 * One account from another system, one JSON object per line (docs/migrating.md). Unknown keys
 * are refused, so a misspelt `password_hash` is not silently an account without a password.
 */
const importLine = z
  .object({
    email: z.string().max(320),
    // null as false: an export that never recorded it proved nothing.
    emailVerified: z
      .boolean()
      .nullable()
      .default(false)
      .transform((value) => value === true),
    displayName: z.string().trim().min(1).max(100).nullable().default(null),
    passwordHash: z.string().max(512).nullable().default(null),
    keycloakCredential: keycloakCredentialSchema.nullable().default(null),
  })
  .strict()
  .refine((line) => line.passwordHash === null || line.keycloakCredential === null, {
    message: 'give passwordHash or keycloakCredential, not both',
  });

export interface ImportRecord {
  line: number;
  email: string;
  emailVerified: boolean;
  displayName: string | null;
  passwordHash: string | null;
}

export interface ImportProblem {
  line: number;
  message: string;
}

/**
 * Reads the whole file before anything is written: one bad line and nothing is imported, so a
 * fixed file can simply be run again. Blank lines are skipped; an address twice is a problem.
 */
export function parseImport(text: string): { records: ImportRecord[]; problems: ImportProblem[] } {
  const records: ImportRecord[] = [];
  const problems: ImportProblem[] = [];
  const seen = new Map<string, number>();
  // A byte-order mark (some editors and Windows tools write one) is not part of line 1.
  for (const [index, raw] of text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .entries()) {
    const line = index + 1;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      problems.push({ line, message: 'not a JSON object' });
      continue;
    }
    const parsed = importLine.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ line, message: `${issue.path.join('.') || 'line'}: ${issue.message}` });
      continue;
    }
    let email: string;
    try {
      email = normalizeEmail(parsed.data.email);
    } catch (error) {
      if (!isAppError(error)) throw error;
      problems.push({ line, message: 'email: not a valid address' });
      continue;
    }
    const earlier = seen.get(email);
    if (earlier !== undefined) {
      problems.push({ line, message: `email: ${email} is also on line ${earlier}` });
      continue;
    }
    seen.set(email, line);
    let { passwordHash } = parsed.data;
    const field = parsed.data.keycloakCredential ? 'keycloakCredential' : 'passwordHash';
    if (parsed.data.keycloakCredential) {
      const converted = keycloakPasswordHash(parsed.data.keycloakCredential);
      if ('problem' in converted) {
        problems.push({ line, message: `keycloakCredential ${converted.problem}` });
        continue;
      }
      passwordHash = converted.hash;
    }
    const hashProblem = passwordHash === null ? null : importableHashProblem(passwordHash);
    if (hashProblem) {
      problems.push({ line, message: `${field} ${hashProblem}` });
      continue;
    }
    const { emailVerified, displayName } = parsed.data;
    records.push({ line, email, emailVerified, displayName, passwordHash });
  }
  return { records, problems };
}

function hashKind(stored: string): 'bcrypt' | 'pbkdf2' | 'argon2' {
  if (isBcryptHash(stored)) return 'bcrypt';
  return isPbkdf2Hash(stored) ? 'pbkdf2' : 'argon2';
}

export interface ImportOutcome {
  /** Accounts created (with --dry-run: that would be created). */
  imported: number;
  withPassword: number;
  /** Addresses that already have an account here: left exactly as they are. */
  existing: Array<{ line: number; email: string }>;
}

export interface UserImportDeps {
  users: UserStore;
  audit: AuditRecorder;
  clock: Clock;
}

/**
 * Creates the accounts that do not exist yet, each with its imported password hash in the same
 * transaction (an interrupted import leaves no account without the password it brought, so a
 * second run finishes it). An address that already has an account is never touched: an import
 * must not give an old system's password to an account someone else may now own. No mail is
 * sent. `dryRun` only reads: what would be imported, and what exists.
 */
export async function importUsers(
  records: ImportRecord[],
  deps: UserImportDeps,
  context: RequestContext,
  options: { dryRun: boolean },
): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { imported: 0, withPassword: 0, existing: [] };
  for (const record of records) {
    const now = deps.clock.now();
    const id = randomId();
    const { created } = options.dryRun
      ? { created: (await deps.users.findByEmail(record.email)) === undefined }
      : await deps.users.createWithPassword(
          {
            id,
            email: record.email,
            emailVerifiedAt: record.emailVerified ? now : null,
            displayName: record.displayName,
            createdAt: now,
            updatedAt: now,
            disabledAt: null,
          },
          record.passwordHash,
        );
    if (!created) {
      outcome.existing.push({ line: record.line, email: record.email });
      continue;
    }
    outcome.imported++;
    if (record.passwordHash !== null) outcome.withPassword++;
    if (options.dryRun) continue;
    await deps.audit.record(context, {
      type: 'user.imported',
      outcome: 'success',
      userId: id,
      details: {
        emailVerified: record.emailVerified,
        hashKind: record.passwordHash === null ? 'none' : hashKind(record.passwordHash),
      },
    });
  }
  return outcome;
}
