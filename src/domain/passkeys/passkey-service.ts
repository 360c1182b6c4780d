import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Config } from '../../config/schema.ts';
import { hasUnsafeCharacters } from '../text.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  ChallengePurpose,
  ChallengeStore,
  PasskeyRecord,
  PasskeyStore,
} from '../../ports/passkey-store.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { randomId } from '../crypto/secrets.ts';
import { passkeyAmr } from '../mfa/factor-policy.ts';
import type { RequestContext } from '../request-context.ts';
import type { UserService } from '../users/user-service.ts';
import {
  CeremonyFailure,
  type CeremonyFailureReason,
  challengeOf,
  type RelyingPartyExpectation,
  SUPPORTED_ALGORITHM_IDS,
  userHandleBytes,
  userHandleFor,
  verifyAuthenticationCeremony,
  verifyRegistrationCeremony,
} from './ceremony.ts';

export interface PasskeyServiceDeps {
  passkeys: PasskeyStore;
  challenges: ChallengeStore;
  users: UserService;
  config: Config;
  clock: Clock;
  audit: AuditRecorder;
}

/** Failures the service itself detects, on top of the ceremony's own. */
export type PasskeyFailureReason =
  | CeremonyFailureReason
  | 'challenge_not_found'
  | 'challenge_user_mismatch'
  | 'unknown_credential'
  | 'credential_already_registered';

export interface PasskeySignIn {
  user: UserRecord;
  passkey: PasskeyRecord;
  /** RFC 8176 authentication method references for the session. */
  amr: string[];
}

export const PASSKEY_NAME_MAX = 64;

/**
 * One answer for every verification failure: which check failed (unknown credential, wrong
 * user, bad signature, replayed challenge) would help an attacker probe, so the reason goes only
 * to the audit log and the server log (DESIGN §2 principle 6).
 */
function verificationFailed(reason: PasskeyFailureReason, detail?: string): AppError {
  return new AppError('passkey_verification_failed', 'The passkey could not be verified. Please try again.', {
    detail: detail ? `${reason}: ${detail}` : reason,
  });
}

/**
 * A display name for a passkey: trimmed, 1–64 characters (code points), no control characters
 * and no bidirectional overrides (they would let a name fake other lines or reorder text in the
 * account page and in logs).
 */
export function normalizePasskeyName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || [...trimmed].length > PASSKEY_NAME_MAX || hasUnsafeCharacters(trimmed)) {
    throw new AppError('validation_failed', `A passkey name is 1 to ${PASSKEY_NAME_MAX} characters.`, {
      extra: {
        issues: [{ path: 'name', message: `1 to ${PASSKEY_NAME_MAX} characters, no control characters` }],
      },
    });
  }
  return trimmed;
}

/**
 * Passkeys (WebAuthn): registration for a signed-in user, discoverable sign-in, and the
 * credential lifecycle. Transport-free: the HTTP layer turns the results into sessions.
 */
export class PasskeyService {
  readonly deps: PasskeyServiceDeps;
  readonly #rp: RelyingPartyExpectation;

