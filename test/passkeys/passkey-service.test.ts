/**
 * PasskeyService against a real migrated SQLite database and the soft authenticator: the
 * ceremonies end to end in the domain, and every refusal the brief lists. Each refusal asserts
 * the one generic public error AND the audited reason, so a check that silently stops firing
 * (or fires for the wrong reason) fails here.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { AuditRecorder } from '../../src/domain/audit/audit-recorder.ts';
import { userHandleFor } from '../../src/domain/passkeys/ceremony.ts';
import { PasskeyService } from '../../src/domain/passkeys/passkey-service.ts';
import type { RequestContext } from '../../src/domain/request-context.ts';
import { UserService } from '../../src/domain/users/user-service.ts';
import { AppError } from '../../src/errors/app-error.ts';
import type { AuditEvent } from '../../src/ports/audit-log.ts';
import type { PasskeyRecord } from '../../src/ports/passkey-store.ts';
import type { UserRecord } from '../../src/ports/user-store.ts';
import { migrateToLatest, openDatabase, type SqlDatabase } from '../../src/storage/sql/open-database.ts';
import { createSqlStores, type Stores } from '../../src/storage/sql/stores.ts';
import { SoftAuthenticator, type SoftAuthenticatorOptions } from '../support/soft-authenticator.ts';

const ORIGIN = 'https://auth.example.test';
const T0 = 1_750_000_000_000;
const CONTEXT: RequestContext = { ip: '203.0.113.9', userAgent: 'passkey-service.test', requestId: 'req-1' };

interface Harness {
  database: SqlDatabase;
  stores: Stores;
  users: UserService;
  passkeys: PasskeyService;
  config: Config;
  clock: { now(): number; advance(ms: number): void };
}

async function harness(overrides: Record<string, unknown> = {}): Promise<Harness> {
  const database = openDatabase({ sqlitePath: ':memory:' });
  await migrateToLatest(database);
  const stores = createSqlStores(database);
  let now = T0;
  const clock = {
    now: () => now,
    advance: (ms: number): void => {
      now += ms;
    },
  };
  const config = loadConfig({}, { env: 'test', origin: ORIGIN, secret: 'x'.repeat(32), ...overrides });
  const users = new UserService(stores.users, stores.passkeys, clock);
  const audit = new AuditRecorder(stores.audit, clock, (error) => {
    throw error;
  });
  const passkeys = new PasskeyService({
    passkeys: stores.passkeys,
    challenges: stores.challenges,
    users,
    config,
    clock,
    audit,
  });
  return { database, stores, users, passkeys, config, clock };
}

describe('PasskeyService', () => {
  let h: Harness;
  let ada: UserRecord;
  let bob: UserRecord;

  beforeEach(async () => {
    h = await harness();
    ada = (await h.users.signInByVerifiedEmail('ada@example.test')).user;
    bob = (await h.users.signInByVerifiedEmail('bob@example.test')).user;
  });

  afterEach(async () => {
    await h.database.close();
  });

  const device = (options: Partial<SoftAuthenticatorOptions> = {}): SoftAuthenticator =>
    new SoftAuthenticator({ origin: ORIGIN, ...options });

  async function register(
    user: UserRecord,
    authenticator: SoftAuthenticator,
    name?: string,
  ): Promise<PasskeyRecord> {
    const options = await h.passkeys.registrationOptions(user);
    return h.passkeys.verifyRegistration(user, await authenticator.register(options), name, CONTEXT);
  }

  async function events(type: string): Promise<AuditEvent[]> {
    return h.stores.audit.list({ type, limit: 100 });
  }

  /** The one public failure, and the reason in the newest audit event of `auditType`. */
  async function refused(
    attempt: Promise<unknown>,
    reason: string,
    auditType: 'sign_in.passkey' | 'passkey.registration_failed' = 'sign_in.passkey',
  ): Promise<void> {
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof AppError, String(error));
      assert.equal(error.code, 'passkey_verification_failed');
      assert.equal(error.status, 400);
      assert.equal(error.message, 'The passkey could not be verified. Please try again.');
      assert.equal(error.detail?.split(':')[0], reason, `detail: ${error.detail}`);
      return true;
    });
    const [latest] = await events(auditType); // newest first
    assert.equal(latest?.outcome, 'failure');
    assert.equal(latest?.details.reason, reason);
    assert.equal(latest?.ip, CONTEXT.ip);
  }

  async function signIn(authenticator: SoftAuthenticator, overrides = {}) {
    const options = await h.passkeys.authenticationOptions();
    return h.passkeys.verifyAuthentication(await authenticator.authenticate(options, overrides), CONTEXT);
  }

  describe('registration', () => {
    it('offers creation options for a discoverable, user-verified credential and stores the challenge', async () => {
      const options = await h.passkeys.registrationOptions(ada);
      assert.equal(options.rp.id, 'auth.example.test');
      assert.equal(options.rp.name, 'Gatehouse');
      assert.equal(options.user.name, 'ada@example.test');
      assert.equal(options.user.id, userHandleFor(ada.id));
      assert.notEqual(options.user.id, userHandleFor(bob.id));
      assert.deepEqual(
        options.pubKeyCredParams.map((p) => p.alg),
        [-8, -7, -257, -35, -36],
      );
      assert.equal(options.attestation, 'none');
      assert.equal(options.authenticatorSelection?.residentKey, 'required');
      assert.equal(options.authenticatorSelection?.userVerification, 'required');
      assert.deepEqual(options.excludeCredentials, []);
      assert.ok(options.challenge.length >= 43, 'at least 256 bits of challenge');
      const stored = await h.stores.challenges.consume(options.challenge, 'registration', T0);
      assert.deepEqual(stored, {
        challenge: options.challenge,
        purpose: 'registration',
        userId: ada.id,
        expiresAt: T0 + h.config.passkeys.challengeTtlMs,
      });
    });

    it('verifies an attestation and stores the passkey with a default or chosen name', async () => {
      const phone = device({ transports: ['internal', 'hybrid', 'bogus'] });
      const passkey = await register(ada, phone);
      const [credential] = phone.credentials;
      assert.equal(passkey.userId, ada.id);
      assert.equal(passkey.credentialId, credential?.id);
      assert.equal(passkey.publicKey, Buffer.from(credential?.publicKey ?? []).toString('base64url'));
      assert.equal(passkey.counter, 0);
      assert.deepEqual(passkey.transports, ['internal', 'hybrid']);
      assert.equal(passkey.deviceType, 'multiDevice');
      assert.equal(passkey.backedUp, true);
      assert.equal(passkey.aaguid, '00000000-0000-0000-0000-000000000000');
      assert.equal(passkey.name, 'Passkey (2025-06-15)');
      assert.deepEqual(await h.stores.passkeys.findByCredentialId(passkey.credentialId), passkey);

      const key = await register(ada, device({ backupEligible: false, backedUp: false }), '  YubiKey 5  ');
      assert.equal(key.name, 'YubiKey 5');
      assert.equal(key.deviceType, 'singleDevice');
      assert.equal(key.backedUp, false);

      const added = await events('passkey.added');
      assert.equal(added.length, 2);
      assert.ok(added.every((e) => e.userId === ada.id && e.outcome === 'success'));
    });

    it('excludes the passkeys the user already has', async () => {
      const phone = device();
      const passkey = await register(ada, phone);
      const options = await h.passkeys.registrationOptions(ada);
      assert.deepEqual(options.excludeCredentials, [
        { id: passkey.credentialId, transports: passkey.transports, type: 'public-key' },
      ]);
      await assert.rejects(phone.register(options), /InvalidStateError/);
    });

    it('refuses a replayed registration', async () => {
      const options = await h.passkeys.registrationOptions(ada);
      const response = await device().register(options);
      await h.passkeys.verifyRegistration(ada, response, undefined, CONTEXT);
      await refused(
        h.passkeys.verifyRegistration(ada, response, undefined, CONTEXT),
        'challenge_not_found',
        'passkey.registration_failed',
      );
    });

    it('refuses an expired registration challenge', async () => {
      const options = await h.passkeys.registrationOptions(ada);
      const response = await device().register(options);
      h.clock.advance(h.config.passkeys.challengeTtlMs);
      await refused(
        h.passkeys.verifyRegistration(ada, response, undefined, CONTEXT),
        'challenge_not_found',
        'passkey.registration_failed',
      );
      assert.equal(await h.stores.passkeys.countByUser(ada.id), 0);
    });

    it('refuses a challenge issued to another user, and burns it', async () => {
      const options = await h.passkeys.registrationOptions(ada);
      const response = await device().register(options);
      await refused(
        h.passkeys.verifyRegistration(bob, response, undefined, CONTEXT),
        'challenge_user_mismatch',
        'passkey.registration_failed',
      );
      await refused(
        h.passkeys.verifyRegistration(ada, response, undefined, CONTEXT),
        'challenge_not_found',
        'passkey.registration_failed',
      );
    });

    it('refuses a credential id that is already registered, to anyone', async () => {
      const credentialId = new Uint8Array(32).fill(7);
      await register(ada, device(), undefined);
      const first = await h.passkeys.registrationOptions(bob);
      await h.passkeys.verifyRegistration(
        bob,
        await device().register(first, { credentialId }),
        undefined,
        CONTEXT,
      );
      const second = await h.passkeys.registrationOptions(ada);
      await refused(
        h.passkeys.verifyRegistration(
          ada,
          await device().register(second, { credentialId }),
          undefined,
          CONTEXT,
        ),
        'credential_already_registered',
        'passkey.registration_failed',
      );
      const owner = await h.stores.passkeys.findByCredentialId(
        Buffer.from(credentialId).toString('base64url'),
      );
      assert.equal(owner?.userId, bob.id);
    });

    const hostile: Array<[string, Parameters<SoftAuthenticator['register']>[1], string]> = [
      ['crossOrigin: true', { crossOrigin: true }, 'cross_origin'],
      ['a topOrigin', { crossOrigin: true, topOrigin: 'https://evil.example' }, 'cross_origin'],
      ['another origin', { origin: 'https://evil.example' }, 'origin_mismatch'],
      ['a sibling origin', { origin: 'https://auth.example.test:8443' }, 'origin_mismatch'],
      ['another RP ID', { rpIdForHash: 'evil.example' }, 'rp_id_mismatch'],
      ['id ≠ rawId', { id: 'AAAA' }, 'credential_id_mismatch'],
      ['webauthn.get as the type', { type: 'webauthn.get' }, 'wrong_ceremony_type'],
      ['no user verification (required by config)', { userVerified: false }, 'user_not_verified'],
      ['no user presence', { userPresent: false }, 'user_not_present'],
      ['BS without BE', { backupEligible: false, backedUp: true }, 'rejected'],
      [
        'a credential id over 1023 bytes',
        { credentialId: new Uint8Array(1024).fill(1) },
        'credential_id_too_long',
      ],
    ];
    for (const [what, overrides, reason] of hostile) {
      it(`refuses an attestation with ${what}`, async () => {
        const options = await h.passkeys.registrationOptions(ada);
        const response = await device().register(options, overrides);
        await refused(
          h.passkeys.verifyRegistration(ada, response, undefined, CONTEXT),
          reason,
          'passkey.registration_failed',
        );
        assert.equal(await h.stores.passkeys.countByUser(ada.id), 0);
      });
    }

    it('stores the attested credential id, not the one the client reported beside it', async () => {
      const phone = device();
      const options = await h.passkeys.registrationOptions(ada);
      const response = await phone.register(options, { id: 'AAAA', rawId: 'AAAA' });
      const passkey = await h.passkeys.verifyRegistration(ada, response, undefined, CONTEXT);
      assert.equal(passkey.credentialId, phone.credentials[0]?.id);
      assert.equal(await h.stores.passkeys.findByCredentialId('AAAA'), undefined);
    });

    it('refuses a challenge it never issued', async () => {
      const options = await h.passkeys.registrationOptions(ada);
      const response = await device().register(options, { challenge: 'bm90LWlzc3VlZC1ieS11cw' });
      await refused(
        h.passkeys.verifyRegistration(ada, response, undefined, CONTEXT),
        'challenge_not_found',
        'passkey.registration_failed',
      );
    });

    it('refuses a bad name before touching the challenge', async () => {
      const options = await h.passkeys.registrationOptions(ada);
      const response = await device().register(options);
      for (const name of ['', '   ', 'x'.repeat(65), 'line\nbreak', 'evil\u202Egnp.exe']) {
        await assert.rejects(h.passkeys.verifyRegistration(ada, response, name, CONTEXT), {
          code: 'validation_failed',
        });
      }
      const passkey = await h.passkeys.verifyRegistration(ada, response, '🔑'.repeat(64), CONTEXT);
      assert.equal(passkey.name, '🔑'.repeat(64));
    });
  });

  describe('sign-in', () => {
    it('offers request options for discoverable credentials and stores the challenge', async () => {
      const options = await h.passkeys.authenticationOptions();
      assert.equal(options.rpId, 'auth.example.test');
      assert.deepEqual(options.allowCredentials ?? [], []);
      assert.equal(options.userVerification, 'required');
      const stored = await h.stores.challenges.consume(options.challenge, 'authentication', T0);
      assert.equal(stored?.userId, null);
      assert.equal(stored?.expiresAt, T0 + h.config.passkeys.challengeTtlMs);
    });

    for (const algorithm of ['ES256', 'Ed25519'] as const) {
      it(`registers and signs in with ${algorithm}`, async () => {
        const phone = device({ algorithm });
        const passkey = await register(ada, phone);
        h.clock.advance(1000);
        const result = await signIn(phone);
        assert.equal(result.user.id, ada.id);
        assert.equal(result.passkey.id, passkey.id);
        assert.deepEqual(result.amr, ['pop', 'user', 'mfa']);
        const stored = await h.stores.passkeys.findByCredentialId(passkey.credentialId);
        assert.equal(stored?.counter, 1);
        assert.equal(stored?.lastUsedAt, T0 + 1000);
        const [success] = (await events('sign_in.passkey')).filter((e) => e.outcome === 'success');
        assert.equal(success?.userId, ada.id);
        assert.equal(success?.details.passkeyId, passkey.id);
      });
    }

    it('claims only possession ("pop") without user verification, when config allows it', async () => {
      await h.database.close();
      h = await harness({ passkeys: { userVerification: 'preferred' } });
      ada = (await h.users.signInByVerifiedEmail('ada@example.test')).user;
      const key = device({ userVerification: false });
      await register(ada, key);
      assert.deepEqual((await signIn(key)).amr, ['pop']);
      assert.deepEqual((await signIn(key, { userVerified: true })).amr, ['pop', 'user', 'mfa']);
    });

    it('refuses an assertion without user verification when it is required', async () => {
      const phone = device();
      await register(ada, phone);
      await refused(signIn(phone, { userVerified: false }), 'user_not_verified');
    });

    it('refuses a replayed assertion', async () => {
      const phone = device();
      await register(ada, phone);
      const options = await h.passkeys.authenticationOptions();
      const response = await phone.authenticate(options);
      await h.passkeys.verifyAuthentication(response, CONTEXT);
      await refused(h.passkeys.verifyAuthentication(response, CONTEXT), 'challenge_not_found');
    });

    it('refuses an expired challenge', async () => {
      const phone = device();
      await register(ada, phone);
      const options = await h.passkeys.authenticationOptions();
      const response = await phone.authenticate(options);
      h.clock.advance(h.config.passkeys.challengeTtlMs);
      await refused(h.passkeys.verifyAuthentication(response, CONTEXT), 'challenge_not_found');
    });

    it('accepts a challenge just before it expires', async () => {
      const phone = device();
      await register(ada, phone);
      const options = await h.passkeys.authenticationOptions();
      const response = await phone.authenticate(options);
      h.clock.advance(h.config.passkeys.challengeTtlMs - 1);
      assert.equal((await h.passkeys.verifyAuthentication(response, CONTEXT)).user.id, ada.id);
    });

    it('refuses a registration challenge used for sign-in', async () => {
      const phone = device();
      await register(ada, phone);
      const registrationOptions = await h.passkeys.registrationOptions(ada);
      const requestOptions = await h.passkeys.authenticationOptions();
      const response = await phone.authenticate(requestOptions, { challenge: registrationOptions.challenge });
      await refused(h.passkeys.verifyAuthentication(response, CONTEXT), 'challenge_not_found');
    });

    it("refuses another user's credential presented under someone else's user handle", async () => {
      const adasPhone = device();
      const bobsKey = device();
      await register(ada, adasPhone);
      const bobsPasskey = await register(bob, bobsKey);
      await refused(signIn(bobsKey, { userHandle: userHandleFor(ada.id) }), 'user_handle_mismatch');
      await refused(signIn(bobsKey, { userHandle: null }), 'user_handle_mismatch');
      const [failure] = (await events('sign_in.passkey')).filter((e) => e.outcome === 'failure');
      assert.equal(failure?.userId, bob.id);
      assert.equal(failure?.details.passkeyId, bobsPasskey.id);
      // And the genuine owner still signs in.
      assert.equal((await signIn(bobsKey)).user.id, bob.id);
    });

    it('refuses an unknown credential', async () => {
      const stranger = device();
      const options = await h.passkeys.registrationOptions(ada);
      await stranger.register(options); // never sent to the server
      await refused(signIn(stranger), 'unknown_credential');
    });

    it('refuses a counter that does not move forward, and audits the regression', async () => {
      const phone = device();
      const passkey = await register(ada, phone);
      for (let i = 0; i < 5; i++) await signIn(phone);
      const clone = device();
      phone.cloneInto(clone, passkey.credentialId);
      clone.setCounter(passkey.credentialId, 2); // next assertion reports 3, stored is 5
      await refused(signIn(clone), 'counter_regression');
      await refused(signIn(clone, { counter: 5 }), 'counter_regression');
      const regressions = await events('passkey.counter_regression');
      assert.equal(regressions.length, 2);
      assert.equal(regressions[0]?.userId, ada.id);
      assert.equal(regressions[0]?.details.passkeyId, passkey.id);
      assert.equal((await h.stores.passkeys.findByCredentialId(passkey.credentialId))?.counter, 5);
      // The genuine authenticator carries on.
      assert.equal((await signIn(phone)).user.id, ada.id);
    });

    it('lets exactly one of two racing assertions with the same counter through', async () => {
      const phone = device();
      const passkey = await register(ada, phone);
      const [first, second] = [
        await h.passkeys.authenticationOptions(),
        await h.passkeys.authenticationOptions(),
      ];
      const a = await phone.authenticate(first, { counter: 1 });
      const b = await phone.authenticate(second, { counter: 1 });
      const results = await Promise.allSettled([
        h.passkeys.verifyAuthentication(a, CONTEXT),
        h.passkeys.verifyAuthentication(b, CONTEXT),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.equal((await events('passkey.counter_regression'))[0]?.details.passkeyId, passkey.id);
    });

    it('accepts an authenticator that does not count (always 0)', async () => {
      const key = device({ counterStep: 0 });
      await register(ada, key);
      await signIn(key);
      await signIn(key);
      assert.equal((await events('passkey.counter_regression')).length, 0);
    });

    it('refuses an unsigned forgery without raising a counter alarm', async () => {
      const phone = device();
      const passkey = await register(ada, phone);
      await signIn(phone);
      await signIn(phone);
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      await refused(signIn(phone, { counter: 1, signWith: other }), 'bad_signature');
      assert.equal((await events('passkey.counter_regression')).length, 0);
      await refused(signIn(phone, { corruptSignature: true }), 'bad_signature');
      assert.equal((await h.stores.passkeys.findByCredentialId(passkey.credentialId))?.counter, 2);
    });

    const hostile: Array<[string, Parameters<SoftAuthenticator['authenticate']>[1], string]> = [
      ['crossOrigin: true', { crossOrigin: true }, 'cross_origin'],
      ['a topOrigin', { crossOrigin: true, topOrigin: 'https://evil.example' }, 'cross_origin'],
      ['another origin', { origin: 'https://evil.example' }, 'origin_mismatch'],
      ['an http origin', { origin: 'http://auth.example.test' }, 'origin_mismatch'],
      ['another RP ID', { rpIdForHash: 'example.test' }, 'rp_id_mismatch'],
      ['webauthn.create as the type', { type: 'webauthn.create' }, 'wrong_ceremony_type'],
      ['no user presence', { userPresent: false }, 'user_not_present'],
      [
        'a changed backup eligibility',
        { backupEligible: false, backedUp: false },
        'backup_eligibility_changed',
      ],
    ];
    for (const [what, overrides, reason] of hostile) {
      it(`refuses an assertion with ${what}`, async () => {
        const phone = device();
        const passkey = await register(ada, phone);
        await refused(signIn(phone, overrides), reason);
        assert.equal((await h.stores.passkeys.findByCredentialId(passkey.credentialId))?.lastUsedAt, null);
      });
    }

    it('refuses id ≠ rawId, whichever of the two names a known credential', async () => {
      const phone = device();
      const passkey = await register(ada, phone);
      await refused(signIn(phone, { id: 'AAAA' }), 'credential_id_mismatch');
      await refused(signIn(phone, { rawId: 'AAAA' }), 'credential_id_mismatch');
      await refused(signIn(phone, { id: passkey.credentialId, rawId: 'AAAA' }), 'credential_id_mismatch');
    });

    it('gives every failure the same public answer', async () => {
      const phone = device();
      await register(ada, phone);
      const messages = new Set<string>();
      for (const overrides of [
        { origin: 'https://evil.example' },
        { userHandle: 'eA' },
        { corruptSignature: true },
      ]) {
        await signIn(phone, overrides).catch((error: AppError) =>
          messages.add(`${error.code}|${error.message}`),
        );
      }
      assert.equal(messages.size, 1);
    });
  });

  describe('list, rename, remove', () => {
    it("lists only the owner's passkeys", async () => {
      const a1 = await register(ada, device(), 'Phone');
      const a2 = await register(ada, device(), 'Laptop');
      await register(bob, device());
      const listed = await h.passkeys.list(ada);
      assert.deepEqual(listed.map((p) => p.id).sort(), [a1.id, a2.id].sort());
    });

    it("renames the owner's passkey, trimmed and audited", async () => {
      const passkey = await register(ada, device());
      const renamed = await h.passkeys.rename(ada, passkey.id, '  Work laptop ', CONTEXT);
      assert.equal(renamed.name, 'Work laptop');
      assert.equal((await h.stores.passkeys.findByCredentialId(passkey.credentialId))?.name, 'Work laptop');
      assert.equal((await events('passkey.renamed'))[0]?.details.passkeyId, passkey.id);
      await assert.rejects(h.passkeys.rename(ada, passkey.id, ' ', CONTEXT), { code: 'validation_failed' });
      await assert.rejects(h.passkeys.rename(ada, passkey.id, 'a\u0007b', CONTEXT), {
        code: 'validation_failed',
      });
    });

    it("refuses to rename or remove someone else's passkey", async () => {
      const bobs = await register(bob, device(), 'Bob key');
      await register(ada, device());
      await assert.rejects(h.passkeys.rename(ada, bobs.id, 'Mine now', CONTEXT), {
        code: 'not_found',
        status: 404,
      });
      await assert.rejects(h.passkeys.remove(ada, bobs.id, CONTEXT), { code: 'not_found', status: 404 });
      await assert.rejects(h.passkeys.remove(ada, 'no-such-id', CONTEXT), { code: 'not_found' });
      assert.deepEqual(await h.stores.passkeys.findByCredentialId(bobs.credentialId), bobs);
    });

    it('removes a passkey when another way to sign in remains, and audits it', async () => {
      const passkey = await register(ada, device()); // plus a verified email address
      await h.passkeys.remove(ada, passkey.id, CONTEXT);
      assert.equal(await h.stores.passkeys.countByUser(ada.id), 0);
      assert.equal((await events('passkey.removed'))[0]?.details.passkeyId, passkey.id);
    });

    it('refuses to remove the last sign-in method', async () => {
      const carol: UserRecord = {
        id: 'usr_carol',
        email: 'carol@example.test',
        emailVerifiedAt: null, // never proved the address: passkeys are all she has
        displayName: null,
        createdAt: T0,
        updatedAt: T0,
        disabledAt: null,
      };
      await h.stores.users.createOrGet(carol);
      const first = await register(carol, device());
      const second = await register(carol, device());
      await h.passkeys.remove(carol, first.id, CONTEXT);
      await assert.rejects(h.passkeys.remove(carol, second.id, CONTEXT), {
        code: 'last_sign_in_method',
        status: 409,
      });
      assert.equal(await h.stores.passkeys.countByUser(carol.id), 1);
    });

    it('never lets two racing removals take the last two passkeys', async () => {
      const carol: UserRecord = {
        id: 'usr_carol',
        email: 'carol@example.test',
        emailVerifiedAt: null,
        displayName: null,
        createdAt: T0,
        updatedAt: T0,
        disabledAt: null,
      };
      await h.stores.users.createOrGet(carol);
      const first = await register(carol, device());
      const second = await register(carol, device());
      await Promise.allSettled([
        h.passkeys.remove(carol, first.id, CONTEXT),
        h.passkeys.remove(carol, second.id, CONTEXT),
      ]);
      assert.ok((await h.stores.passkeys.countByUser(carol.id)) >= 1);
    });
  });
});
