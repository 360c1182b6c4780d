import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { type GitHubAccount, GitHubServer } from '../support/github-server.ts';
import { TestClient, type TestResponse } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';

/**
 * The `github` preset: plain OAuth 2.0 (no ID token), identity from GitHub's REST API, against a
 * local server shaped like GitHub's endpoints.
 */
describe('federation: GitHub', () => {
  let github: GitHubServer;
  let server: TestServer;
  let serial = 100;

  before(async () => {
    github = await GitHubServer.start();
    server = await startGatehouse({
      federation: {
        providers: [
          {
            id: 'github',
            preset: 'github',
            issuer: github.url,
            apiUrl: github.url,
            clientId: github.clientId,
            clientSecret: github.clientSecret,
          },
        ],
      },
    });
  });

  after(async () => {
    await server?.close();
    await github?.close();
  });

  function account(emails: GitHubAccount['emails'] | null = null): GitHubAccount {
    serial++;
    return {
      id: serial,
      login: `octo${serial}`,
      name: `Octo ${serial}`,
      emails: emails ?? [
        { email: `octo${serial}@users.example.com`, primary: false, verified: true, visibility: null },
        { email: `octo${serial}@example.com`, primary: true, verified: true, visibility: 'private' },
      ],
    };
  }

  async function signIn(client: TestClient, who: GitHubAccount): Promise<TestResponse<any>> {
    const start = await client.get('/auth/github');
    assert.equal(start.status, 302);
    github.account = who;
    const back = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
    const callback = new URL(back.headers.get('location') ?? '');
    return client.get(callback.pathname + callback.search);
  }

  function notice(response: TestResponse<any>): string | null {
    return new URL(response.headers.get('location') ?? '', server.url).searchParams.get('federation');
  }

  test('signs in with the primary verified address, keyed by the numeric id; the access token is used and dropped', async () => {
    const client = new TestClient(server.url);
    const octo = account();
    const response = await signIn(client, octo);
    assert.equal(response.headers.get('location'), '/account');
    const request = github.authorizations.at(-1);
    assert.equal(request?.get('scope'), 'read:user user:email');
    assert.equal(request?.get('code_challenge_method'), 'S256');
    assert.equal(request?.get('nonce'), null, 'no ID token, so no nonce');
    const token = github.tokenRequests.at(-1);
    assert.equal(token?.get('client_secret'), github.clientSecret);
    assert.match(token?.get('code_verifier') ?? '', /^[A-Za-z0-9_-]{43}$/);
    for (const call of github.apiRequests.slice(-2)) {
      assert.equal(call.authorization, `Bearer ${github.issuedTokens.at(-1)}`);
      assert.equal(call.userAgent, 'Gatehouse');
    }

    const session = await client.get('/api/v1/session');
    assert.equal(session.body.user.email, `octo${octo.id}@example.com`);
    assert.equal(session.body.user.displayName, `Octo ${octo.id}`);
    assert.deepEqual(session.body.session.amr, ['fed']);
    const identity = await server.services.stores.federatedIdentities.findBySubject(
      github.url,
      String(octo.id),
    );
    assert.equal(identity?.userId, session.body.user.id);

    // A renamed login is the same person: the id is the key.
    const renamed = { ...octo, login: 'octo-renamed' };
    const later = new TestClient(server.url);
    await signIn(later, renamed);
    assert.equal((await later.get('/api/v1/session')).body.user.id, session.body.user.id);

    // No access token anywhere in the database: it was never a session or a stored credential.
    const { db } = server.services.database;
    const dump = JSON.stringify([
      (await sql`select * from sessions`.execute(db)).rows,
      (await sql`select * from federated_identities`.execute(db)).rows,
      (await sql`select * from audit_events`.execute(db)).rows,
    ]);
    for (const issued of github.issuedTokens) assert.equal(dump.includes(issued), false);
  });

  test('an unverified primary address is not used, even when another address is verified', async () => {
    const client = new TestClient(server.url);
    const octo = account([
      { email: `verified${serial}@example.com`, primary: false, verified: true, visibility: null },
      { email: `primary${serial}@example.com`, primary: true, verified: false, visibility: null },
    ]);
    assert.equal(notice(await signIn(client, octo)), 'email_unverified');
    assert.equal((await client.get('/api/v1/session')).status, 401);
  });

  test("GitHub's error answers (HTTP 200 with an `error`) fail the sign-in cleanly", async () => {
    const client = new TestClient(server.url);
    const start = await client.get('/auth/github');
    const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const response = await client.get(
      `/auth/github/callback?${new URLSearchParams({ code: 'wrong', state })}`,
    );
    assert.equal(notice(response), 'failed');
    const [event] = await server.services.stores.audit.list({ type: 'sign_in.federated', limit: 1 });
    assert.equal(event?.outcome, 'failure');
  });
});
