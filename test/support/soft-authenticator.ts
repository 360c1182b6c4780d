/**
 * A software WebAuthn authenticator plus the browser's part of the ceremony, for HTTP and
 * domain tests (browser tests use Chromium's virtual authenticator instead). It answers
 * creation and request options with objects shaped like @simplewebauthn/browser's
 * RegistrationResponseJSON / AuthenticationResponseJSON, and lets a test bend any field a
 * hostile or broken client could: origin, crossOrigin/topOrigin, ceremony type, challenge,
 * RP ID hash, flags, signature counter, user handle, id/rawId, signing key.
 *
 * Byte layouts follow W3C WebAuthn L3: authenticator data §6.1 (rpIdHash ‖ flags ‖ signCount ‖
 * attestedCredentialData ‖ extensions), attested credential data §6.5.2, "none" attestation
 * §8.7, assertion signature over authenticatorData ‖ SHA-256(clientDataJSON) §6.3.3. CBOR comes
 * from @simplewebauthn/server's isoCBOR, never hand-rolled.
 */
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

export type SoftAlgorithm = 'ES256' | 'Ed25519';

const COSE_ALG: Record<SoftAlgorithm, number> = { ES256: -7, Ed25519: -8 };

/** Authenticator data flag bits (L3 §6.1). */
export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;

export interface SoftCredential {
  /** base64url credential id. */
  id: string;
  rpId: string;
  /** base64url user handle the RP gave at registration. */
  userHandle: string;
  algorithm: SoftAlgorithm;
  privateKey: KeyObject;
  /** COSE_Key bytes. */
  publicKey: Uint8Array;
  counter: number;
  backupEligible: boolean;
  backedUp: boolean;
}

export interface SoftAuthenticatorOptions {
  /** The page origin the "browser" reports in clientDataJSON. */
  origin: string;
  algorithm?: SoftAlgorithm;
  /** UUID; all zeros (what "none" attestation conveys) unless set. */
  aaguid?: string;
  /** Whether the authenticator verifies the user (UV flag). Default true. */
  userVerification?: boolean;
  /** BE / BS flags of new credentials. Default true / true (a synced passkey). */
  backupEligible?: boolean;
  backedUp?: boolean;
  /** Added to the counter at each assertion; 0 models an authenticator that does not count. */
  counterStep?: number;
  transports?: string[];
}

/** What a test may bend in either ceremony. */
export interface CeremonyOverrides {
  origin?: string;
  crossOrigin?: boolean;
  topOrigin?: string;
  /** clientData.type (e.g. "webauthn.get" in a registration). */
  type?: string;
  /** The challenge written into clientDataJSON instead of the one in the options. */
  challenge?: string;
  /** The RP ID hashed into authenticator data instead of the options' one. */
  rpIdForHash?: string;
  userPresent?: boolean;
  userVerified?: boolean;
  backupEligible?: boolean;
  backedUp?: boolean;
  /** `id` / `rawId` of the returned JSON, each independently. */
  id?: string;
  rawId?: string;
}

export interface RegistrationOverrides extends CeremonyOverrides {
  algorithm?: SoftAlgorithm;
  /** Raw bytes of the new credential id (default 32 random bytes). */
  credentialId?: Uint8Array;
  /** Ignore excludeCredentials (an authenticator that does not honour it). */
  ignoreExclude?: boolean;
}

export interface AuthenticationOverrides extends CeremonyOverrides {
  /** Which held credential answers (default: first allowed, else the newest for the RP). */
  credentialId?: string;
  /** userHandle in the response; null omits it. Default: the one stored at registration. */
  userHandle?: string | null;
  /** Exact signCount to report (and remember). */
  counter?: number;
  /** Sign with this key instead of the credential's own. */
  signWith?: KeyObject;
  /** Flip a bit of the signature after signing. */
  corruptSignature?: boolean;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, false);
  return out;
}

function uint16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, false);
  return out;
}

