import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AUDIT_CHAIN_KEY_PURPOSE } from '../../src/domain/audit/chain.ts';
import { verifyChain } from '../../src/domain/audit/chain-verifier.ts';
import { deriveKey } from '../../src/domain/crypto/secrets.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { databaseTargets, type OpenedDatabase, skipReason } from '../support/databases.ts';
import { TestClient } from '../support/http-client.ts';
import { DAY, sessionRecord } from '../support/records.ts';
import { type PrivateRedis, redisSkipReason, startPrivateRedis } from '../support/redis.ts';
import { authorizedCode, CALLBACK, providerPost, startOAuthGatehouse, WEB_APP } from '../support/oauth.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const postgres = databaseTargets().find((target) => target.name === 'postgres')!;
const skip = (await skipReason(postgres)) ?? (await redisSkipReason());

/** Passkey sign-in options: a limited endpoint no other test here calls. */
const LIMITED = '/api/v1/passkeys/sign-in/options';
const LIMIT = 4;

const percentile = (values: number[], p: number): number =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

/**
 * DESIGN §1/§3: any number of Gatehouse nodes on one PostgreSQL and one Redis serve the same
 * users. Two real nodes (two createGatehouse instances, each on its own port and with its own
 * connection pool, Redis connection, mail worker and pruning job) share a fresh database and
 * a redis-server of this test's own.
 */
describe('two nodes on one PostgreSQL and Redis', { skip }, () => {
  let database: OpenedDatabase;
  let redis: PrivateRedis;
  let a: TestServer;
  let b: TestServer;
  let userId: string;

  before(async () => {
    database = await postgres.open();
    redis = await startPrivateRedis();
    const shared = {
      databaseUrl: database.location.databaseUrl,
      redisUrl: redis.url,
      rateLimits: { mailPerAddress: { limit: 1000 }, passkeySignInOptions: { perIp: { limit: LIMIT } } },
    };
    a = await startGatehouse(shared);
    b = await startGatehouse(shared);
    userId = await signInWithEmail(a, new TestClient(a.url), 'both@example.com');
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.dispose();
    await database?.dispose();
  });

  /** A client of `server` holding `token`. */
  function holding(server: TestServer, token: string): TestClient {
    const client = new TestClient(server.url);
    client.cookies.set(SESSION_COOKIE, token);
    return client;
  }

  async function issue(): Promise<{ token: string; sessionId: string }> {
    const { token, session } = await a.services.sessions.issue(userId, ['otp'], {
      ip: '127.0.0.1',
      userAgent: 'test',
      requestId: null,
    });
    return { token, sessionId: session.id };
  }

  test('a session signed in on one node is valid on the other', async () => {
    const onA = new TestClient(a.url);
    const id = await signInWithEmail(a, onA, 'roaming@example.com');
    const onB = holding(b, onA.cookies.get(SESSION_COOKIE)!);
    const answer = await onB.get('/api/v1/session');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.user.id, id);
    assert.equal((await onB.get('/api/v1/sessions')).body.sessions.length, 1);
  });

  test('a revocation on one node takes effect on the very next request to the other', async (t) => {
    // No session cache on any node: every request reads the database, so there is nothing to
    // propagate. Measured: from the revoking response on A to the other node's refusal.
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const { token } = await issue();
      const onA = holding(a, token);
      const onB = holding(b, token);
      assert.equal((await onB.get('/api/v1/session')).status, 200);
      assert.equal((await onA.delete('/api/v1/session')).status, 204);
      const revoked = performance.now();
      const next = await onB.get('/api/v1/session');
      samples.push(performance.now() - revoked);
      assert.equal(next.status, 401, `trial ${i}: the first request after the revocation`);
    }
    // The other revocations: one session by id, and "everywhere else", each made on B.
    const victim = await issue();
    const keeper = await issue();
    const keeperOnB = holding(b, keeper.token);
    assert.equal((await keeperOnB.delete(`/api/v1/sessions/${victim.sessionId}`)).status, 204);
    assert.equal((await holding(a, victim.token).get('/api/v1/session')).status, 401);
    const other = await issue();
    assert.equal((await keeperOnB.post('/api/v1/sessions/revoke-others')).status, 200);
    assert.equal((await holding(a, other.token).get('/api/v1/session')).status, 401);
    assert.equal((await holding(a, keeper.token).get('/api/v1/session')).status, 200);
    t.diagnostic(
      `revocation on A → refused on B: p50 ${percentile(samples, 50).toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms (one request to B; no delay beyond it)`,
    );
  });

  test('rate limits are shared: the nodes count against one budget in Redis', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const node = i % 2 === 0 ? a : b;
      statuses.push((await new TestClient(node.url).post(LIMITED, {})).status);
    }
    // Counted per node, each would allow LIMIT requests (2 × LIMIT in all).
    assert.deepEqual(statuses, [...Array(LIMIT).fill(200), 429, 429]);
  });

  test('pruning runs on one node per interval, not on each', async () => {
    const expired = sessionRecord(userId, {
      expiresAt: Date.now() - DAY,
      absoluteExpiresAt: Date.now() - DAY,
    });
    await a.services.stores.sessions.create(expired);
    const ran = await Promise.all([a.services.pruning.runOnce(), b.services.pruning.runOnce()]);
    assert.equal(ran.filter(Boolean).length, 1, `ran: ${ran}`);
    assert.deepEqual(
      await b.services.database.db.selectFrom('sessions').where('id', '=', expired.id).selectAll().execute(),
      [],
    );
    // Later in the same interval, neither node runs it again.
    assert.deepEqual(await Promise.all([b.services.pruning.runOnce(), a.services.pruning.runOnce()]), [
      false,
      false,
    ]);
  });

  test('the mail outbox sends each message once, with both nodes’ workers running', async () => {
    const count = 40;
    const addresses = Array.from({ length: count }, (_, i) => `mail-${i}@example.com`);
    const requests = addresses.map((email, i) =>
      new TestClient((i % 2 ? b : a).url).post('/api/v1/email/sign-in', { email }),
    );
    assert.ok((await Promise.all(requests)).every((response) => response.status === 202));
    const { db } = a.services.database;
    const delivered = async () =>
      db.selectFrom('dev_mailbox').select('to_address').where('to_address', 'in', addresses).execute();
    const deadline = Date.now() + 10_000;
    while ((await delivered()).length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Both workers keep polling (every 50 ms here): give a duplicate time to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rows = await delivered();
    assert.equal(rows.length, count, 'each message delivered exactly once');
    assert.equal(new Set(rows.map((r) => r.to_address)).size, count);
    const outbox = await db.selectFrom('mail_outbox').select(['status', 'attempts']).execute();
    assert.ok(outbox.every((m) => m.status === 'sent' && m.attempts === 0));
  });

  test('both nodes append to one valid audit chain', async () => {
    const report = await verifyChain(
      deriveKey(a.services.config.secret, AUDIT_CHAIN_KEY_PURPOSE),
      a.services.stores.audit,
    );
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    const [{ n }] = (await a.services.database.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .execute()) as [{ n: number }];
    assert.equal(report.verified, Number(n), 'every event, from either node, is in the chain');
    assert.ok(report.verified > 60, 'sign-ins, sign-outs and mail requests on both nodes');
  });
});

