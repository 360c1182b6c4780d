import type { TestClient } from './http-client.ts';
import { readSignInMail, type TestServer } from './server.ts';

/** Signs the client in through continue-with-email + the emailed link; returns the user id. */
export async function signInWithEmail(
  server: TestServer,
  client: TestClient,
  email: string,
): Promise<string> {
  const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
  const requested = await client.post('/api/v1/email/sign-in', { email });
  if (requested.status !== 202)
    throw new Error(`sign-in request failed: ${requested.status} ${requested.text}`);
  let message = await server.latestMail(email);
  const deadline = Date.now() + 5000;
  while (message.id === before && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    message = await server.latestMail(email);
  }
  const { token } = readSignInMail(message);
  const verified = await client.post('/api/v1/email/verify', { token });
  if (verified.status !== 200) throw new Error(`verify failed: ${verified.status} ${verified.text}`);
  return verified.body.user.id as string;
}
