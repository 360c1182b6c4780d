/**
 * The WebAuthn checks Gatehouse applies to a registration or an assertion, as pure functions
 * over the browser's JSON and what the relying party expected. `PasskeyService` calls these
 * after it has consumed the challenge and looked up the credential; the vector tests call them
 * directly with each vector's expectations, so the suite exercises exactly the production path.
 *
 * `@simplewebauthn/server` does the CBOR/COSE/attestation work and the signature check; the
 * checks written out here are the ones it leaves to the relying party (RECIPES.md):
 * - it never compares `response.id` with the stored credential id (W3C WebAuthn L3 §7.2 step 5);
 * - it accepts `crossOrigin: true` when no `topOrigin` is present (§7.1 step 10, §7.2 step 13:
 *   Gatehouse is never embedded in third-party iframes, so a cross-origin ceremony is refused);
 * - it checks neither the 1023-byte credential id limit (§7.1 step 25) nor the backup-eligibility
 *   invariant (§7.2 step 18).
 * Writing the cheap checks first also gives each failure a precise audit reason without
 * matching the library's error strings.
 */
import {
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import {
  cose,
  decodeAttestationObject,
  decodeClientDataJSON,
  decodeCredentialPublicKey,
  isoBase64URL,
  isoUint8Array,
  parseAuthenticatorData,
  toHash,
} from '@simplewebauthn/server/helpers';

/**
 * Offered at registration, in order of preference: EdDSA, ES256, RS256, ES384, ES512. Not
 * Ed448 (-53): @simplewebauthn/server 14 cannot verify its assertions (vector w3c-auth-packed-ed448).
 */
export const SUPPORTED_ALGORITHM_IDS: readonly number[] = [-8, -7, -257, -35, -36];

/** WebAuthn L3 §7.1 step 25: longer credential ids must be refused. */
const MAX_CREDENTIAL_ID_BYTES = 1023;

export type CeremonyFailureReason =
  | 'malformed_response'
  | 'credential_id_mismatch'
  | 'credential_id_too_long'
  | 'wrong_ceremony_type'
  | 'challenge_mismatch'
  | 'cross_origin'
  | 'origin_mismatch'
  | 'rp_id_mismatch'
  | 'user_not_present'
  | 'user_not_verified'
  | 'user_handle_mismatch'
  | 'backup_eligibility_changed'
  | 'unsupported_algorithm'
  | 'attestation_invalid'
  | 'bad_signature'
  | 'counter_regression'
  | 'rejected';

/**
 * Why a ceremony failed. `reason` goes to the audit log; `detail` (the library's message, when it
 * was the library that refused) only to the server log. Neither is ever shown to the caller.
 */
export class CeremonyFailure extends Error {
  override name = 'CeremonyFailure';
  readonly reason: CeremonyFailureReason;
  readonly detail: string | undefined;

  constructor(reason: CeremonyFailureReason, detail?: string) {
    super(`WebAuthn ceremony failed: ${reason}`);
    this.reason = reason;
    this.detail = detail;
  }
}

export interface RelyingPartyExpectation {
  /** Serialized origin(s) (`https://auth.example.com`, no trailing slash). */
  origin: string | readonly string[];
  rpId: string;
  requireUserVerification: boolean;
}

export interface VerifiedRegistration {
  /** base64url, as the authenticator attested it in authData. */
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  aaguid: string;
  userVerified: boolean;
  fmt: string;
}

export interface StoredCredential {
  /** base64url credential id. */
  id: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  /** Whether the BE flag was set at registration; checked when known. */
  backupEligible?: boolean;
}

export interface VerifiedAuthentication {
  newCounter: number;
  userVerified: boolean;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
}

const KNOWN_TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin?: unknown;
  topOrigin?: unknown;
}

/**
 * The challenge the browser signed, read from clientDataJSON without trusting anything else in
 * it, so the caller can consume exactly that challenge. Undefined when unreadable.
 */
export function challengeOf(response: { response?: { clientDataJSON?: unknown } }): string | undefined {
  const encoded = response.response?.clientDataJSON;
  if (typeof encoded !== 'string') return undefined;
  try {
    const data = readClientData(encoded);
    return data.challenge;
  } catch {
    return undefined;
  }
}

/** The WebAuthn user handle for a user id: its UTF-8 bytes, base64url. Opaque, no PII. */
export function userHandleFor(userId: string): string {
  return isoBase64URL.fromBuffer(isoUint8Array.fromUTF8String(userId));
}

export function userHandleBytes(userId: string): Uint8Array<ArrayBuffer> {
  return isoUint8Array.fromUTF8String(userId);
}

