import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ConfigError, configWarnings, loadConfig } from '../../src/config/load.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse } from '../support/server.ts';
import {
  assertOnlyPushedRequestsWork,
  discover,
  oauthSettings,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

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
  test('refresh tokens: 30 days absolute and the idle lifetime docs/oauth.md states, by default', () => {
    const { oauth } = loadConfig({}, { ...base, oauth: { enabled: true } });
    assert.equal(oauth.refreshTokenAbsoluteMs, 30 * DAY);
    const documented = /Lifetime: (\d+) days idle, (\d+) days absolute/.exec(
      readFileSync(new URL('../../docs/oauth.md', import.meta.url), 'utf8').replace(/\s+/g, ' '),
    );
    assert.ok(documented, 'docs/oauth.md states the refresh token lifetimes');
    assert.equal(oauth.refreshTokenIdleMs, Number(documented[1]) * DAY);
    assert.equal(oauth.refreshTokenAbsoluteMs, Number(documented[2]) * DAY);
  });

  /**
   * Each setting that loosens the profile, with a looser value that must warn and values at or
   * inside the profile that must not. Each case is its own test: removing one warning fails it.
   */
  const loosened: {
    setting: string;
    weakens: RegExp;
    loose: Record<string, unknown>[];
    strict: Record<string, unknown>[];
  }[] = [
    {
      setting: 'oauth.idTokenTtlMs',
      weakens: /leaked ID token/,
      loose: [{ idTokenTtlMs: 2 * HOUR }],
      strict: [{ idTokenTtlMs: HOUR }, { idTokenTtlMs: 5 * MINUTE }],
    },
    {
      setting: 'oauth.refreshTokenIdleMs',
      weakens: /unused refresh token/,
      loose: [{ refreshTokenIdleMs: 15 * DAY }, { refreshTokenIdleMs: 30 * DAY }],
      strict: [{ refreshTokenIdleMs: 14 * DAY }, { refreshTokenIdleMs: DAY }],
    },
    {
      setting: 'oauth.keyPublishLeadMs',
      weakens: /before apps caching the JWKS know it/,
      loose: [{ keyPublishLeadMs: 0 }, { keyPublishLeadMs: 59 * MINUTE }],
      strict: [{ keyPublishLeadMs: HOUR }, { keyPublishLeadMs: DAY }],
    },
    {
      setting: 'oauth.deviceFlow.userCodeTtlMs',
      weakens: /guessed or phished for longer/,
      loose: [{ deviceFlow: { userCodeTtlMs: 11 * MINUTE } }, { deviceFlow: { userCodeTtlMs: 30 * MINUTE } }],
      strict: [{ deviceFlow: { userCodeTtlMs: 10 * MINUTE } }, { deviceFlow: { userCodeTtlMs: 5 * MINUTE } }],
    },
    {
      setting: 'oauth.deviceFlow.pollIntervalMs',
      weakens: /poll more often/,
      loose: [{ deviceFlow: { pollIntervalMs: 1000 } }, { deviceFlow: { pollIntervalMs: 4000 } }],
      strict: [{ deviceFlow: { pollIntervalMs: 5000 } }, { deviceFlow: { pollIntervalMs: 10_000 } }],
    },
    {
      setting: 'oauth.deviceFlow.userCodeAttempts.perIp',
      weakens: /guessed faster/,
      loose: [
        { deviceFlow: { userCodeAttempts: { perIp: { limit: 31 } } } },
        // The same count in a third of the window: three times the rate.
        { deviceFlow: { userCodeAttempts: { perIp: { windowMs: 5 * MINUTE } } } },
        // The same rate, but a burst of 60 at once.
        { deviceFlow: { userCodeAttempts: { perIp: { limit: 60, windowMs: 30 * MINUTE } } } },
      ],
      strict: [
        { deviceFlow: { userCodeAttempts: { perIp: { limit: 30, windowMs: 15 * MINUTE } } } },
        // A shorter window but fewer attempts: slower than the profile.
        { deviceFlow: { userCodeAttempts: { perIp: { limit: 10, windowMs: 10 * MINUTE } } } },
      ],
    },
    {
      setting: 'oauth.deviceFlow.userCodeAttempts.perIdentifier',
      weakens: /guessed faster/,
      loose: [
        { deviceFlow: { userCodeAttempts: { perIdentifier: { limit: 21 } } } },
        { deviceFlow: { userCodeAttempts: { perIdentifier: { windowMs: 14 * MINUTE } } } },
      ],
      strict: [{ deviceFlow: { userCodeAttempts: { perIdentifier: { limit: 5, windowMs: HOUR } } } }],
    },
    {
      setting: 'oauth.deviceFlow.userCodeAttempts.global',
      weakens: /guessed faster/,
      loose: [
        { deviceFlow: { userCodeAttempts: { global: { limit: 1001 } } } },
        { deviceFlow: { userCodeAttempts: { global: { windowMs: 30_000 } } } },
      ],
      strict: [{ deviceFlow: { userCodeAttempts: { global: { limit: 1000, windowMs: MINUTE } } } }],
    },
  ];

  for (const { setting, weakens, loose, strict } of loosened) {
    test(`${setting} looser than the profile: one warning line saying what it weakens`, () => {
      const oauthWarnings = (extra: Record<string, unknown>) =>
        configWarnings(loadConfig({}, { ...base, oauth: oauthSettings(extra) })).filter((w) =>
          w.startsWith('oauth'),
        );
      for (const extra of loose) {
        const warnings = oauthWarnings(extra);
        assert.equal(warnings.length, 1, `${JSON.stringify(extra)}: ${warnings.join(' / ')}`);
        const [warning = ''] = warnings;
        assert.ok(warning.startsWith(`${setting} `), warning);
        assert.match(warning, weakens);
        assert.doesNotMatch(warning, /\n/, 'one line');
      }
      for (const extra of strict) assert.deepEqual(oauthWarnings(extra), [], JSON.stringify(extra));
      // Only an enabled provider is looked at: loosened settings of one that is off say nothing.
      const off = loadConfig({}, { ...base, oauth: oauthSettings({ ...loose[0], enabled: false }) });
      assert.deepEqual(
        configWarnings(off).filter((w) => w.startsWith('oauth')),
        [],
      );
    });
  }

  test('oauth.requirePar: a plain authorization request is refused for every client; a pushed one works', async () => {
    const server = await startOAuthGatehouse({ requirePar: true });
    try {
      const agent = new TestClient(server.url);
      await signInWithEmail(server, agent, 'require-par@example.com');
      const config = await discover(server, WEB_APP);
      assert.equal(config.serverMetadata().require_pushed_authorization_requests, true, 'advertised');
      const tokens = await assertOnlyPushedRequestsWork(server, agent, config);
      assert.equal(tokens.claims()?.['aud'], WEB_APP.client_id);
    } finally {
      await server.close();
    }
  });
});
