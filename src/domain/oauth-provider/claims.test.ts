import assert from 'node:assert/strict';
import { test } from 'node:test';
import { federatedAmr, passkeyAmr } from '../mfa/factor-policy.ts';
import { ACR_BASIC, ACR_PHISHING_RESISTANT, acrFor, acrSatisfied } from './claims.ts';

test('acr: a passkey is phishing-resistant; email, password and a bare federated claim are basic', () => {
  assert.equal(acrFor(passkeyAmr(true)), ACR_PHISHING_RESISTANT);
  assert.equal(acrFor(passkeyAmr(false)), ACR_PHISHING_RESISTANT);
  assert.equal(acrFor(['otp']), ACR_BASIC);
  assert.equal(acrFor(['pwd', 'otp', 'mfa']), ACR_BASIC);
});

test('a federated sign-in is the basic class whatever the other provider reports, so it never meets acr_values=phr', () => {
  for (const upstream of [['hwk'], ['pop'], ['swk', 'mfa']]) {
    const amr = federatedAmr(upstream);
    assert.equal(acrFor(amr), ACR_BASIC, upstream.join(' '));
    assert.equal(acrSatisfied([ACR_PHISHING_RESISTANT], amr), false);
  }
});
