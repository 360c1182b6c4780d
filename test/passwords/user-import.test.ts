/**
 * `gatehouse users import`: accounts from another system, with the password hashes they bring
 * (argon2 of any parameters, bcrypt as Auth0 exports it), replaced by argon2id at the first
 * successful sign-in. Real parts: the CLI in its own process, the server beside it on the same
 * database, sign-ins over HTTP, bcrypt hashes made by @node-rs/bcrypt.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { hash as argon2Hash, hashRawSync } from '@node-rs/argon2';
import { sql } from 'kysely';
import { hashSync as bcryptHashSync } from '@node-rs/bcrypt';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';
import { parseImport } from '../../src/domain/users/user-import.ts';
import { type CliWorkspace, cliWorkspace } from '../support/cli.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const SECRET = 'import-test-secret-0123456789abcdefghijklmnopqrstuvw';
const AUTH0_PASSWORD = 'an old password from the other system';
const ARGON2I_PASSWORD = 'another old password, argon2i this time';

describe('import file: read whole before anything is written', () => {
  test('every bad line is reported with its number; blank lines are skipped', () => {
    const bcrypt = bcryptHashSync('pw', 4);
    const text = [
      JSON.stringify({ email: 'ok@example.com', emailVerified: true, passwordHash: bcrypt }),
      '',
      'not json',
      JSON.stringify({ email: 'typo@example.com', password_hash: bcrypt }),
      JSON.stringify({ email: 'not an address' }),
      JSON.stringify({ email: 'ok@Example.COM' }),
      JSON.stringify({ email: 'md5@example.com', passwordHash: '5f4dcc3b5aa765d61d8327deb882cf99' }),
      JSON.stringify({ email: 'broken@example.com', passwordHash: '$argon2id$v=19$m=nope' }),
    ].join('\n');
    const { records, problems } = parseImport(text);
    assert.deepEqual(
      records.map((r) => [r.line, r.email, r.emailVerified]),
      [[1, 'ok@example.com', true]],
    );
    assert.deepEqual(
      problems.map((p) => p.line),
      [3, 4, 5, 6, 7, 8],
    );
    assert.match(problems.find((p) => p.line === 4)!.message, /password_hash/);
    assert.match(problems.find((p) => p.line === 6)!.message, /also on line 1/);
    assert.match(problems.find((p) => p.line === 7)!.message, /argon2 .*bcrypt .*PBKDF2/);
  });
});

describe('bcrypt hashes: verified exactly as typed', () => {
  const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });

  test('the right password passes, a wrong one fails, and the hash asks to be replaced', async () => {
    const stored = bcryptHashSync(AUTH0_PASSWORD, 4);
    assert.equal(await hasher.verify(stored, AUTH0_PASSWORD), true);
    assert.equal(await hasher.verify(stored, `${AUTH0_PASSWORD} `), false);
    assert.equal(hasher.needsRehash(stored), true);
  });

  test('a password longer than bcrypt reads (72 bytes) is refused, not cut', async () => {
    const first72 = 'x'.repeat(72);
    const stored = bcryptHashSync(first72, 4);
    assert.equal(await hasher.verify(stored, first72), true);
    // bcrypt itself would accept this: it reads only the first 72 bytes.
    assert.equal(await hasher.verify(stored, `${first72}anything after`), false);
  });
});

/** A password credential as a Keycloak realm export holds it (secretData and credentialData are JSON in strings). */
function keycloakCredential(value: Buffer, salt: Buffer, data: Record<string, unknown>) {
  return {
    secretData: JSON.stringify({
      value: value.toString('base64'),
      salt: salt.toString('base64'),
      additionalParameters: {},
    }),
    credentialData: JSON.stringify({ additionalParameters: {}, ...data }),
  };
}

const KEYCLOAK_PASSWORD = 'a password kept in Keycloak';

