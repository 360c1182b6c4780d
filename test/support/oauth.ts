import assert from 'node:assert/strict';
/**
 * OAuth provider tests: a Gatehouse with the provider on and a set of clients, a certified
 * client library (openid-client) pointed at it, and a cookie-keeping user agent (TestClient)
 * that walks the browser's part of an authorization request: the redirects, Gatehouse's
 * sign-in, the consent page's Allow / Deny.
 */
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as client from 'openid-client';
import type { TestClient } from './http-client.ts';
import { startGatehouse, type TestServer } from './server.ts';
import type { GatehouseOptions } from '../../src/container.ts';

export const API = 'https://api.example.test';
export const OTHER_API = 'https://other-api.example.test';
export const CALLBACK = 'https://app.example.test/callback';
export const SIGNED_OUT = 'https://app.example.test/signed-out';

/** Confidential web app: code + PKCE, refresh tokens, the API. */
export const WEB_APP = {
  client_id: 'web-app',
  client_secret: 'web-app-secret-0123456789-abcdefghijklmnop',
  client_name: 'Example App',
  redirect_uris: [CALLBACK],
  post_logout_redirect_uris: [SIGNED_OUT],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid email profile offline_access read write',
  resources: [API],
};

/** A second confidential app, to show that codes and tokens do not cross clients. */
export const OTHER_APP = {
  ...WEB_APP,
  client_id: 'other-app',
  client_secret: 'other-app-secret-0123456789-abcdefghijklmn',
  client_name: 'Other App',
  redirect_uris: ['https://other.example.test/callback'],
  post_logout_redirect_uris: [],
};

/** Public single-page app (no secret). */
export const SPA = {
  client_id: 'spa',
  client_name: 'Single Page App',
  redirect_uris: ['https://spa.example.test/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid email offline_access',
};

/** Native app (RFC 8252): loopback http on any port, a private-use scheme. */
export const NATIVE = {
  client_id: 'native',
  client_name: 'Native App',
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/callback', 'com.example.app:/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid offline_access',
};

/** First-party app: consent is skipped. */
export const TRUSTED_APP = {
  ...WEB_APP,
  client_id: 'first-party',
  client_secret: 'first-party-secret-0123456789-abcdefghijkl',
  client_name: 'First Party',
  redirect_uris: ['https://first.example.test/callback'],
  post_logout_redirect_uris: [],
  trusted: true,
};

/** Must use pushed authorization requests. */
export const PAR_APP = {
  ...WEB_APP,
  client_id: 'par-app',
  client_secret: 'par-app-secret-0123456789-abcdefghijklmnopq',
  client_name: 'PAR App',
  redirect_uris: ['https://par.example.test/callback'],
  post_logout_redirect_uris: [],
  require_par: true,
};

/** Machine to machine: client credentials only. */
export const SERVICE = {
  client_id: 'service',
  client_secret: 'service-secret-0123456789-abcdefghijklmnopq',
  grant_types: ['client_credentials'],
  scope: 'read',
  resources: [API],
};

/** Public app whose tokens must be sender-constrained (DPoP, RFC 9449). */
export const DPOP_APP = {
  client_id: 'dpop-app',
  client_name: 'DPoP App',
  redirect_uris: ['https://dpop.example.test/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid offline_access read',
  resources: [API],
  require_dpop: true,
};

export const CLIENTS = [WEB_APP, OTHER_APP, SPA, NATIVE, TRUSTED_APP, PAR_APP, SERVICE, DPOP_APP];

export function oauthSettings(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    enabled: true,
    resources: [
      { indicator: API, scopes: ['read', 'write'] },
      { indicator: OTHER_API, scopes: ['admin'] },
    ],
    clients: CLIENTS,
    ...extra,
  };
}

export function startOAuthGatehouse(
  extra: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
  options: GatehouseOptions = {},
): Promise<TestServer> {
  return startGatehouse({ oauth: oauthSettings(extra), ...overrides }, options);
}

export interface ClientSetup {
  client_id: string;
  client_secret?: string;
}

/** openid-client configured by discovery; plain http is allowed only because tests run on localhost. */
export function discover(server: Pick<TestServer, 'url'>, setup: ClientSetup): Promise<client.Configuration> {
  return client.discovery(
    new URL(server.url),
    setup.client_id,
    setup.client_secret,
    setup.client_secret ? client.ClientSecretBasic(setup.client_secret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  );
}

export interface PkceRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** An authorization URL with PKCE (S256), state and nonce, as a relying party builds it. */
export async function authorizationRequest(
  config: client.Configuration,
  parameters: Record<string, string> = {},
): Promise<PkceRequest> {
  return pkceRequest(parameters, async (all) => client.buildAuthorizationUrl(config, all));
}

/** PKCE (S256), state and nonce around `parameters`, and the URL `build` makes of them all. */
async function pkceRequest(
  parameters: Record<string, string>,
  build: (all: Record<string, string>) => Promise<URL>,
): Promise<PkceRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await build({
    redirect_uri: CALLBACK,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });
  return { url, verifier, state, nonce };
}

export interface AuthorizationOutcome {
  /** Where the provider finally sent the browser: the client's redirect URI (with code or error). */
  callback: URL | null;
  /** Gatehouse's sign-in page, when the user agent was sent there instead. */
  signIn: URL | null;
  /** The consent page was shown (and answered). */
  consentShown: boolean;
  /** The last response, when it was neither a redirect to the client nor to sign-in (an error page). */
  stoppedAt: { status: number; text: string } | null;
}

/**
 * Follows an authorization request like a browser whose user answers the consent page with
 * `consent`. Stops at the client's redirect URI, at /sign-in, or at any other non-redirect answer.
 */
export async function followAuthorization(
  server: Pick<TestServer, 'url' | 'origin'>,
  agent: TestClient,
  start: URL,
  consent: 'allow' | 'deny' = 'allow',
): Promise<AuthorizationOutcome> {
  let next: URL = start;
  let consentShown = false;
  for (let hops = 0; hops < 20; hops++) {
    if (next.origin !== server.origin) return { callback: next, signIn: null, consentShown, stoppedAt: null };
    if (next.pathname === '/sign-in') return { callback: null, signIn: next, consentShown, stoppedAt: null };
    const response = await agent.get(next.pathname + next.search);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      next = new URL(location, server.url);
      continue;
    }
    if (
      response.status === 200 &&
      next.pathname.startsWith('/interaction/') &&
      /data-page="consent"/.test(response.text)
    ) {
      consentShown = true;
      const answer = await agent.post(`${next.pathname}/consent`, { decision: consent });
      if (answer.status !== 200) return { callback: null, signIn: null, consentShown, stoppedAt: answer };
      next = new URL(answer.body.redirectTo, server.url);
      continue;
    }
    return {
      callback: null,
      signIn: null,
      consentShown,
      stoppedAt: { status: response.status, text: response.text },
    };
  }
  throw new Error('too many redirects');
}

