/**
 * OpenID Connect Back-Channel Logout 1.0 end to end: a real HTTP receiver stands in for the
 * app's back-channel logout endpoint, openid-client drives the app's side of sign-in, and every
 * logout token that arrives is verified with jose against the provider's JWKS as an app must
 * (§2.6: signature, iss, aud, iat, jti, the events claim, sub/sid, and no nonce).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { clientProblems } from '../../src/domain/oauth-provider/client-policy.ts';
import { ClientError, ClientRegistry } from '../../src/domain/oauth-provider/client-registry.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { operatorEnv, runCli } from '../support/cli.ts';
import { TestClient } from '../support/http-client.ts';
import {
  authorizationRequest,
  CALLBACK,
  CLIENTS,
  codeFlow,
  discover,
  followAuthorization,
  oauthSettings,
  SIGNED_OUT,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import type { TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Delivery {
  path: string;
  contentType: string | undefined;
  token: string;
}

/** The app's back-channel logout endpoint: records each POST; answers `status`, or holds the answer. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  status = 200;
  /** While set, answers wait for it: shows the provider does not wait for the app. */
  hold: Promise<void> | null = null;
  #server: Server | null = null;
  #waiters: Array<() => void> = [];
  port = 0;

  async start(): Promise<void> {
    this.#server = createServer((request, response) => void this.#handle(request, response));
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  uri(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    this.deliveries.push({
      path: request.url ?? '',
      contentType: request.headers['content-type'],
      token: form.get('logout_token') ?? '',
    });
    for (const wake of this.#waiters.splice(0)) wake();
    if (this.hold) await this.hold;
    response.writeHead(this.status, { 'cache-control': 'no-store' }).end();
  }

  /** Waits until `count` deliveries have arrived in all. */
  async received(count: number, timeoutMs = 5000): Promise<Delivery[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.deliveries.length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} logout tokens, got ${this.deliveries.length}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.deliveries;
  }

  reset(): void {
    this.deliveries.length = 0;
    this.status = 200;
    this.hold = null;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server?.closeAllConnections();
      this.#server?.close(() => resolve());
    });
  }
}

/** Fills in and submits the provider's logout form like a browser would. */
async function submitLogout(agent: TestClient, page: string) {
  const action = /<form id="logout-form" method="post" action="([^"]+)"/.exec(page)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(action && xsrf, 'a logout form');
  return agent.request(
    'POST',
    new URL(action.replace(/&amp;/g, '&')).pathname,
    new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    { 'content-type': 'application/x-www-form-urlencoded' },
  );
}