describe('PBKDF2 and Keycloak credentials', () => {
  const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });

  test('PBKDF2-HMAC-SHA256 checks against the published vector (RFC 7914 §11)', async () => {
    const key = Buffer.from(
      '4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d',
      'hex',
    );
    const stored = `$pbkdf2-sha256$i=80000$${Buffer.from('NaCl').toString('base64')}$${key.toString('base64')}`;
    assert.equal(await hasher.verify(stored, 'Password'), true);
    assert.equal(await hasher.verify(stored, 'password'), false);
    assert.equal(hasher.needsRehash(stored), true);
  });

  test('a Keycloak pbkdf2-sha256 credential imports and checks', async () => {
    const salt = randomBytes(16);
    const value = pbkdf2Sync(KEYCLOAK_PASSWORD, salt, 27500, 64, 'sha256');
    const credential = keycloakCredential(value, salt, { hashIterations: 27500, algorithm: 'pbkdf2-sha256' });
    const { records, problems } = parseImport(
      JSON.stringify({ email: 'kc@example.com', keycloakCredential: credential }),
    );
    assert.deepEqual(problems, []);
    const stored = records[0]!.passwordHash!;
    assert.match(stored, /^\$pbkdf2-sha256\$i=27500\$/);
    assert.equal(await hasher.verify(stored, KEYCLOAK_PASSWORD), true);
    assert.equal(await hasher.verify(stored, `${KEYCLOAK_PASSWORD}!`), false);
  });

  test('a Keycloak argon2 credential becomes the PHC string argon2 checks', async () => {
    const salt = randomBytes(16);
    const value = hashRawSync(KEYCLOAK_PASSWORD, {
      algorithm: 2 as never,
      memoryCost: 7168,
      timeCost: 5,
      parallelism: 1,
      outputLen: 32,
      salt,
    });
    const credential = keycloakCredential(value, salt, {
      hashIterations: 5,
      algorithm: 'argon2',
      additionalParameters: {
        hashLength: ['32'],
        memory: ['7168'],
        type: ['id'],
        version: ['1.3'],
        parallelism: ['1'],
      },
    });
    const { records, problems } = parseImport(
      JSON.stringify({ email: 'kc2@example.com', keycloakCredential: credential }),
    );
    assert.deepEqual(problems, []);
    const stored = records[0]!.passwordHash!;
    assert.match(stored, /^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
    assert.equal(await hasher.verify(stored, KEYCLOAK_PASSWORD), true);
    assert.equal(await hasher.verify(stored, 'not it'), false);
  });

  test('unreadable credentials and weak PBKDF2 are refused with the line', () => {
    const salt = randomBytes(16);
    const { problems } = parseImport(
      [
        { email: 'a@example.com', keycloakCredential: { secretData: '{}', credentialData: '{}' } },
        {
          email: 'b@example.com',
          keycloakCredential: keycloakCredential(salt, salt, {
            hashIterations: 1,
            algorithm: 'pbkdf2-sha256',
          }),
        },
        {
          email: 'c@example.com',
          passwordHash: '$pbkdf2-sha256$i=27500$c2FsdA==',
          keycloakCredential: undefined,
        },
        {
          email: 'd@example.com',
          passwordHash: '$2b$10$Z6hUTEEeoJXN5/AmSm/4.eZ75RYgFVriQM9LPhNEC7kbAbS/VAaJ2',
          keycloakCredential: keycloakCredential(salt, salt, { hashIterations: 27500, algorithm: 'pbkdf2' }),
        },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    assert.deepEqual(
      problems.map((p) => p.line),
      [1, 2, 3, 4],
    );
    assert.match(problems[0]!.message, /Keycloak password credential/);
    assert.match(problems[1]!.message, /1,000 to 1,000,000 iterations/);
    assert.match(problems[3]!.message, /not both/);
  });
});

describe('imported hashes: every format, within what one check may cost', () => {
  const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });
  const one = (line: Record<string, unknown>) =>
    parseImport(JSON.stringify({ email: 'x@example.com', ...line }));

  test('a check that would cost too much is refused at import, never at sign-in', async () => {
    const argon2 = (memoryCost: number, timeCost: number, parallelism: number) =>
      argon2Hash('pw', { algorithm: 2 as never, memoryCost, timeCost, parallelism });
    const tooDear = [
      bcryptHashSync('pw', 14),
      await argon2(1024, 11, 1),
      await argon2(1024, 1, 5),
      '$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
      `$pbkdf2-sha256$i=2000000$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`,
      `$pbkdf2-sha256$i=27500$${randomBytes(16).toString('base64')}$${randomBytes(256).toString('base64')}`,
    ];
    for (const passwordHash of tooDear) {
      const { records, problems } = one({ passwordHash });
      assert.equal(records.length, 0, passwordHash.slice(0, 30));
      assert.equal(problems.length, 1, passwordHash.slice(0, 30));
    }
    assert.match(one({ passwordHash: bcryptHashSync('pw', 14) }).problems[0]!.message, /at most 13/);
    // The ceilings themselves import.
    assert.deepEqual(one({ passwordHash: await argon2(1024, 10, 4) }).problems, []);
  });

  test('bcrypt $2a$, $2b$ and $2y$; Keycloak pbkdf2 (SHA-1), pbkdf2-sha512, argon2 i and d, version 1.0', async () => {
    const b = bcryptHashSync(KEYCLOAK_PASSWORD, 4);
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const stored = prefix + b.slice(4);
      assert.deepEqual(one({ passwordHash: stored }).problems, [], prefix);
      assert.equal(await hasher.verify(stored, KEYCLOAK_PASSWORD), true, prefix);
    }
    const salt = randomBytes(16);
    for (const [algorithm, digest] of [
      ['pbkdf2', 'sha1'],
      ['pbkdf2-sha512', 'sha512'],
    ] as const) {
      const value = pbkdf2Sync(KEYCLOAK_PASSWORD, salt, 30000, 64, digest);
      const { records, problems } = one({
        keycloakCredential: keycloakCredential(value, salt, { hashIterations: 30000, algorithm }),
      });
      assert.deepEqual(problems, [], algorithm);
      assert.equal(await hasher.verify(records[0]!.passwordHash!, KEYCLOAK_PASSWORD), true, algorithm);
    }
    for (const [type, algorithm, version] of [
      ['i', 1, '1.3'],
      ['d', 0, '1.3'],
      ['id', 2, '1.0'],
    ] as const) {
      const value = hashRawSync(KEYCLOAK_PASSWORD, {
        algorithm: algorithm as never,
        version: (version === '1.0' ? 0 : 1) as never,
        memoryCost: 4096,
        timeCost: 3,
        parallelism: 1,
        outputLen: 32,
        salt,
      });
      const { records, problems } = one({
        keycloakCredential: keycloakCredential(value, salt, {
          hashIterations: 3,
          algorithm: 'argon2',
          additionalParameters: {
            hashLength: ['32'],
            memory: ['4096'],
            type: [type],
            version: [version],
            parallelism: ['1'],
          },
        }),
      });
      assert.deepEqual(problems, [], `${type} ${version}`);
      assert.equal(
        await hasher.verify(records[0]!.passwordHash!, KEYCLOAK_PASSWORD),
        true,
        `${type} ${version}`,
      );
    }
  });

  test('a byte-order mark and an unrecorded emailVerified (null) are read as meant', () => {
    const { records, problems } = parseImport(
      `\uFEFF${JSON.stringify({ email: 'bom@example.com', emailVerified: null })}\r\n`,
    );
    assert.deepEqual(problems, []);
    assert.equal(records[0]!.emailVerified, false);
  });
});