function isBase64url(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && isoBase64URL.isBase64URL(value);
}

function readClientData(encoded: string): ClientData {
  if (!isBase64url(encoded))
    throw new CeremonyFailure('malformed_response', 'clientDataJSON is not base64url');
  let data: unknown;
  try {
    data = decodeClientDataJSON(encoded);
  } catch {
    throw new CeremonyFailure('malformed_response', 'clientDataJSON is not JSON');
  }
  const record = data as Record<string, unknown> | null;
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.type !== 'string' ||
    typeof record.challenge !== 'string' ||
    typeof record.origin !== 'string'
  ) {
    throw new CeremonyFailure('malformed_response', 'clientDataJSON lacks type, challenge or origin');
  }
  return record as unknown as ClientData;
}

/** The clientData checks shared by both ceremonies (L3 §7.1 steps 7–10, §7.2 steps 10–13). */
function checkClientData(
  data: ClientData,
  expectedType: 'webauthn.create' | 'webauthn.get',
  expectedChallenge: string,
  rp: RelyingPartyExpectation,
): void {
  if (data.type !== expectedType) throw new CeremonyFailure('wrong_ceremony_type');
  if (data.challenge !== expectedChallenge) throw new CeremonyFailure('challenge_mismatch');
  // Anything but an absent or false crossOrigin, or any topOrigin, means the ceremony ran in a
  // frame embedded by another site: a clickjacking or credential-phishing setup, never ours.
  if ((data.crossOrigin !== undefined && data.crossOrigin !== false) || data.topOrigin !== undefined) {
    throw new CeremonyFailure('cross_origin');
  }
  const origins: readonly string[] = typeof rp.origin === 'string' ? [rp.origin] : rp.origin;
  if (!origins.includes(data.origin)) throw new CeremonyFailure('origin_mismatch');
}

/** rpIdHash and the UP/UV flags (L3 §7.1 steps 14–17, §7.2 steps 15–17). */
async function checkAuthenticatorData(
  parsed: ReturnType<typeof parseAuthenticatorData>,
  rp: RelyingPartyExpectation,
): Promise<void> {
  const expectedHash = await toHash(isoUint8Array.fromUTF8String(rp.rpId));
  if (!isoUint8Array.areEqual(parsed.rpIdHash, expectedHash)) throw new CeremonyFailure('rp_id_mismatch');
  if (!parsed.flags.up) throw new CeremonyFailure('user_not_present');
  if (rp.requireUserVerification && !parsed.flags.uv) throw new CeremonyFailure('user_not_verified');
}

function parseAuthData(bytes: Uint8Array<ArrayBuffer>): ReturnType<typeof parseAuthenticatorData> {
  try {
    return parseAuthenticatorData(bytes);
  } catch (error) {
    throw new CeremonyFailure('malformed_response', `authenticatorData: ${(error as Error).message}`);
  }
}

function libraryMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Registration (L3 §7.1). Throws CeremonyFailure; never returns an unverified result. */
export async function verifyRegistrationCeremony(input: {
  response: RegistrationResponseJSON;
  expectedChallenge: string;
  rp: RelyingPartyExpectation;
}): Promise<VerifiedRegistration> {
  const { response, expectedChallenge, rp } = input;
  if (
    typeof response !== 'object' ||
    response === null ||
    response.type !== 'public-key' ||
    typeof response.response !== 'object' ||
    response.response === null ||
    !isBase64url(response.id) ||
    !isBase64url(response.response.attestationObject)
  ) {
    throw new CeremonyFailure('malformed_response');
  }
  if (response.id !== response.rawId) {
    throw new CeremonyFailure('credential_id_mismatch', 'id differs from rawId');
  }

  checkClientData(readClientData(response.response.clientDataJSON), 'webauthn.create', expectedChallenge, rp);

  let authData: Uint8Array<ArrayBuffer>;
  try {
    authData = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject)).get(
      'authData',
    );
  } catch (error) {
    throw new CeremonyFailure('malformed_response', `attestationObject: ${libraryMessage(error)}`);
  }
  if (!(authData instanceof Uint8Array)) throw new CeremonyFailure('malformed_response', 'no authData');
  const parsed = parseAuthData(authData);
  await checkAuthenticatorData(parsed, rp);
  if (!parsed.credentialID || !parsed.credentialPublicKey) {
    throw new CeremonyFailure('malformed_response', 'no attested credential data');
  }
  // The credential id stored is the one the authenticator attested in authData, never the one
  // the client reported beside it, so a client cannot bind this key to an id of its choosing.
  if (parsed.credentialID.length > MAX_CREDENTIAL_ID_BYTES) {
    throw new CeremonyFailure('credential_id_too_long');
  }
  let alg: unknown;
  try {
    alg = decodeCredentialPublicKey(parsed.credentialPublicKey).get(cose.COSEKEYS.alg);
  } catch (error) {
    throw new CeremonyFailure('malformed_response', `credential public key: ${libraryMessage(error)}`);
  }
  if (typeof alg !== 'number' || !SUPPORTED_ALGORITHM_IDS.includes(alg)) {
    throw new CeremonyFailure('unsupported_algorithm', `alg ${String(alg)}`);
  }

  let result: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: typeof rp.origin === 'string' ? rp.origin : [...rp.origin],
      expectedRPID: rp.rpId,
      requireUserPresence: true,
      requireUserVerification: rp.requireUserVerification,
      supportedAlgorithmIDs: [...SUPPORTED_ALGORITHM_IDS],
    });
  } catch (error) {
    throw new CeremonyFailure('rejected', libraryMessage(error));
  }
  if (!result.verified) throw new CeremonyFailure('attestation_invalid');
  const info = result.registrationInfo;
  return {
    credentialId: info.credential.id,
    publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
    counter: info.credential.counter,
    transports: [...new Set((response.response.transports ?? []).filter((t) => KNOWN_TRANSPORTS.has(t)))],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid,
    userVerified: info.userVerified,
    fmt: info.fmt,
  };
}

