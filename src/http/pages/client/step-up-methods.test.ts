import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { offeredMethods, readRequirement } from './step-up-methods.ts';

describe('step-up prompt: which ways to re-authenticate are offered', () => {
  test('a user held to no extra factor gets every way they have', () => {
    const requirement = readRequirement({
      methods: ['passkey', 'email', 'password'],
      factors: [],
      secondFactor: null,
    });
    assert.deepEqual(offeredMethods(requirement, true), ['passkey', 'password', 'email']);
    assert.deepEqual(offeredMethods(requirement, false), ['password', 'email'], 'no WebAuthn: no passkey');
  });

  test('only the ways the user has', () => {
    const requirement = readRequirement({ methods: ['email'], factors: [], secondFactor: null });
    assert.deepEqual(offeredMethods(requirement, true), ['email']);
  });

  test('"mfa" with an authenticator app: one-factor ways stay, they take its code too', () => {
    const requirement = readRequirement({
      methods: ['email', 'password'],
      factors: ['mfa'],
      secondFactor: 'totp',
    });
    assert.deepEqual(offeredMethods(requirement, true), ['password', 'email']);
  });

  test('"mfa" without an authenticator app (mfa.required): only a passkey can give it', () => {
    const requirement = readRequirement({
      methods: ['passkey', 'email', 'password'],
      factors: ['mfa'],
      secondFactor: null,
    });
    assert.deepEqual(offeredMethods(requirement, true), ['passkey']);
    assert.deepEqual(offeredMethods(requirement, false), [], 'nothing left to offer');
  });

  test('a factor no way can prove offers nothing; unknown methods are ignored', () => {
    const requirement = readRequirement({
      methods: ['passkey', 'sms', 'email'],
      factors: ['hwk'],
      secondFactor: 'totp',
    });
    assert.deepEqual(requirement.methods, ['passkey', 'email']);
    assert.deepEqual(offeredMethods(requirement, true), []);
  });

  test('an answer without methods (an older server) falls back to the emailed code', () => {
    assert.deepEqual(offeredMethods(readRequirement({}), true), ['email']);
  });
});
