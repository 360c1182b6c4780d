import { renderSVG } from 'uqr';
import type { Config } from '../../config/schema.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Clock } from '../../ports/clock.ts';
import type { RecoveryCodeStore, TotpStore } from '../../ports/credential-store.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import type { CredentialNotices } from '../account/credential-notices.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { randomId, seal, unseal } from '../crypto/secrets.ts';
import type { RequestContext } from '../request-context.ts';
import {
  newRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeHash,
} from './recovery-codes.ts';
import { matchTotp, newTotpSecret, secretFromBase32, totpUri } from './totp.ts';

export interface MfaServiceDeps {
  totp: TotpStore;
  recoveryCodes: RecoveryCodeStore;
  /** AES-256-GCM key for TOTP secrets at rest (derived from the instance secret). */
  secretKey: Uint8Array;
  notices: CredentialNotices;
  audit: AuditRecorder;
  clock: Clock;
  config: Config;
}

export interface TotpEnrolment {
  /** Base32, for typing into an app by hand. */
  secret: string;
  uri: string;
  /** The URI as a QR code, SVG markup (ours: no user input in it). */
  qrSvg: string;
}

export type SecondFactorInput = { code: string } | { recoveryCode: string };

export interface MfaStatus {
  totp: boolean;
  recoveryCodesLeft: number;
}

const wrongCode = (): AppError =>
  new AppError('invalid_code', 'That code is not right. Check your authenticator app and try again.');

/**
 * Second factors: an authenticator app (TOTP, RFC 6238) and recovery codes. The secret is
 * sealed at rest and each code is accepted once (the store records the last time step used in
 * the same statement that accepts it). Recovery codes are single-use and shown only once.
 */
export class MfaService {
  readonly #deps: MfaServiceDeps;

  constructor(deps: MfaServiceDeps) {
    this.#deps = deps;
  }

  async status(userId: string): Promise<MfaStatus> {
    const totp = await this.#deps.totp.find(userId);
    return {
      totp: totp?.confirmedAt != null,
      recoveryCodesLeft: await this.#deps.recoveryCodes.countUnused(userId),
    };
  }

  /** Starts (or restarts) enrolment with a fresh secret; refused while one is confirmed. */
  async startTotpEnrolment(user: UserRecord, context: RequestContext): Promise<TotpEnrolment> {
    const { totp, secretKey, clock, config, audit } = this.#deps;
    const secret = newTotpSecret();
    const stored = await totp.putPending({
      userId: user.id,
      secretSealed: await seal(secretKey, secret),
      confirmedAt: null,
      lastUsedStep: null,
      createdAt: clock.now(),
    });
    if (!stored) {
      throw new AppError(
        'totp_already_enrolled',
        'An authenticator app is already set up. Remove it first to set up another.',
      );
    }
    await audit.record(context, { type: 'mfa.totp_enrolment_started', outcome: 'success', userId: user.id });
    const uri = totpUri({ secretBase32: secret, issuer: config.appName, account: user.email });
    return { secret, uri, qrSvg: renderSVG(uri, { border: 2 }) };
  }

  /**
   * The first correct code proves the app holds the secret; the authenticator is then on, and
   * the first set of recovery codes is returned (shown once).
   */
  async confirmTotp(user: UserRecord, code: string, context: RequestContext): Promise<string[]> {
    const { totp, secretKey, clock, audit, notices } = this.#deps;
    const pending = await totp.find(user.id);
    if (!pending || pending.confirmedAt !== null) {
      throw new AppError('not_found', 'There is no authenticator set-up to confirm. Start again.');
    }
    const now = clock.now();
    const step = matchTotp(secretFromBase32(await unseal(secretKey, pending.secretSealed)), code, now);
    if (step === null || !(await totp.confirm(user.id, step, now))) {
      await audit.record(context, {
        type: 'mfa.totp_enabled',
        outcome: 'failure',
        userId: user.id,
        details: { reason: 'wrong_code' },
      });
      throw wrongCode();
    }
    const codes = await this.#storeNewRecoveryCodes(user.id);
    await audit.record(context, { type: 'mfa.totp_enabled', outcome: 'success', userId: user.id });
    await notices.send(user, 'totp_enabled', context);
    return codes;
  }

  /** Removes the authenticator and the recovery codes that only make sense beside it. */
  async removeTotp(user: UserRecord, context: RequestContext): Promise<void> {
    const { totp, recoveryCodes, audit, notices } = this.#deps;
    if (!(await totp.delete(user.id))) throw new AppError('not_found', 'No authenticator app is set up.');
    await recoveryCodes.deleteAll(user.id);
    await audit.record(context, { type: 'mfa.totp_removed', outcome: 'success', userId: user.id });
    await notices.send(user, 'totp_removed', context);
  }

  /** A new set of recovery codes (the old set stops working), only beside an authenticator. */
  async regenerateRecoveryCodes(user: UserRecord, context: RequestContext): Promise<string[]> {
    const { audit, notices } = this.#deps;
    if (!(await this.status(user.id)).totp) {
      throw new AppError('conflict', 'Set up an authenticator app first; recovery codes are its backup.');
    }
    const codes = await this.#storeNewRecoveryCodes(user.id);
    await audit.record(context, {
      type: 'mfa.recovery_codes_generated',
      outcome: 'success',
      userId: user.id,
    });
    await notices.send(user, 'recovery_codes_generated', context);
    return codes;
  }

  /**
   * Checks a second factor: an authenticator code (each accepted once) or a recovery code
   * (single use; the owner is mailed). Throws `invalid_code`; returns which kind worked.
   */
  async verifySecondFactor(
    user: UserRecord,
    input: SecondFactorInput,
    context: RequestContext,
  ): Promise<'totp' | 'recovery_code'> {
    const { audit } = this.#deps;
    const kind = 'code' in input ? 'totp' : 'recovery_code';
    const ok =
      'code' in input
        ? await this.#useTotp(user.id, input.code)
        : await this.#useRecoveryCode(user, input.recoveryCode, context);
    await audit.record(context, {
      type: kind === 'recovery_code' && ok ? 'mfa.recovery_code_used' : 'sign_in.second_factor',
      outcome: ok ? 'success' : 'failure',
      userId: user.id,
      details: { factor: kind },
    });
    if (!ok) throw wrongCode();
    return kind;
  }

  async #useTotp(userId: string, code: string): Promise<boolean> {
    const { totp, secretKey, clock } = this.#deps;
    const record = await totp.find(userId);
    if (!record || record.confirmedAt === null) return false;
    const now = clock.now();
    const step = matchTotp(secretFromBase32(await unseal(secretKey, record.secretSealed)), code, now);
    // The step is recorded in the statement that accepts it: a replay, or a race with the same
    // code, finds it already used.
    return step !== null && (await totp.useStep(userId, step));
  }

  async #useRecoveryCode(user: UserRecord, typed: string, context: RequestContext): Promise<boolean> {
    const { recoveryCodes, clock, notices } = this.#deps;
    const normalized = normalizeRecoveryCode(typed);
    if (!normalized) return false;
    if (!(await recoveryCodes.consume(user.id, recoveryCodeHash(normalized), clock.now()))) return false;
    await notices.send(user, 'recovery_code_used', context, await recoveryCodes.countUnused(user.id));
    return true;
  }

  async #storeNewRecoveryCodes(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.#deps.recoveryCodes.replaceAll(
      userId,
      codes.map((code) => ({
        id: randomId(),
        codeHash: recoveryCodeHash(normalizeRecoveryCode(code) ?? code),
      })),
      this.#deps.clock.now(),
    );
    return codes;
  }
}
