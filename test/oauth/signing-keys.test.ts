import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { createGatehouse } from '../../src/container.ts';
import { TestClient } from '../support/http-client.ts';
import { codeFlow, decodeJwt, discover, SERVICE, startOAuthGatehouse, WEB_APP } from '../support/oauth.ts';
import { TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const HOUR = 3_600_000;

describe('OAuth provider: signing keys', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startOAuthGatehouse({}, {}, { clock });
  });
  after(() => server.close());

  const jwks = async (): Promise<{ keys: Array<Record<string, unknown>> }> =>
    (await fetch(`${server.url}/oauth/jwks`)).json();
  const kids = async (): Promise<string[]> => (await jwks()).keys.map((key) => String(key['kid']));
  const accessTokenKid = async (): Promise<string> => {
    const tokens = await client.clientCredentialsGrant(await discover(server, SERVICE), { scope: 'read' });
    return String(decodeJwt(tokens.access_token).header['kid']);
  };

  test('generated on first start: one ES256 and one RS256 key, public parts published, sealed at rest', async () => {
    const published = (await jwks()).keys;
    assert.deepEqual(published.map((key) => key['alg']).sort(), ['ES256', 'RS256']);
    for (const key of published) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
        assert.equal(key[secret], undefined, `no ${secret}`);
    }
    const rows = await server.services.database.db.selectFrom('oauth_signing_keys').selectAll().execute();
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.sealed_jwk.split('.').length, 5, 'a JWE (AES-256-GCM)');
      assert.ok(!row.sealed_jwk.includes('"d"'));
    }
    // Another node (or a restart) on the same database uses the same keys.
    const again = await createGatehouse(server.services.config, { clock });
    try {
      assert.equal(
        (await again.services.oauth!.keys.current()).fingerprint,
        (await server.services.oauth!.keys.current()).fingerprint,
      );
    } finally {
      await again.close();
    }
  });

  test('rotation: the new key is published before it signs; the old one stays published until its tokens expire', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'keys@example.com');
    const web = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, agent, web, { scope: 'openid offline_access', prompt: 'consent' });
    const oldKid = await accessTokenKid();
    const oldIdToken = tokens.id_token!;

    const rotated = await server.services.oauth!.keys.rotate();
    const newKid = rotated.find((key) => key.alg === 'ES256')!.kid;
    await server.services.oauth!.refreshKeys();
    assert.ok((await kids()).includes(newKid), 'published at once');
    assert.equal(await accessTokenKid(), oldKid, 'not signing yet');

    clock.advance(server.services.config.oauth.keyPublishLeadMs);
    await server.services.oauth!.refreshKeys();
    assert.equal(await accessTokenKid(), newKid, 'signs after the lead time');
    assert.ok((await kids()).includes(oldKid), 'the old key is still published');
    const localJwks = createLocalJWKSet(await jwks());
    await jwtVerify(oldIdToken, localJwks, {
      issuer: server.url,
      currentDate: new Date((decodeJwt(oldIdToken).payload['iat'] as number) * 1000),
    });
    // State lives in the database: the rebuilt provider honours tokens issued before.
    assert.ok((await client.refreshTokenGrant(web, tokens.refresh_token!)).refresh_token);

    clock.advance(server.services.config.oauth.idTokenTtlMs + HOUR);
    await server.services.oauth!.refreshKeys();
    assert.ok(!(await kids()).includes(oldKid), 'withdrawn once every token it signed has expired');
    assert.equal(
      (
        await server.services.database.db
          .selectFrom('oauth_signing_keys')
          .select('kid')
          .where('kid', '=', oldKid)
          .execute()
      ).length,
      0,
    );
  });
});