describe('OAuth provider: back-channel logout', () => {
  const receiver = new Receiver();
  let server: TestServer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  /** Logout tokens carry sid (backchannel_logout_session_required). */
  let withSid: typeof WEB_APP & {
    backchannel_logout_uri: string;
    backchannel_logout_session_required: boolean;
  };
  /** Logout tokens carry only sub. */
  let subOnly: typeof WEB_APP & { backchannel_logout_uri: string };

  before(async () => {
    await receiver.start();
    withSid = {
      ...WEB_APP,
      client_id: 'bcl-app',
      client_secret: 'bcl-app-secret-0123456789-abcdefghijklmnopq',
      client_name: 'Back-channel App',
      backchannel_logout_uri: receiver.uri('/backchannel/bcl-app'),
      backchannel_logout_session_required: true,
    };
    subOnly = {
      ...WEB_APP,
      client_id: 'bcl-sub',
      client_secret: 'bcl-sub-secret-0123456789-abcdefghijklmnopq',
      client_name: 'Back-channel App (sub only)',
      post_logout_redirect_uris: [],
      backchannel_logout_uri: receiver.uri('/backchannel/bcl-sub'),
    };
    server = await startOAuthGatehouse({ clients: [...CLIENTS, withSid, subOnly] });
    jwks = createRemoteJWKSet(new URL('/oauth/jwks', server.url));
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });
  beforeEach(async () => {
    await server.services.oauth?.backchannel.idle();
    receiver.reset();
  });

  /** An administrator through the admin API, as the disable and delete tests act. */
  const BY_API = {
    context: { ip: null, userAgent: null, requestId: null },
    actorId: null,
    sessionId: null,
    via: 'api',
  } as const;

  /** Verifies a logout token as §2.6 asks an app to, and returns its claims. */
  async function verifyLogoutToken(token: string, audience: string): Promise<JWTPayload> {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: server.origin,
      audience,
      typ: 'logout+jwt',
      algorithms: ['ES256'],
      requiredClaims: ['iat', 'jti', 'events', 'sub'],
      maxTokenAge: '2 minutes',
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.deepEqual(payload['events'], { [LOGOUT_EVENT]: {} });
    assert.equal(payload['nonce'], undefined, 'a logout token never carries a nonce');
    assert.equal(typeof payload.jti, 'string');
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 120, 'short-lived: two minutes');
    return payload;
  }

  /** One logout token for the session's app, naming the user and the session; the provider session gone. */
  async function expectSessionEnded(userId: string, sid: unknown): Promise<void> {
    const [delivery] = await receiver.received(1);
    assert.ok(delivery);
    const claims = await verifyLogoutToken(delivery.token, withSid.client_id);
    assert.equal(claims.sub, userId);
    assert.equal(claims['sid'], sid);
    await server.services.oauth?.backchannel.idle();
    assert.equal(
      (await server.services.stores.oauthModels.listByAccount('Session', userId, Date.now())).length,
      0,
      'the provider session is gone',
    );
  }

  async function signedInWith(email: string, setups: Array<{ client_id: string; client_secret: string }>) {
    const agent = new TestClient(server.url);
    const userId = await signInWithEmail(server, agent, email);
    const tokens = [];
    for (const setup of setups) tokens.push(await codeFlow(server, agent, await discover(server, setup)));
    return { agent, userId, tokens };
  }

  test('discovery advertises back-channel logout with sid', async () => {
    const discovery = (await fetch(new URL('/.well-known/openid-configuration', server.url)).then((r) =>
      r.json(),
    )) as Record<string, unknown>;
    assert.equal(discovery['backchannel_logout_supported'], true);
    assert.equal(discovery['backchannel_logout_session_supported'], true);
  });

  test('RP-initiated logout: every app of the session gets a verifiable logout token, after the browser has its answer', async () => {
    const { agent, userId, tokens } = await signedInWith('bcl-rp@example.com', [withSid, subOnly]);
    const [first, second] = tokens;
    assert.ok(first && second);
    const sid = first.claims()?.['sid'];
    assert.equal(
      typeof sid,
      'string',
      'the ID token names the session (backchannel_logout_session_required)',
    );
    assert.equal(second.claims()?.['sid'], undefined);

    // The app does not answer until released: the browser's logout must not wait for it.
    let release = () => {};
    receiver.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const url = client.buildEndSessionUrl(await discover(server, withSid), {
      id_token_hint: first.id_token!,
      post_logout_redirect_uri: SIGNED_OUT,
    });
    const page = await agent.get(url.pathname + url.search);
    const started = performance.now();
    const confirmed = await submitLogout(agent, page.text);
    const elapsed = performance.now() - started;
    assert.equal(confirmed.status, 303);
    assert.equal(new URL(confirmed.headers.get('location')!).origin, new URL(SIGNED_OUT).origin);
    // The provider's own fetch waits up to 2.5 s for each app; the answer came well before that.
    assert.ok(elapsed < 1000, `logout answered in ${Math.round(elapsed)} ms`);

    const deliveries = await receiver.received(2);
    release();
    const byPath = new Map(deliveries.map((delivery) => [delivery.path, delivery]));
    const one = byPath.get('/backchannel/bcl-app');
    const other = byPath.get('/backchannel/bcl-sub');
    assert.ok(one && other, 'both apps of the session were told');
    assert.equal(one.contentType, 'application/x-www-form-urlencoded');
    const claims = await verifyLogoutToken(one.token, withSid.client_id);
    assert.equal(claims.sub, userId);
    assert.equal(claims['sid'], sid, 'the sid of the ID token');
    const subClaims = await verifyLogoutToken(other.token, subOnly.client_id);
    assert.equal(subClaims.sub, userId);
    assert.equal(subClaims['sid'], undefined);
    assert.notEqual(claims.jti, subClaims.jti);
    // A token for one app is not accepted as another's (aud).
    await assert.rejects(verifyLogoutToken(one.token, subOnly.client_id));

    await server.services.oauth?.backchannel.idle();
    const events = await server.services.stores.audit.list({
      userId,
      type: 'oauth.backchannel_logout',
      limit: 10,
    });
    assert.deepEqual(
      events.map((event) => [event.outcome, event.details['clientId'], event.details['reason']]).sort(),
      [
        ['success', 'bcl-app', 'rp_logout'],
        ['success', 'bcl-sub', 'rp_logout'],
      ],
    );
  });

  test('signing out of Gatehouse sends logout tokens for the provider session behind it, and ends it', async () => {
    const { agent, userId, tokens } = await signedInWith('bcl-signout@example.com', [withSid]);
    const sid = tokens[0]?.claims()?.['sid'];
    assert.equal((await agent.delete('/api/v1/session')).status, 204);
    await expectSessionEnded(userId, sid);
    const [event] = await server.services.stores.audit.list({
      userId,
      type: 'oauth.backchannel_logout',
      limit: 1,
    });
    assert.equal(event?.details['reason'], 'session_ended');
    assert.equal(event?.outcome, 'success');
  });

  test('disabling the user ends their provider sessions and tells the apps', async () => {
    const { userId, tokens } = await signedInWith('bcl-disabled@example.com', [withSid]);
    const sid = tokens[0]?.claims()?.['sid'];
    await server.services.userAdministration.disable(userId, BY_API);
    await expectSessionEnded(userId, sid);
  });

  test('an administrator deleting the user ends their provider sessions and tells the apps', async () => {
    const { userId, tokens } = await signedInWith('bcl-deleted@example.com', [withSid]);
    const sid = tokens[0]?.claims()?.['sid'];
    await server.services.userAdministration.delete(userId, BY_API);
    await expectSessionEnded(userId, sid);
  });

  test('`gatehouse users disable` (the CLI, its own process) ends the provider sessions and tells the apps too', async () => {
    const { userId, tokens } = await signedInWith('bcl-cli@example.com', [withSid]);
    const sid = tokens[0]?.claims()?.['sid'];
    // The operator runs the CLI with the server's configuration, as docs/operations.md says.
    const cli = await runCli(['users', 'disable', '--id', userId], {
      ...operatorEnv(server, oauthSettings({ clients: [...CLIENTS, withSid, subOnly] })),
      GATEHOUSE_LOG_LEVEL: 'warn',
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(JSON.parse(cli.stdout).id, userId);
    // Delivered before the command exited: nothing is left to wait for.
    assert.equal(receiver.deliveries.length, 1);
    await expectSessionEnded(userId, sid);
    const [event] = await server.services.stores.audit.list({
      userId,
      type: 'oauth.backchannel_logout',
      limit: 1,
    });
    assert.equal(event?.outcome, 'success');
    assert.equal(event?.details['reason'], 'session_ended');
  });

  test('revoking one session tells the apps of that session only; the other device stays signed in', async () => {
    const laptop = await signedInWith('bcl-devices@example.com', [withSid]);
    // A provider session is paired with its Gatehouse session by user and auth time in whole
    // seconds (the ID token's auth_time): two sign-ins in one second cannot be told apart.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
    const phone = await signedInWith('bcl-devices@example.com', [withSid]);
    const laptopSid = laptop.tokens[0]?.claims()?.['sid'];
    const phoneSid = phone.tokens[0]?.claims()?.['sid'];
    assert.notEqual(laptopSid, phoneSid);
    const { body } = await phone.agent.get('/api/v1/sessions');
    const other = body.sessions.find((session: { current: boolean }) => !session.current);
    assert.equal((await phone.agent.delete(`/api/v1/sessions/${other.id}`)).status, 204);
    const [delivery] = await receiver.received(1);
    assert.equal((await verifyLogoutToken(delivery!.token, withSid.client_id))['sid'], laptopSid);
    await server.services.oauth?.backchannel.idle();
    assert.equal(receiver.deliveries.length, 1, 'no logout token for the phone’s session');
    // The phone's provider session still works without any prompt.
    const config = await discover(server, withSid);
    const silent = await followAuthorization(
      server,
      phone.agent,
      (await authorizationRequest(config, { prompt: 'none', redirect_uri: CALLBACK })).url,
    );
    assert.ok(silent.callback?.searchParams.get('code'));
  });

  test('disconnecting an app sends it a logout token for each session it was part of', async () => {
    const { agent, userId, tokens } = await signedInWith('bcl-apps@example.com', [withSid]);
    assert.equal((await agent.delete(`/api/v1/connected-apps/${withSid.client_id}`)).status, 204);
    const [delivery] = await receiver.received(1);
    const claims = await verifyLogoutToken(delivery!.token, withSid.client_id);
    assert.equal(claims.sub, userId);
    assert.equal(claims['sid'], tokens[0]?.claims()?.['sid']);
    await server.services.oauth?.backchannel.idle();
    const [event] = await server.services.stores.audit.list({
      userId,
      type: 'oauth.backchannel_logout',
      limit: 1,
    });
    assert.equal(event?.details['reason'], 'app_revoked');
    // The Gatehouse session and the provider session carry on; signing out later does not tell
    // the disconnected app again.
    assert.equal((await agent.get('/api/v1/session')).status, 200);
    assert.equal((await agent.delete('/api/v1/session')).status, 204);
    await server.services.oauth?.backchannel.idle();
    assert.equal(receiver.deliveries.length, 1);
  });

  test('an app that fails to answer: the user is signed out all the same, the failure is logged and audited', async () => {
    receiver.status = 500;
    const { agent, userId } = await signedInWith('bcl-failure@example.com', [withSid]);
    assert.equal((await agent.delete('/api/v1/session')).status, 204);
    await receiver.received(1);
    await server.services.oauth?.backchannel.idle();
    const [event] = await server.services.stores.audit.list({
      userId,
      type: 'oauth.backchannel_logout',
      limit: 1,
    });
    assert.equal(event?.outcome, 'failure');
    assert.equal(event?.details['clientId'], withSid.client_id);
    assert.match(String(event?.details['error']), /500/);
    assert.doesNotMatch(JSON.stringify(event?.details), /eyJ/, 'no token in the audit log');
    assert.equal((await agent.get('/api/v1/session')).status, 401);
  });

  test('apps without a back-channel logout URI are never called', async () => {
    const { agent } = await signedInWith('bcl-none@example.com', [WEB_APP]);
    assert.equal((await agent.delete('/api/v1/session')).status, 204);
    await server.services.oauth?.backchannel.idle();
    assert.equal(receiver.deliveries.length, 0);
  });

  test('back-channel logout URIs: https, or http on loopback outside production only', async () => {
    const base = { ...withSid, grant_types: ['authorization_code' as const] };
    const problems = (uri: string, loopbackHttp: boolean) =>
      clientProblems(
        {
          ...base,
          backchannel_logout_uri: uri,
          trusted: false,
          require_par: false,
          require_dpop: false,
          application_type: 'web',
          resources: [],
        },
        true,
        { loopbackHttp },
      );
    assert.deepEqual(problems('https://app.example.test/backchannel', false), []);
    assert.deepEqual(problems('http://127.0.0.1:4000/backchannel', true), []);
    for (const uri of [
      'http://app.example.test/backchannel',
      'https://app.example.test/backchannel#x',
      'https://user:pw@app.example.test/backchannel',
      'javascript:alert(1)',
      'not a uri',
    ])
      assert.notDeepEqual(problems(uri, true), [], uri);
    assert.match(problems('http://127.0.0.1:4000/backchannel', false).join(), /https/);
    // Production: a config-file client with an http loopback URI stops the start.
    const { client_secret: _secret, ...definition } = withSid;
    assert.throws(
      () =>
        new ClientRegistry(
          [
            {
              ...definition,
              client_secret: withSid.client_secret,
              application_type: 'web',
              trusted: false,
              require_par: false,
              require_dpop: false,
              access_token_format: 'jwt',
              resources: [],
              grant_types: ['authorization_code', 'refresh_token'],
            },
          ],
          [],
          server.services.stores.oauthClients,
          systemClock,
          { loopbackHttp: false },
        ),
      (error: unknown) => error instanceof ClientError && /backchannel_logout_uri/.test(error.message),
    );
  });
});