function aaguidBytes(uuid: string): Uint8Array {
  const hex = uuid.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`bad AAGUID ${uuid}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** COSE_Key (RFC 9053) for the credential's public key. */
export function coseKeyOf(publicKey: KeyObject, algorithm: SoftAlgorithm): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  if (algorithm === 'ES256') {
    const y = Buffer.from(jwk.y ?? '', 'base64url');
    // kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(x)],
        [-3, new Uint8Array(y)],
      ]),
    );
  }
  // kty OKP (1), alg EdDSA (-8), crv Ed25519 (6), x
  return isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 1],
      [3, -8],
      [-1, 6],
      [-2, new Uint8Array(x)],
    ]),
  );
}

/** A P-256 private key from its raw scalar (hex), as the W3C test vectors give it. */
export function es256KeyFromScalar(hex: string): KeyObject {
  const d = Buffer.from(hex, 'hex');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(); // 0x04 ‖ x ‖ y
  return createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: d.toString('base64url'),
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
  });
}

function generateKey(algorithm: SoftAlgorithm): KeyObject {
  return algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('ed25519').privateKey;
}

/** ECDSA in WebAuthn is DER-encoded (node's default); EdDSA signs the message itself. */
function signWith(key: KeyObject, data: Uint8Array): Uint8Array {
  const type = key.asymmetricKeyType;
  return new Uint8Array(sign(type === 'ed25519' || type === 'ed448' ? null : 'sha256', data, key));
}

export class SoftAuthenticator {
  readonly options: Required<Omit<SoftAuthenticatorOptions, 'transports'>> & { transports: string[] };
  readonly #credentials: SoftCredential[] = [];

  constructor(options: SoftAuthenticatorOptions) {
    this.options = {
      algorithm: 'ES256',
      aaguid: '00000000-0000-0000-0000-000000000000',
      userVerification: true,
      backupEligible: true,
      backedUp: true,
      counterStep: 1,
      transports: ['internal', 'hybrid'],
      ...options,
    };
  }

  get credentials(): readonly SoftCredential[] {
    return this.#credentials;
  }

  credential(id: string): SoftCredential {
    const found = this.#credentials.find((c) => c.id === id);
    if (!found) throw new Error(`soft authenticator holds no credential ${id}`);
    return found;
  }

  /** Sets a credential's stored signature counter (e.g. to fake a clone lagging behind). */
  setCounter(id: string, counter: number): void {
    this.credential(id).counter = counter;
  }

  /** Adds a credential with a known key (e.g. a W3C test vector's), as if registered earlier. */
  addCredential(credential: Omit<SoftCredential, 'publicKey'> & { publicKey?: Uint8Array }): SoftCredential {
    const full: SoftCredential = {
      ...credential,
      publicKey:
        credential.publicKey ?? coseKeyOf(createPublicKey(credential.privateKey), credential.algorithm),
    };
    this.#credentials.push(full);
    return full;
  }

  /** Copies a credential into another authenticator: a cloned key with its own counter. */
  cloneInto(other: SoftAuthenticator, id: string): SoftCredential {
    return other.addCredential({ ...this.credential(id) });
  }

  /** navigator.credentials.create(), "none" attestation. */
  async register(
    options: PublicKeyCredentialCreationOptionsJSON,
    overrides: RegistrationOverrides = {},
  ): Promise<RegistrationResponseJSON> {
    const algorithm = overrides.algorithm ?? this.options.algorithm;
    const rpId = options.rp.id ?? new URL(this.options.origin).hostname;
    if (!options.pubKeyCredParams.some((p) => p.alg === COSE_ALG[algorithm])) {
      throw new Error(`NotSupportedError: ${algorithm} not offered`);
    }
    if (!overrides.ignoreExclude) {
      const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
      if (this.#credentials.some((c) => c.rpId === rpId && excluded.has(c.id))) {
        throw new Error('InvalidStateError: the authenticator already holds an excluded credential');
      }
    }
    const rawId = overrides.credentialId ?? new Uint8Array(randomBytes(32));
    const privateKey = generateKey(algorithm);
    const credential: SoftCredential = {
      id: b64url(rawId),
      rpId,
      userHandle: options.user.id,
      algorithm,
      privateKey,
      publicKey: coseKeyOf(createPublicKey(privateKey), algorithm),
      counter: 0,
      backupEligible: overrides.backupEligible ?? this.options.backupEligible,
      backedUp: overrides.backedUp ?? this.options.backedUp,
    };

    const clientDataJSON = this.#clientData('webauthn.create', options.challenge, overrides);
    const authData = concat(
      sha256(overrides.rpIdForHash ?? rpId),
      new Uint8Array([this.#flags(credential, overrides) | FLAGS.AT]),
      uint32(credential.counter),
      aaguidBytes(this.options.aaguid),
      uint16(rawId.length),
      rawId,
      credential.publicKey,
    );
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, never>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, never>()],
        ['authData', authData],
      ]),
    );
    this.#credentials.push(credential);
    return {
      id: overrides.id ?? credential.id,
      rawId: overrides.rawId ?? credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: [...this.options.transports],
        publicKeyAlgorithm: COSE_ALG[algorithm],
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
    };
  }

  /** navigator.credentials.get(). */
  async authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    overrides: AuthenticationOverrides = {},
  ): Promise<AuthenticationResponseJSON> {
    const rpId = options.rpId ?? new URL(this.options.origin).hostname;
    const credential = this.#pick(rpId, options, overrides.credentialId);
    credential.counter = overrides.counter ?? credential.counter + this.options.counterStep;

    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, overrides);
    const authData = concat(
      sha256(overrides.rpIdForHash ?? rpId),
      new Uint8Array([this.#flags(credential, overrides)]),
      uint32(credential.counter),
    );
    const signature = signWith(
      overrides.signWith ?? credential.privateKey,
      concat(authData, sha256(clientDataJSON)),
    );
    if (overrides.corruptSignature) signature[signature.length - 1] = (signature.at(-1) ?? 0) ^ 0x01;
    const userHandle = overrides.userHandle === undefined ? credential.userHandle : overrides.userHandle;
    return {
      id: overrides.id ?? credential.id,
      rawId: overrides.rawId ?? credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  #pick(rpId: string, options: PublicKeyCredentialRequestOptionsJSON, wanted?: string): SoftCredential {
    if (wanted !== undefined) return this.credential(wanted);
    const mine = this.#credentials.filter((c) => c.rpId === rpId);
    const allowed = options.allowCredentials ?? [];
    const candidates = allowed.length ? mine.filter((c) => allowed.some((a) => a.id === c.id)) : mine;
    const chosen = candidates.at(-1);
    if (!chosen) throw new Error('NotAllowedError: no credential for this RP');
    return chosen;
  }

  #flags(credential: SoftCredential, overrides: CeremonyOverrides): number {
    let flags = 0;
    if (overrides.userPresent ?? true) flags |= FLAGS.UP;
    if (overrides.userVerified ?? this.options.userVerification) flags |= FLAGS.UV;
    if (overrides.backupEligible ?? credential.backupEligible) flags |= FLAGS.BE;
    if (overrides.backedUp ?? credential.backedUp) flags |= FLAGS.BS;
    return flags;
  }

  #clientData(type: string, challenge: string, overrides: CeremonyOverrides): Uint8Array {
    const data: Record<string, unknown> = {
      type: overrides.type ?? type,
      challenge: overrides.challenge ?? challenge,
      origin: overrides.origin ?? this.options.origin,
      crossOrigin: overrides.crossOrigin ?? false,
    };
    if (overrides.topOrigin !== undefined) data.topOrigin = overrides.topOrigin;
    return new TextEncoder().encode(JSON.stringify(data));
  }
}

/** base64url helpers re-exported for tests that poke at responses. */
export const base64url = {
  encode: (bytes: Uint8Array): string => b64url(bytes),
  decode: (value: string): Uint8Array => isoBase64URL.toBuffer(value),
};
