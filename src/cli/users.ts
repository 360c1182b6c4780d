import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config/load.ts';
import { createGatehouse } from '../container.ts';
import { normalizeEmail } from '../domain/users/email-address.ts';
import { importUsers, parseImport } from '../domain/users/user-import.ts';
import {
  UserAdministration,
  UserAdministrationError,
  type UserAdministrator,
} from '../domain/users/user-administration.ts';
import { isAppError } from '../errors/app-error.ts';
import { systemClock } from '../ports/clock.ts';
import type { UserRecord } from '../ports/user-store.ts';
import { withStores } from './oauth.ts';

export const usersUsage = `Usage:
  gatehouse users show --email ADDRESS | --id ID
      Prints the account (id, email, disabledAt) as JSON.
  gatehouse users disable --email ADDRESS | --id ID
      Disables the account: it cannot sign in any way, its sessions are signed out and its
      OAuth grants, refresh tokens and connected apps are revoked (docs/operations.md).
  gatehouse users enable --email ADDRESS | --id ID
      Lets a disabled account sign in again.
  gatehouse users delete --email ADDRESS | --id ID
      Deletes the account: credentials, sessions and OAuth grants go (its apps get back-channel
      logout), audit entries stay. Nothing brings it back.
  gatehouse users import --file USERS.jsonl [--dry-run]
      Creates accounts from another system, one JSON object per line: {"email",
      "emailVerified", "displayName", "passwordHash"} (argon2, bcrypt as Auth0's, PBKDF2) or
      "keycloakCredential" (from a Keycloak realm export). Checks the whole file first: any bad
      line and nothing is imported (exit 1, every problem listed). Addresses that already have
      an account are left alone. No mail is sent. --dry-run writes nothing (docs/migrating.md).
`;

class UsageError extends Error {}

/** The operator at a terminal: no IP, user agent, request or signed-in user. */
const TERMINAL: UserAdministrator = {
  context: { ip: null, userAgent: null, requestId: null },
  actorId: null,
  sessionId: null,
  via: 'cli',
};

function userOut(user: UserRecord): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    disabledAt: user.disabledAt === null ? null : new Date(user.disabledAt).toISOString(),
  };
}

async function findUser(
  administration: UserAdministration,
  values: { email?: string | undefined; id?: string | undefined },
): Promise<UserRecord> {
  if ((values.email === undefined) === (values.id === undefined))
    throw new UsageError('give exactly one of --email or --id.');
  const user =
    values.id !== undefined
      ? await administration.findById(values.id)
      : await administration.findByEmail(normalizeEmail(values.email ?? ''));
  if (!user) throw new UserAdministrationError('not_found', 'No such user.');
  return user;
}

/**
 * Runs `work` with the same UserAdministration the admin API uses. With the OAuth provider on,
 * the services are built as the server builds them (without its background work), so a disable
 * runs the same audit subscribers: the user's provider sessions end and every app of theirs with
 * a back-channel logout URI gets its logout token (OpenID Connect Back-Channel Logout 1.0)
 * before the command exits. Without the provider, the stores are all it takes.
 */
async function withAdministration(
  work: (administration: UserAdministration) => Promise<number>,
): Promise<number> {
  const config = loadConfig();
  if (!config.oauth.enabled) {
    return withStores((stores, _config, audit) =>
      work(
        new UserAdministration({
          users: stores.users,
          sessions: stores.sessions,
          oauthModels: stores.oauthModels,
          audit,
          clock: systemClock,
        }),
      ),
    );
  }
  const gatehouse = await createGatehouse(
    // As with every other command, a schema behind this version is refused, never migrated here.
    { ...config, migrateOnStart: false },
    // stdout carries the command's JSON answer; log lines (a failed delivery) go to stderr.
    {
      background: false,
      log: pino({ level: config.logLevel, base: { service: 'gatehouse' } }, pino.destination(2)),
    },
  );
  try {
    const status = await work(gatehouse.services.userAdministration);
    await gatehouse.services.oauth?.backchannel.idle();
    return status;
  } finally {
    await gatehouse.close();
  }
}

/** `gatehouse users import`: accounts from another system (user-import.ts). */
async function importCommand(rest: string[]): Promise<number> {
  let values: { file?: string | undefined; 'dry-run'?: boolean | undefined };
  try {
    values = parseArgs({
      args: rest,
      options: { file: { type: 'string' }, 'dry-run': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!values.file) throw new UsageError('give the file to import with --file.');
  let text: string;
  try {
    text = readFileSync(values.file, 'utf8');
  } catch (error) {
    // As an unreadable --jwks-file: the command line named something that is not there.
    throw new UsageError(`cannot read ${values.file}: ${(error as Error).message}`);
  }
  const { records, problems } = parseImport(text);
  if (problems.length > 0) {
    console.log(JSON.stringify({ imported: 0, problems }, null, 2));
    console.error(`gatehouse: ${problems.length} problem(s) in ${values.file}; nothing was imported.`);
    return 1;
  }
  const dryRun = values['dry-run'] === true;
  return withStores(async (stores, config, audit) => {
    const outcome = await importUsers(
      records,
      { users: stores.users, audit, clock: systemClock },
      TERMINAL.context,
      { dryRun },
    );
    console.log(JSON.stringify({ dryRun, ...outcome }, null, 2));
    if (outcome.withPassword > 0 && !config.passwords.enabled)
      console.error(
        'gatehouse: note: passwords are off (passwords.enabled is false); the imported passwords work once they are on.',
      );
    return 0;
  });
}

/** `gatehouse users show|disable|enable|delete|import`: the same UserAdministration as the admin API. */
export async function usersCommand(args: string[]): Promise<number> {
  try {
    const [sub, ...rest] = args;
    if (sub === 'import') return await importCommand(rest);
    if (sub !== 'show' && sub !== 'disable' && sub !== 'enable' && sub !== 'delete')
      throw new UsageError(sub ? `Unknown users command "${sub}".` : 'Missing users command.');
    let values: { email?: string | undefined; id?: string | undefined };
    try {
      values = parseArgs({
        args: rest,
        options: { email: { type: 'string' }, id: { type: 'string' } },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return await withAdministration(async (administration) => {
      const user = await findUser(administration, values);
      let out: Record<string, unknown>;
      if (sub === 'show') out = userOut(user);
      else if (sub === 'enable') out = userOut(await administration.enable(user.id, TERMINAL));
      else if (sub === 'delete') {
        const deleted = await administration.delete(user.id, TERMINAL);
        out = { ...userOut(deleted.user), deleted: true, oauthRevoked: deleted.oauthRevoked };
      } else {
        const disabled = await administration.disable(user.id, TERMINAL);
        out = {
          ...userOut(disabled.user),
          sessionsRevoked: disabled.sessionsRevoked,
          oauthRevoked: disabled.oauthRevoked,
        };
      }
      console.log(JSON.stringify(out, null, 2));
      return 0;
    });
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`gatehouse: ${error.message}\n\n${usersUsage}`);
      return 2;
    }
    if (isAppError(error)) {
      console.error(`gatehouse: ${error.message}`);
      return 2;
    }
    if (error instanceof UserAdministrationError) {
      console.error(`gatehouse: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