/**
 * The interaction page that asks a signed-in user to confirm it's them (prompt=login, max_age,
 * acr_values), read from where followAuthorization stopped: the interaction to resume after the
 * step-up, and the step-up brief the page hands the prompt.
 */
export function reauthenticationPage(server: Pick<TestServer, 'url'>, outcome: AuthorizationOutcome) {
  const text = outcome.stoppedAt?.text ?? '';
  assert.match(text, /data-page="oauth-reauth"/, `the re-authentication page, got ${text.slice(0, 200)}`);
  const uid = /data-uid="([^"]+)"/.exec(text)?.[1];
  const brief = /data-requirement="([^"]+)"/.exec(text)?.[1];
  assert.ok(uid && brief);
  return {
    resume: new URL(`/interaction/${uid}`, server.url),
    requirement: JSON.parse(brief.replace(/&quot;/g, '"').replace(/&amp;/g, '&')),
    text,
  };
}

/**
 * An authorization code for `setup`, fetched as the signed-in agent (consent answered), not yet
 * redeemed: the client's configuration, the PKCE request, the callback URL with the code, and
 * the checks openid-client's authorizationCodeGrant takes.
 */
export async function authorizedCode(
  server: Pick<TestServer, 'url' | 'origin'>,
  agent: TestClient,
  setup: ClientSetup = WEB_APP,
  parameters: Record<string, string> = {},
) {
  const config = await discover(server, setup);
  const request = await authorizationRequest(config, {
    scope: 'openid offline_access',
    prompt: 'consent',
    ...parameters,
  });
  const outcome = await followAuthorization(server, agent, request.url);
  const callback = outcome.callback;
  const code = callback?.searchParams.get('code');
  if (!callback || !code) assert.fail(JSON.stringify(outcome).slice(0, 300));
  const checks = {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  };
  return { config, request, callback, code, checks };
}

/** The whole code flow: authorize as the signed-in agent, then redeem the code with openid-client. */
export async function codeFlow(
  server: Pick<TestServer, 'url' | 'origin'>,
  agent: TestClient,
  config: client.Configuration,
  parameters: Record<string, string> = {},
): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const request = await authorizationRequest(config, parameters);
  const outcome = await followAuthorization(server, agent, request.url);
  if (!outcome.callback)
    throw new Error(`authorization did not reach the client: ${JSON.stringify(outcome).slice(0, 500)}`);
  return client.authorizationCodeGrant(config, outcome.callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}

