/** Helpers for the abuse-protection tests (test/abuse/). */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import type { UserRecord } from '../../src/ports/user-store.ts';
import { TestClient, type TestResponse } from './http-client.ts';
import { readSignInMail, type TestServer } from './server.ts';
import { newSignInMail } from './sign-in.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';

/** Headers that make a request come from `ip`, for a server that trusts 127.0.0.1 as its proxy. */
export function fromIp(ip: string): Record<string, string> {
  return { 'x-forwarded-for': ip };
}

/**
 * The same limits for every endpoint, one number per layer (1000 where not given), so a test
 * sets only the layer it is about.
 */
export function limitsOf(
  layers: { perIp?: number; perIdentifier?: number; global?: number; mailPerAddress?: number },
  windowMs = 60_000,
): Record<string, unknown> {
  const window = (limit = 1000) => ({ limit, windowMs });
  const endpoint = (withIdentifier: boolean) => ({
    perIp: window(layers.perIp),
    ...(withIdentifier ? { perIdentifier: window(layers.perIdentifier) } : {}),
    global: window(layers.global),
  });
  return {
    emailSignIn: endpoint(false),
    mailPerAddress: window(layers.mailPerAddress),
    emailVerify: endpoint(true),
    passkeySignInOptions: endpoint(false),
    passkeySignInVerify: endpoint(false),
    passkeyRegister: endpoint(true),
    passwordSignIn: endpoint(true),
    accountMail: endpoint(true),
    accountLinks: endpoint(false),
    secondFactor: endpoint(true),
    reauth: endpoint(true),
    federation: endpoint(false),
  };
}

/** A request with the path sent byte for byte (fetch would normalise it first). */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { 'sec-fetch-site': 'same-origin', ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Asks for a sign-in mail from `client` and returns its code (the client keeps the flow cookie). */
export async function requestCode(
  server: TestServer,
  client: TestClient,
  email: string,
  headers: Record<string, string> = {},
): Promise<{ code: string; token: string }> {
  const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
  const response = await client.post('/api/v1/email/sign-in', { email }, headers);
  assert.equal(response.status, 202, response.text);
  return readSignInMail(await newSignInMail(server, email, before));
}

/** Any six digits but `code`. */
export function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

/** A user with a session cookie (issued through the services) and one registered passkey. */
export async function userWithPasskey(
  server: TestServer,
  email: string,
): Promise<{ user: UserRecord; client: TestClient; authenticator: SoftAuthenticator }> {
  const { user } = await server.services.users.signInByVerifiedEmail(email);
  const { token } = await server.services.sessions.issue(user.id, ['otp'], {
    ip: '127.0.0.1',
    userAgent: 'test',
    requestId: null,
  });
  const client = new TestClient(server.url);
  client.cookies.set(SESSION_COOKIE, token);
  const authenticator = new SoftAuthenticator({ origin: server.origin });
  const options = await client.post('/api/v1/passkeys/register/options');
  assert.equal(options.status, 200, options.text);
  const registered = await client.post('/api/v1/passkeys/register/verify', {
    response: await authenticator.register(options.body),
  });
  assert.equal(registered.status, 201, registered.text);
  return { user, client, authenticator };
}

/** Signs in with the authenticator's passkey from `client`. */
export async function passkeySignIn(
  client: TestClient,
  authenticator: SoftAuthenticator,
  headers: Record<string, string> = {},
  overrides: Parameters<SoftAuthenticator['authenticate']>[1] = {},
): Promise<TestResponse> {
  const options = await client.post('/api/v1/passkeys/sign-in/options', {}, headers);
  if (options.status !== 200) return options;
  const response = await authenticator.authenticate(options.body, overrides);
  return client.post('/api/v1/passkeys/sign-in/verify', { response }, headers);
}

/** Asserts a rate-limit refusal: 429, the one error body, and a Retry-After in whole seconds. */
export function assertRefused(response: TestResponse, retryAfterSeconds?: number): void {
  assert.equal(response.status, 429, response.text);
  assert.deepEqual(response.body, {
    error: { code: 'rate_limited', message: 'Too many attempts. Wait a little and try again.' },
  });
  const retryAfter = Number(response.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${retryAfter}`);
  if (retryAfterSeconds !== undefined) assert.equal(retryAfter, retryAfterSeconds);
}
