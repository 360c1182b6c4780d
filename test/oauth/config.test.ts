import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, configWarnings, loadConfig } from '../../src/config/load.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse } from '../support/server.ts';
import { oauthSettings, WEB_APP } from '../support/oauth.ts';

const base = {
  env: 'test',
  secret: 'config-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  dataDir: '/tmp/gatehouse-oauth-config',
};

describe('OAuth provider configuration', () => {
  test('off by default: no provider path, no interaction page, no connected-apps API', async () => {
    const server = await startGatehouse();
    try {
      assert.equal(server.services.oauth, null);
      assert.equal(server.services.config.oauth.enabled, false);
      const agent = new TestClient(server.url);
      for (const path of [
        '/.well-known/openid-configuration',
        '/oauth/jwks',
        '/interaction/abc',
        '/api/v1/connected-apps',
      ]) {
        assert.equal((await agent.get(path)).status, 404, path);
      }
      const token = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        body: 'grant_type=client_credentials',
      });
      assert.equal(token.status, 404);
      const tables = await server.services.database.db.selectFrom('oauth_signing_keys').selectAll().execute();
      assert.equal(tables.length, 0, 'no keys generated');
    } finally {
      await server.close();
    }
  });

  test('clients that break the profile stop the start with the reason', () => {
    const bad = (client: Record<string, unknown>) => () =>
      loadConfig({}, { ...base, oauth: oauthSettings({ clients: [{ ...WEB_APP, ...client }] }) });
    assert.throws(
      bad({ redirect_uris: ['http://app.example.test/cb'] }),
      (e: Error) => e instanceof ConfigError && /https/.test(e.message),
    );
    assert.throws(bad({ client_secret: 'short' }), /at least 32/);
    assert.throws(bad({ grant_types: ['password'] }), ConfigError);
    assert.throws(bad({ resources: ['https://undeclared.example.test'] }), /not in oauth.resources/);
    assert.throws(bad({ redirect_uris: [`${WEB_APP.redirect_uris[0]}#frag`] }), /fragment/);
    assert.throws(
      () => loadConfig({}, { ...base, oauth: oauthSettings({ clients: [WEB_APP, WEB_APP] }) }),
      /listed twice/,
    );
  });

  test('settings looser than the profile are allowed, with a warning each', () => {
    const strict = loadConfig({}, { ...base, oauth: oauthSettings() });
    assert.deepEqual(
      configWarnings(strict).filter((w) => w.startsWith('oauth')),
      [],
    );
    const loose = loadConfig(
      {},
      {
        ...base,
        oauth: oauthSettings({
          accessTokenTtlMs: 3_600_000,
          clientCredentialsTtlMs: 3_600_000,
          authorizationCodeTtlMs: 600_000,
          refreshTokenAbsoluteMs: 90 * 86_400_000,
          refreshGraceMs: 30_000,
        }),
      },
    );
    const warnings = configWarnings(loose).filter((w) => w.startsWith('oauth'));
    assert.equal(warnings.length, 5, warnings.join('\n'));
    assert.throws(
      () => loadConfig({}, { ...base, oauth: oauthSettings({ authorizationCodeTtlMs: 3_600_000 }) }),
      ConfigError,
    );
  });
});