/** Authentication (L3 §7.2). Throws CeremonyFailure; never returns an unverified result. */
export async function verifyAuthenticationCeremony(input: {
  response: AuthenticationResponseJSON;
  expectedChallenge: string;
  rp: RelyingPartyExpectation;
  credential: StoredCredential;
  /** When set, the response must carry exactly this user handle (discoverable sign-in). */
  expectedUserHandle?: string;
}): Promise<VerifiedAuthentication> {
  const { response, expectedChallenge, rp, credential } = input;
  if (
    typeof response !== 'object' ||
    response === null ||
    response.type !== 'public-key' ||
    typeof response.response !== 'object' ||
    response.response === null ||
    !isBase64url(response.id) ||
    !isBase64url(response.response.authenticatorData) ||
    !isBase64url(response.response.signature)
  ) {
    throw new CeremonyFailure('malformed_response');
  }
  if (response.id !== response.rawId) {
    throw new CeremonyFailure('credential_id_mismatch', 'id differs from rawId');
  }
  // The library verifies the signature with whatever key it is handed; binding the assertion to
  // the stored credential is ours to do (L3 §7.2 step 5).
  if (response.rawId !== credential.id) {
    throw new CeremonyFailure('credential_id_mismatch', 'not the stored credential');
  }
  if (input.expectedUserHandle !== undefined && response.response.userHandle !== input.expectedUserHandle) {
    throw new CeremonyFailure('user_handle_mismatch');
  }

  checkClientData(readClientData(response.response.clientDataJSON), 'webauthn.get', expectedChallenge, rp);
  const parsed = parseAuthData(isoBase64URL.toBuffer(response.response.authenticatorData));
  await checkAuthenticatorData(parsed, rp);
  // A credential's backup eligibility is fixed when it is created (L3 §6.1.3); a change means
  // this is not the authenticator that registered it.
  if (credential.backupEligible !== undefined && parsed.flags.be !== credential.backupEligible) {
    throw new CeremonyFailure('backup_eligibility_changed');
  }

  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: typeof rp.origin === 'string' ? rp.origin : [...rp.origin],
      expectedRPID: rp.rpId,
      requireUserVerification: rp.requireUserVerification,
      credential: {
        id: credential.id,
        publicKey: isoBase64URL.toBuffer(credential.publicKey),
        // The counter is compared below, after the signature: a regression is evidence of a
        // cloned authenticator only when the assertion is genuine, so an unsigned forgery must
        // not be able to raise that alarm. With 0 here the library's own comparison never fires.
        counter: 0,
      },
    });
  } catch (error) {
    throw new CeremonyFailure('rejected', libraryMessage(error));
  }
  if (!result.verified) throw new CeremonyFailure('bad_signature');
  const info = result.authenticationInfo;
  // L3 §7.2 step 22 / §6.1.1: authenticators that do not count report 0 every time; any that
  // do must move forward. Equal is a replay or a clone.
  if ((info.newCounter > 0 || credential.counter > 0) && info.newCounter <= credential.counter) {
    throw new CeremonyFailure('counter_regression', `counter ${info.newCounter} after ${credential.counter}`);
  }
  return {
    newCounter: info.newCounter,
    userVerified: info.userVerified,
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
  };
}