/**
 * Issue #5 on a cluster: with Redis, the provider's short-lived records (here the authorization
 * code) are where every node finds them. Node B is configured with node A's origin, as nodes
 * behind one load balancer are, and redeems the code node A issued; the replay on A is refused.
 */
describe('two nodes: an OAuth code issued on one is redeemed on the other', { skip }, () => {
  let database: OpenedDatabase;
  let redis: PrivateRedis;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    database = await postgres.open();
    redis = await startPrivateRedis();
    const shared = { databaseUrl: database.location.databaseUrl, redisUrl: redis.url };
    a = await startOAuthGatehouse({}, shared);
    // Started after A, which generated the signing keys both now share.
    b = await startOAuthGatehouse({}, { ...shared, origin: a.origin });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.dispose();
    await database?.dispose();
  });

  test('the code lives in Redis, not the database; B exchanges it; A refuses it again', async () => {
    const agent = new TestClient(a.url);
    await signInWithEmail(a, agent, 'cluster-oauth@example.com');
    const { request, code } = await authorizedCode(a, agent);
    const rows = await database.database.db
      .selectFrom('oauth_models')
      .select('id')
      .where('model', '=', 'AuthorizationCode')
      .execute();
    assert.equal(rows.length, 0, 'no node wrote the code to the database');
    const exchange = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      code_verifier: request.verifier,
    };
    const onB = await providerPost(b, '/oauth/token', exchange, WEB_APP);
    assert.equal(onB.status, 200, JSON.stringify(onB.body));
    assert.equal(typeof onB.body['refresh_token'], 'string');
    const again = await providerPost(a, '/oauth/token', exchange, WEB_APP);
    assert.equal(again.status, 400);
    assert.equal(again.body['error'], 'invalid_grant');
  });
});