describe('gatehouse users import', () => {
  let cli: CliWorkspace;
  let server: TestServer;
  const passwords = { enabled: true };

  async function signIn(email: string, password: string) {
    return new TestClient(server.url).post('/api/v1/password/sign-in', { email, password });
  }

  async function importFile(lines: unknown[], ...flags: string[]) {
    const file = join(cli.dataDir, `import-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(
      file,
      lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n'),
    );
    return cli.run(['users', 'import', '--file', file, ...flags]);
  }

  before(async () => {
    cli = cliWorkspace('gatehouse-import-', { passwords }, SECRET);
    server = await startGatehouse({ dataDir: cli.dataDir, secret: SECRET, passwords });
    // An account that exists before the import: it must come out untouched.
    await signInWithEmail(server, new TestClient(server.url), 'existing@example.com');
  });
  after(async () => {
    await server.close();
    cli.close();
  });

  test('a file with a bad line imports nothing; --dry-run imports nothing', async () => {
    const bad = await importFile([
      { email: 'first@example.com' },
      { email: 'second@example.com', role: 'admin' },
    ]);
    assert.equal(bad.status, 1);
    assert.match(JSON.parse(bad.stdout).problems[0].message, /role/);
    const dry = await importFile(
      [{ email: 'first@example.com' }, { email: 'existing@example.com' }],
      '--dry-run',
    );
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout), {
      dryRun: true,
      imported: 1,
      withPassword: 0,
      existing: [{ line: 2, email: 'existing@example.com' }],
    });
    const unreadable = await cli.run(['users', 'import', '--file', join(cli.dataDir, 'no-such-file.jsonl')]);
    assert.equal(unreadable.status, 2);
    assert.match(unreadable.stderr, /cannot read/);
    assert.equal(await server.services.stores.users.findByEmail('first@example.com'), undefined);
  });

  test('imported passwords sign in, and are replaced by argon2id at the first sign-in', async () => {
    const auth0 = bcryptHashSync(AUTH0_PASSWORD, 10);
    const argon2i = await argon2Hash(ARGON2I_PASSWORD, {
      algorithm: 1 as never,
      memoryCost: 4096,
      timeCost: 3,
      parallelism: 1,
    });
    const erinSalt = randomBytes(16);
    const keycloakErin = keycloakCredential(
      pbkdf2Sync(KEYCLOAK_PASSWORD, erinSalt, 27500, 64, 'sha256'),
      erinSalt,
      {
        hashIterations: 27500,
        algorithm: 'pbkdf2-sha256',
      },
    );
    const importStarted = Date.now();
    const result = await importFile([
      { email: 'alice@example.com', emailVerified: true, displayName: 'Alice', passwordHash: auth0 },
      { email: 'bob@example.com', emailVerified: true, passwordHash: argon2i },
      { email: 'carol@example.com', emailVerified: false, passwordHash: auth0 },
      { email: 'dave@example.com', emailVerified: true },
      { email: 'existing@example.com', emailVerified: true, passwordHash: auth0 },
      { email: 'erin@example.com', emailVerified: true, keycloakCredential: keycloakErin },
    ]);
    assert.equal(result.status, 0, result.stderr);
    const outcome = JSON.parse(result.stdout);
    assert.equal(outcome.imported, 5);
    assert.equal(outcome.withPassword, 4);
    assert.deepEqual(outcome.existing, [{ line: 5, email: 'existing@example.com' }]);
    // No mail to anyone imported (they were already customers; the next sign-in may notice a new
    // device). Whatever the CLI queued would still be in the outbox or already delivered.
    const queued = await server.services.database.db
      .selectFrom('mail_outbox')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('created_at', '>=', importStarted)
      .executeTakeFirstOrThrow();
    assert.equal(Number(queued.count), 0);
    for (const to of ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'])
      assert.deepEqual(await server.services.stores.devMailbox.list({ to, limit: 5 }), [], to);

    const { users, passwords: stored } = server.services.stores;
    const alice = (await users.findByEmail('alice@example.com'))!;
    assert.equal(alice.displayName, 'Alice');
    assert.equal(await stored.find(alice.id), auth0);

    assert.equal((await signIn('alice@example.com', 'a wrong password entirely')).status, 401);
    assert.equal(await stored.find(alice.id), auth0, 'a failed sign-in changes nothing');
    const signedIn = await signIn('alice@example.com', AUTH0_PASSWORD);
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.deepEqual(signedIn.body.session.amr, ['pwd']);
    const replaced = (await stored.find(alice.id))!;
    assert.ok(replaced.startsWith('$argon2id$'), replaced);
    assert.equal(new PasswordHasher(server.services.config.passwords.argon2).needsRehash(replaced), false);
    assert.equal((await signIn('alice@example.com', AUTH0_PASSWORD)).status, 200, 'and goes on working');

    const bob = (await users.findByEmail('bob@example.com'))!;
    assert.equal((await signIn('bob@example.com', ARGON2I_PASSWORD)).status, 200);
    assert.ok((await stored.find(bob.id))!.startsWith('$argon2id$'));

    const erin = (await users.findByEmail('erin@example.com'))!;
    assert.equal((await signIn('erin@example.com', KEYCLOAK_PASSWORD)).status, 200);
    assert.ok((await stored.find(erin.id))!.startsWith('$argon2id$'));

    // An address the old system never proved cannot be opened by the password it brought.
    assert.equal((await signIn('carol@example.com', AUTH0_PASSWORD)).status, 401);
    // No password: the account is there for email and passkeys.
    const dave = (await users.findByEmail('dave@example.com'))!;
    assert.equal(await stored.find(dave.id), undefined);
    assert.notEqual(dave.emailVerifiedAt, null);
    // The account that existed keeps no password it did not have.
    const existing = (await users.findByEmail('existing@example.com'))!;
    assert.equal(await stored.find(existing.id), undefined);

    const events = await server.services.stores.audit.list({ type: 'user.imported', limit: 10 });
    assert.equal(events.length, 5);
    const aliceEvent = events.find((event) => event.userId === alice.id)!;
    assert.deepEqual(aliceEvent.details, { emailVerified: true, hashKind: 'bcrypt' });
    const rehashed = await server.services.stores.audit.list({
      type: 'password.rehashed',
      userId: alice.id,
      limit: 5,
    });
    assert.equal(rehashed.length, 1);
  });
  test('an account and its password are written together: a failure in between leaves neither', async () => {
    const { database, stores } = server.services;
    // The server's own connection (SQLite): a temporary trigger makes the password insert fail.
    await sql`create temp trigger refuse_password before insert on password_credentials begin select raise(abort, 'injected'); end`.execute(
      database.db,
    );
    try {
      const now = Date.now();
      const user = {
        id: 'usr_half_written',
        email: 'half@example.com',
        emailVerifiedAt: now,
        displayName: null,
        createdAt: now,
        updatedAt: now,
        disabledAt: null,
      };
      await assert.rejects(stores.users.createWithPassword(user, bcryptHashSync('pw', 4)), /injected/);
      assert.equal(await stores.users.findByEmail('half@example.com'), undefined);
    } finally {
      await sql`drop trigger refuse_password`.execute(database.db);
    }
  });
});
