import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Secret } from 'otpauth';
import { matchTotp, type TotpParameters, totpCode } from '../../src/domain/mfa/totp.ts';
import { SHARED_VECTORS, sharedVectorsUnavailable } from '../support/shared-vectors.ts';

interface TotpVectors {
  stepSeconds: number;
  digits: number;
  seedsAscii: Record<'sha1' | 'sha256' | 'sha512', string>;
  rows: Array<{ unixTime: number; algorithm: 'SHA1' | 'SHA256' | 'SHA512'; totp: string }>;
}

/** RFC 6238 Appendix B, read from ../shared/vectors at run time (never copied here). */
function vectors(): TotpVectors {
  const file = JSON.parse(readFileSync(new URL('rfc-vectors.json', SHARED_VECTORS), 'utf8'));
  return file.vectors['RFC6238-AppendixB-TOTP'] as TotpVectors;
}

describe('TOTP against RFC 6238 Appendix B', { skip: sharedVectorsUnavailable() ?? false }, () => {
  test('every row, with the seed of its own hash (20, 32 and 64 bytes)', () => {
    const v = vectors();
    assert.equal(v.rows.length, 18);
    for (const row of v.rows) {
      const seed = v.seedsAscii[row.algorithm.toLowerCase() as 'sha1' | 'sha256' | 'sha512'];
      const params: TotpParameters = {
        algorithm: row.algorithm,
        digits: v.digits,
        periodSeconds: v.stepSeconds,
      };
      const secret = Secret.fromUTF8(seed);
      const at = row.unixTime * 1000;
      assert.equal(totpCode(secret, at, params), row.totp, `${row.algorithm} at ${row.unixTime}`);
      // matchTotp accepts it at that time and names its step (T = floor(t / 30)).
      assert.equal(matchTotp(secret, row.totp, at, params), Math.floor(row.unixTime / v.stepSeconds));
    }
  });

  test('±1 step is accepted, ±2 is not, and a wrong seed never matches', () => {
    const v = vectors();
    const row = v.rows.find((r) => r.algorithm === 'SHA1' && r.unixTime === 1111111109);
    assert.ok(row);
    const params: TotpParameters = { algorithm: 'SHA1', digits: v.digits, periodSeconds: v.stepSeconds };
    const secret = Secret.fromUTF8(v.seedsAscii.sha1);
    const step = Math.floor(row.unixTime / 30);
    const at = row.unixTime * 1000;
    assert.equal(matchTotp(secret, row.totp, at + 30_000, params), step, 'one step later');
    assert.equal(matchTotp(secret, row.totp, at - 30_000, params), step, 'one step earlier');
    assert.equal(matchTotp(secret, row.totp, at + 60_000, params), null, 'two steps later');
    assert.equal(matchTotp(secret, row.totp, at - 60_000, params), null, 'two steps earlier');
    // The SHA-1 seed under SHA-256 is the classic mistake the differing seed lengths catch.
    assert.equal(
      matchTotp(
        secret,
        v.rows.find((r) => r.algorithm === 'SHA256' && r.unixTime === 1111111109)?.totp ?? '',
        at,
        {
          ...params,
          algorithm: 'SHA256',
        },
      ),
      null,
    );
  });

  test('malformed codes never match', () => {
    const secret = Secret.fromUTF8('12345678901234567890');
    for (const code of ['', '12345', '1234567', 'abcdef', '12 34 5x'])
      assert.equal(matchTotp(secret, code, 59_000), null);
  });
});
