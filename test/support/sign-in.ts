import type { StoredMessage } from '../../src/ports/mail.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient, type TestResponse } from './http-client.ts';
import { readSignInMail, type TestServer } from './server.ts';

/**
 * The sign-in mail that arrived after the message `beforeId` (newest first). Other mail, such as
 * a security notice, may land before or after it, so it is looked for rather than assumed latest.
 */
export async function newSignInMail(
  server: TestServer,
  email: string,
  beforeId: string | undefined,
): Promise<StoredMessage> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const recent = await server.services.stores.devMailbox.list({ to: email, limit: 20 });
    const seen = recent.findIndex((message) => message.id === beforeId);
    const newer = seen === -1 ? recent : recent.slice(0, seen);
    const found = newer.find((message) => /sign-in code/.test(message.subject));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no new sign-in mail for ${email}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Continue with email through the mailed link: the verify answer (signed in, or mfa_required). */
export async function emailFirstFactor(
  server: TestServer,
  client: TestClient,
  email: string,
): Promise<TestResponse<any>> {
  const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
  const requested = await client.post('/api/v1/email/sign-in', { email });
  if (requested.status !== 202)
    throw new Error(`sign-in request failed: ${requested.status} ${requested.text}`);
  const { token } = readSignInMail(await newSignInMail(server, email, before));
  return client.post('/api/v1/email/verify', { token });
}

/** Signs the client in through continue-with-email + the emailed link; returns the user id. */
export async function signInWithEmail(
  server: TestServer,
  client: TestClient,
  email: string,
): Promise<string> {
  const verified = await emailFirstFactor(server, client, email);
  if (verified.status !== 200 || !verified.body.user)
    throw new Error(`verify failed: ${verified.status} ${verified.text}`);
  return verified.body.user.id as string;
}

/**
 * A signed-in client for an account whose address was never verified (as an unproven sign-up
 * or provider link leaves it): the session is issued directly, since no sign-in pathway
 * would open such an account. Checks the session works before handing it over.
 */
export async function unverifiedSession(server: TestServer, id: string, email: string): Promise<TestClient> {
  const now = Date.now();
  const { user } = await server.services.stores.users.createOrGet({
    id,
    email,
    emailVerifiedAt: null,
    displayName: null,
    createdAt: now,
    updatedAt: now,
    disabledAt: null,
  });
  const { token } = await server.services.sessions.issue(user.id, ['otp'], {
    ip: null,
    userAgent: null,
    requestId: null,
  });
  const client = new TestClient(server.url);
  client.cookies.set(SESSION_COOKIE, token);
  const check = await client.get('/api/v1/session');
  if (check.status !== 200) throw new Error(`session for ${email} refused: ${check.status}`);
  return client;
}

/**
 * Step-up by emailed code (POST /api/v1/reauth/email, then …/verify): the client gets a new,
 * re-authenticated session. Returns the verify answer.
 */
export async function reauthenticateByEmail(
  server: TestServer,
  client: TestClient,
  email: string,
): Promise<TestResponse<any>> {
  const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
  const requested = await client.post('/api/v1/reauth/email');
  if (requested.status !== 202)
    throw new Error(`reauth request failed: ${requested.status} ${requested.text}`);
  const { code } = readSignInMail(await newSignInMail(server, email, before));
  return client.post('/api/v1/reauth/email/verify', { code });
}