  constructor(deps: PasskeyServiceDeps) {
    this.deps = deps;
    this.#rp = {
      // The serialized origin, exactly as browsers write it into clientDataJSON.
      origin: new URL(deps.config.origin).origin,
      rpId: deps.config.rpId,
      requireUserVerification: deps.config.passkeys.userVerification === 'required',
    };
  }

  /** Creation options for adding a passkey to `user`; the challenge is stored for one use. */
  async registrationOptions(user: UserRecord): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { config, passkeys } = this.deps;
    const existing = await passkeys.listByUser(user.id);
    const options = await generateRegistrationOptions({
      rpName: config.passkeys.rpName,
      rpID: config.rpId,
      userName: user.email,
      userID: userHandleBytes(user.id),
      userDisplayName: user.displayName ?? user.email,
      timeout: config.passkeys.challengeTtlMs,
      attestationType: 'none',
      // The authenticator refuses to make a second credential for this account where it already
      // holds one, instead of silently replacing it.
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: config.passkeys.userVerification,
      },
      supportedAlgorithmIDs: [...SUPPORTED_ALGORITHM_IDS],
    });
    await this.#storeChallenge(options.challenge, 'registration', user.id);
    return options;
  }

  /**
   * Verifies an attestation for `user` and stores the passkey. The challenge must be one issued
   * to this user for registration; it is consumed whatever the outcome.
   */
  async verifyRegistration(
    user: UserRecord,
    response: RegistrationResponseJSON,
    name: string | undefined,
    context: RequestContext,
  ): Promise<PasskeyRecord> {
    const chosenName = name === undefined ? undefined : normalizePasskeyName(name);
    const fail = async (reason: PasskeyFailureReason, detail?: string): Promise<never> => {
      await this.deps.audit.record(context, {
        type: 'passkey.registration_failed',
        outcome: 'failure',
        userId: user.id,
        details: { reason },
      });
      throw verificationFailed(reason, detail);
    };

    const challenge = challengeOf(response);
    if (challenge === undefined) return fail('malformed_response');
    const issued = await this.deps.challenges.consume(challenge, 'registration', this.deps.clock.now());
    if (!issued) return fail('challenge_not_found');
    if (issued.userId !== user.id) return fail('challenge_user_mismatch');

    let verified: Awaited<ReturnType<typeof verifyRegistrationCeremony>>;
    try {
      verified = await verifyRegistrationCeremony({ response, expectedChallenge: challenge, rp: this.#rp });
    } catch (error) {
      if (error instanceof CeremonyFailure) return fail(error.reason, error.detail);
      throw error;
    }

    // L3 §7.1 step 26: a credential id already registered (to anyone) is refused, so one user
    // cannot claim another's authenticator. The unique index backs this under concurrency.
    if (await this.deps.passkeys.findByCredentialId(verified.credentialId))
      return fail('credential_already_registered');
    const now = this.deps.clock.now();
    const passkey: PasskeyRecord = {
      id: randomId(),
      userId: user.id,
      credentialId: verified.credentialId,
      publicKey: verified.publicKey,
      counter: verified.counter,
      transports: verified.transports,
      deviceType: verified.deviceType,
      backedUp: verified.backedUp,
      aaguid: verified.aaguid,
      name: chosenName ?? defaultPasskeyName(now),
      createdAt: now,
      lastUsedAt: null,
    };
    try {
      await this.deps.passkeys.create(passkey);
    } catch (error) {
      // Lost a race with an identical registration: the unique credential id refused the insert.
      if (await this.deps.passkeys.findByCredentialId(verified.credentialId)) {
        return fail('credential_already_registered');
      }
      throw error;
    }
    await this.deps.audit.record(context, {
      type: 'passkey.added',
      outcome: 'success',
      userId: user.id,
      details: {
        passkeyId: passkey.id,
        aaguid: passkey.aaguid,
        deviceType: passkey.deviceType,
        backedUp: passkey.backedUp,
        userVerified: verified.userVerified,
      },
    });
    return passkey;
  }

  /**
   * Request options for signing in with a discoverable credential: no allowCredentials, so the
   * browser offers whatever passkeys it holds for this RP (also in autofill, conditional UI).
   */
  async authenticationOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { config } = this.deps;
    const options = await generateAuthenticationOptions({
      rpID: config.rpId,
      allowCredentials: [],
      userVerification: config.passkeys.userVerification,
      timeout: config.passkeys.challengeTtlMs,
    });
    await this.#storeChallenge(options.challenge, 'authentication', null);
    return options;
  }

  /**
   * Request options for re-authenticating `user` (step-up): the challenge is bound to the user,
   * so verifyAuthentication admits only their passkeys, and the browser is told which ones.
   */
  async reauthenticationOptions(user: UserRecord): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { config, passkeys } = this.deps;
    const options = await generateAuthenticationOptions({
      rpID: config.rpId,
      allowCredentials: (await passkeys.listByUser(user.id)).map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
      userVerification: config.passkeys.userVerification,
      timeout: config.passkeys.challengeTtlMs,
    });
    await this.#storeChallenge(options.challenge, 'authentication', user.id);
    return options;
  }

  /** Verifies an assertion and returns who signed in. Every outcome is audited. */
  async verifyAuthentication(
    response: AuthenticationResponseJSON,
    context: RequestContext,
  ): Promise<PasskeySignIn> {
    const { audit, challenges, clock, passkeys, users } = this.deps;
    const fail = async (
      reason: PasskeyFailureReason,
      detail?: string,
      known?: { userId: string; passkeyId: string },
    ): Promise<never> => {
      await audit.record(context, {
        type: 'sign_in.passkey',
        outcome: 'failure',
        userId: known?.userId ?? null,
        details: { factor: 'passkey', reason, ...(known ? { passkeyId: known.passkeyId } : {}) },
      });
      throw verificationFailed(reason, detail);
    };

    if (typeof response !== 'object' || response === null || typeof response.id !== 'string') {
      return fail('malformed_response');
    }
    if (response.id !== response.rawId) return fail('credential_id_mismatch', 'id differs from rawId');
    const challenge = challengeOf(response);
    if (challenge === undefined) return fail('malformed_response');
    // Consumed before anything else is looked at: each challenge buys exactly one attempt,
    // whichever check fails, and a replayed assertion dies here.
    const issued = await challenges.consume(challenge, 'authentication', clock.now());
    if (!issued) return fail('challenge_not_found');

    const passkey = await passkeys.findByCredentialId(response.rawId);
    if (!passkey) return fail('unknown_credential');
    const known = { userId: passkey.userId, passkeyId: passkey.id };
    // A challenge bound to a user (a future step-up) only admits that user's passkeys.
    if (issued.userId !== null && issued.userId !== passkey.userId)
      return fail('challenge_user_mismatch', undefined, known);
    const user = await users.findById(passkey.userId);
    if (!user) return fail('unknown_credential', 'owner missing', known);

    let verified: Awaited<ReturnType<typeof verifyAuthenticationCeremony>>;
    try {
      verified = await verifyAuthenticationCeremony({
        response,
        expectedChallenge: challenge,
        rp: this.#rp,
        credential: {
          id: passkey.credentialId,
          publicKey: passkey.publicKey,
          counter: passkey.counter,
          backupEligible: passkey.deviceType === 'multiDevice',
        },
        // Discoverable sign-in: the authenticator names the account (L3 §7.2 step 6); it must be
        // the one that owns this credential.
        expectedUserHandle: userHandleFor(passkey.userId),
      });
    } catch (error) {
      if (!(error instanceof CeremonyFailure)) throw error;
      if (error.reason === 'counter_regression')
        await this.#recordCounterRegression(context, passkey, error.detail);
      return fail(error.reason, error.detail, known);
    }

    // The store compares and sets in one statement, so two assertions carrying the same counter
    // (a replay racing the original) cannot both pass.
    const advanced = await passkeys.advanceCounter(
      passkey.id,
      verified.newCounter,
      clock.now(),
      verified.backedUp,
    );
    if (!advanced) {
      const detail = `counter ${verified.newCounter} not after stored value`;
      await this.#recordCounterRegression(context, passkey, detail);
      return fail('counter_regression', detail, known);
    }

    const amr = passkeyAmr(verified.userVerified);
    await audit.record(context, {
      type: 'sign_in.passkey',
      outcome: 'success',
      userId: user.id,
      details: { factor: 'passkey', passkeyId: passkey.id, userVerified: verified.userVerified, amr },
    });
    return { user, passkey: { ...passkey, counter: verified.newCounter, lastUsedAt: clock.now() }, amr };
  }

  list(user: UserRecord): Promise<PasskeyRecord[]> {
    return this.deps.passkeys.listByUser(user.id);
  }

  async rename(
    user: UserRecord,
    passkeyId: string,
    name: string,
    context: RequestContext,
  ): Promise<PasskeyRecord> {
    const normalized = normalizePasskeyName(name);
    const renamed = await this.deps.passkeys.rename(passkeyId, user.id, normalized);
    // Someone else's passkey and no passkey at all answer the same: ids are not probeable.
    if (!renamed) throw new AppError('not_found', 'No such passkey.');
    await this.deps.audit.record(context, {
      type: 'passkey.renamed',
      outcome: 'success',
      userId: user.id,
      details: { passkeyId },
    });
    return renamed;
  }

  /** Removes one of the user's passkeys, unless it is their last way to sign in. */
  async remove(user: UserRecord, passkeyId: string, context: RequestContext): Promise<void> {
    const { audit, passkeys, users } = this.deps;
    const passkey = (await passkeys.listByUser(user.id)).find((candidate) => candidate.id === passkeyId);
    if (!passkey) throw new AppError('not_found', 'No such passkey.');
    const lastMethod = (): AppError =>
      new AppError(
        'last_sign_in_method',
        'This is your only way to sign in. Add another passkey or verify your email address first.',
      );
    if ((await users.signInMethodCount(user)) <= 1) throw lastMethod();
    if (!(await passkeys.delete(passkey.id, user.id))) throw new AppError('not_found', 'No such passkey.');
    // Two removals racing each other can both pass the count above. The port has no conditional
    // delete, so check again and put the passkey back rather than lock the owner out.
    if ((await users.signInMethodCount(user)) < 1) {
      await passkeys.create(passkey);
      throw lastMethod();
    }
    await audit.record(context, {
      type: 'passkey.removed',
      outcome: 'success',
      userId: user.id,
      details: { passkeyId: passkey.id, aaguid: passkey.aaguid },
    });
  }

  async #storeChallenge(challenge: string, purpose: ChallengePurpose, userId: string | null): Promise<void> {
    await this.deps.challenges.put({
      challenge,
      purpose,
      userId,
      expiresAt: this.deps.clock.now() + this.deps.config.passkeys.challengeTtlMs,
    });
  }

  async #recordCounterRegression(
    context: RequestContext,
    passkey: PasskeyRecord,
    detail?: string,
  ): Promise<void> {
    await this.deps.audit.record(context, {
      type: 'passkey.counter_regression',
      outcome: 'failure',
      userId: passkey.userId,
      details: { passkeyId: passkey.id, storedCounter: passkey.counter, detail: detail ?? null },
    });
  }
}

/** "Passkey (2025-06-15)": no AAGUID registry is consulted, so the date tells passkeys apart. */
function defaultPasskeyName(now: number): string {
  return `Passkey (${new Date(now).toISOString().slice(0, 10)})`;
}
