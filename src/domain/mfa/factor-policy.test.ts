import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  federatedAmr,
  passkeyAmr,
  secondFactorNeeded,
  stepUpFactors,
  withSecondFactor,
} from './factor-policy.ts';

const none = { secondFactorEnrolled: false, instanceRequiresMfa: false };
const enrolled = { secondFactorEnrolled: true, instanceRequiresMfa: false };
const required = { secondFactorEnrolled: false, instanceRequiresMfa: true };

test('a passkey with user verification is enough on its own, whatever the standing', () => {
  for (const standing of [none, enrolled, required]) {
    assert.equal(secondFactorNeeded(['pop', 'user', 'mfa'], standing), false);
  }
});

test('one factor (password, email, federated, a bare passkey touch) needs a second when enrolled or required', () => {
  for (const amr of [['pwd'], ['otp'], ['fed'], ['pop']]) {
    assert.equal(secondFactorNeeded(amr, none), false, `${amr} without a second factor`);
    assert.equal(secondFactorNeeded(amr, enrolled), true, `${amr} with TOTP enrolled`);
    assert.equal(secondFactorNeeded(amr, required), true, `${amr} on an MFA-required instance`);
  }
});

test('completing a sign-in adds otp and mfa once; step-up asks for mfa only of users held to it', () => {
  assert.deepEqual(withSecondFactor(['pwd']), ['pwd', 'otp', 'mfa']);
  assert.deepEqual(withSecondFactor(['otp']), ['otp', 'mfa']);
  assert.deepEqual(stepUpFactors(none), []);
  assert.deepEqual(stepUpFactors(enrolled), ['mfa']);
  assert.deepEqual(stepUpFactors(required), ['mfa']);
});

test('a passkey earns mfa only with user verification; a federated sign-in never does, whatever the provider says', () => {
  assert.equal(secondFactorNeeded(passkeyAmr(true), enrolled), false);
  assert.equal(secondFactorNeeded(passkeyAmr(false), enrolled), true, 'a bare touch is one factor');
  assert.deepEqual(passkeyAmr(false), ['pop']);
  const upstream = federatedAmr(['pwd', 'mfa', 'hwk']);
  assert.deepEqual(upstream, ['fed', 'pwd', 'hwk']);
  assert.equal(secondFactorNeeded(upstream, enrolled), true, 'an upstream claim of mfa is not trusted');
});