/** Decodes a JWT's header and payload without verifying (for assertions on what was issued). */
export function decodeJwt(jwt: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header = '', payload = ''] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** A raw form POST to the provider with HTTP Basic client authentication (for requests libraries refuse to make). */
export async function providerPost(
  server: TestServer,
  path: string,
  form: Record<string, string>,
  setup?: ClientSetup,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (setup?.client_secret)
    headers['authorization'] = `Basic ${Buffer.from(
      `${encodeURIComponent(setup.client_id)}:${encodeURIComponent(setup.client_secret)}`,
    ).toString('base64')}`;
  else if (setup) form = { client_id: setup.client_id, ...form };
  const response = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
  };
}

/**
 * The error a refused call threw (openid-client's and oauth4webapi's errors carry the OAuth
 * `error`, the HTTP `status` and the `cause`); fails the test when the call succeeded.
 */
export async function refusalOf(
  promise: Promise<unknown>,
): Promise<{ error?: string; status?: number; cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { error?: string; status?: number; cause?: unknown };
  }
  assert.fail('expected the request to be refused');
}

/**
 * A pushed authorization request (RFC 9126) with PKCE (S256), state and nonce: the parameters
 * go to /oauth/par first (with the client's authentication), and the URL the browser follows
 * carries only `client_id` and the `request_uri` it got back.
 */
export async function pushedAuthorizationRequest(
  config: client.Configuration,
  parameters: Record<string, string> = {},
): Promise<PkceRequest> {
  return pkceRequest(parameters, (all) => client.buildAuthorizationUrlWithPAR(config, all));
}

/**
 * A client that must push its authorization requests: a plain one is refused (assertPushRequired)
 * and a pushed one reaches a code, redeemed here. Returns the tokens.
 */
export async function assertOnlyPushedRequestsWork(
  server: Pick<TestServer, 'url' | 'origin'>,
  agent: TestClient,
  config: client.Configuration,
  parameters: Record<string, string> = {},
) {
  const plain = await authorizationRequest(config, parameters);
  assertPushRequired(
    await followAuthorization(server, agent, plain.url),
    parameters['redirect_uri'] ?? CALLBACK,
  );
  const pushed = await pushedAuthorizationRequest(config, parameters);
  assert.deepEqual([...pushed.url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  const outcome = await followAuthorization(server, agent, pushed.url);
  assert.ok(outcome.callback, JSON.stringify(outcome).slice(0, 300));
  assert.ok(outcome.callback.searchParams.get('code'), outcome.callback.href);
  return client.authorizationCodeGrant(config, outcome.callback, {
    pkceCodeVerifier: pushed.verifier,
    expectedState: pushed.state,
    expectedNonce: pushed.nonce,
  });
}

/**
 * A plain (not pushed) authorization request from a client that must push it (RFC 9126
 * `require_pushed_authorization_requests`) was refused: back at the client's redirect URI with
 * `invalid_request` and no code, so parameters a browser could tamper with never reach a grant.
 */
function assertPushRequired(outcome: AuthorizationOutcome, redirectUri: string | undefined): void {
  const callback = outcome.callback;
  assert.ok(callback, `not sent back to the client: ${JSON.stringify(outcome).slice(0, 300)}`);
  assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
  assert.equal(callback.searchParams.get('code'), null, 'no code');
  assert.equal(callback.searchParams.get('error'), 'invalid_request');
  assert.match(callback.searchParams.get('error_description') ?? '', /Pushed Authorization Request/);
}

/**
 * A confidential client that must use DPoP (`require_dpop`, RFC 9449 `dpop_bound_access_tokens`),
 * so a stolen token is useless without the client's key: a client-credentials request without a
 * proof is refused (`invalid_grant`), and one with a proof gets a DPoP token bound to the proof's
 * key (`cnf.jkt`, RFC 9449 §6.1). Returns that token.
 */
export async function assertClientCredentialsNeedDpop(
  server: TestServer,
  setup: ClientSetup,
  scope = 'read',
): Promise<string> {
  const refused = await providerPost(
    server,
    '/oauth/token',
    { grant_type: 'client_credentials', scope },
    setup,
  );
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body['error'], 'invalid_grant');
  assert.equal(refused.body['access_token'], undefined);
  // The same request with a proof succeeds: the proof was all that was missing (the engine
  // keeps the reason, "DPoP proof JWT not provided", out of its generic invalid_grant answer).
  const keyPair = await client.randomDPoPKeyPair();
  const config = await discover(server, setup);
  const tokens = await client.clientCredentialsGrant(
    config,
    { scope },
    { DPoP: client.getDPoPHandle(config, keyPair) },
  );
  assert.equal(tokens.token_type, 'dpop');
  const { cnf } = decodeJwt(tokens.access_token).payload as { cnf?: { jkt?: string } };
  assert.equal(cnf?.jkt, await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)));
  return tokens.access_token;
}
