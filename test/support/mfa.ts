import assert from 'node:assert/strict';
import { secretFromBase32, totpCode } from '../../src/domain/mfa/totp.ts';
import type { TestClient } from './http-client.ts';
import type { TestClock, TestServer } from './server.ts';

/** The authenticator-app code for `secret` at the server's current time. */
export function currentCode(server: TestServer, secret: string): string {
  return totpCode(secretFromBase32(secret), server.services.clock.now());
}

/**
 * Sets up an authenticator for the signed-in client, as an app would: reads the secret from the
 * setup answer and confirms with its current code. The clock then moves one step on, so the
 * next code a test computes is a new one (each code works once).
 */
export async function enrolTotp(
  server: TestServer,
  client: TestClient,
  clock: TestClock,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const setup = await client.post('/api/v1/mfa/totp/setup');
  assert.equal(setup.status, 200, setup.text);
  const confirmed = await client.post('/api/v1/mfa/totp/confirm', {
    code: currentCode(server, setup.body.secret),
  });
  assert.equal(confirmed.status, 200, confirmed.text);
  clock.advance(30_000);
  return { secret: setup.body.secret as string, recoveryCodes: confirmed.body.recoveryCodes as string[] };
}
