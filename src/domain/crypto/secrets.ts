import { hash, hkdfSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

/** 256-bit random token, base64url: session cookies, link tokens, flow secrets. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** 128-bit random id, base64url: never sequential, so ids reveal neither count nor order. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** Uniform 6-digit code (no modulo bias: randomInt rejects out-of-range draws). */
export function randomDigits(length = 6): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(randomInt(10));
  return out;
}

/**
 * SHA-256, base64url. Enough for high-entropy secrets (≥128 bits): a dump of hashes cannot
 * be reversed or brute-forced, and lookup by hash avoids a timing oracle on the secret.
 */
export function sha256(value: string): string {
  // One-shot crypto.hash: no Hash object per call (this runs on every session check).
  return hash('sha256', value, 'base64url');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A 256-bit key for one purpose, derived from the instance secret (HKDF-SHA256, RFC 5869). */
export function deriveKey(instanceSecret: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', instanceSecret, 'gatehouse', purpose, 32));
}

/**
 * The AES key of a sealing key, imported once per key. Given raw bytes, jose imports a CryptoKey
 * on every call (measured: ~30 µs of a ~110 µs seal, more under load); the refresh grace window
 * seals every token response (token-grants.ts). Keyed by the array's identity: sealing keys
 * come from deriveKey once and are never written to afterwards.
 */
const aesKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function aesKey(key: Uint8Array): Promise<CryptoKey> {
  const known = aesKeys.get(key);
  if (known) return known;
  const imported = crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, ['encrypt', 'decrypt']);
  aesKeys.set(key, imported);
  // A rejected import (a key of the wrong length) is not remembered: the next call fails the same way.
  imported.catch(() => aesKeys.delete(key));
  return imported;
}

/** AES-256-GCM through jose (JWE `dir`): secrets at rest such as queued mail bodies. */
export async function seal(key: Uint8Array, plaintext: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .encrypt(await aesKey(key));
}

export async function unseal(key: Uint8Array, sealed: string): Promise<string> {
  const { plaintext } = await compactDecrypt(sealed, await aesKey(key), {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
  });
  return new TextDecoder().decode(plaintext);
}
