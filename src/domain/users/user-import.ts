import { z } from 'zod';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import type { Clock } from '../../ports/clock.ts';
import type { PasswordStore } from '../../ports/credential-store.ts';
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
    emailVerified: z.boolean().default(false),
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
  for (const [index, raw] of text.split('\n').entries()) {
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
      problems.push({ line, message: `passwordHash ${hashProblem}` });
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
  imported: number;
  withPassword: number;
  /** Addresses that already have an account here: left exactly as they are. */
  existing: Array<{ line: number; email: string }>;
}

export interface UserImportDeps {
  users: UserStore;
  passwords: PasswordStore;
  audit: AuditRecorder;
  clock: Clock;
}

/**
 * Creates the accounts that do not exist yet, with their imported password hash when they
 * bring one. An address that already has an account is never touched: an import must not
 * give an old system's password to an account someone else may now own. No mail is sent.
 */
export async function importUsers(
  records: ImportRecord[],
  deps: UserImportDeps,
  context: RequestContext,
): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { imported: 0, withPassword: 0, existing: [] };
  for (const record of records) {
    const now = deps.clock.now();
    const { user, created } = await deps.users.createOrGet({
      id: randomId(),
      email: record.email,
      emailVerifiedAt: record.emailVerified ? now : null,
      displayName: record.displayName,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
    });
    if (!created) {
      outcome.existing.push({ line: record.line, email: record.email });
      continue;
    }
    if (record.passwordHash !== null) {
      await deps.passwords.set(user.id, record.passwordHash, now);
      outcome.withPassword++;
    }
    outcome.imported++;
    await deps.audit.record(context, {
      type: 'user.imported',
      outcome: 'success',
      userId: user.id,
      details: {
        emailVerified: record.emailVerified,
        hashKind: record.passwordHash === null ? 'none' : hashKind(record.passwordHash),
      },
    });
  }
  return outcome;
}
