import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exportPKCS8, generateKeyPair } from 'jose';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { resolveProviders } from '../../src/domain/federation/providers.ts';

const SECRET = 'provider-test-secret-0123456789abcdef';

function config(providers: unknown[], overrides: Record<string, unknown> = {}) {
  return loadConfig(
    {},
    {
      env: 'test',
      dataDir: '/tmp/gatehouse-providers-test',
      secret: SECRET,
      origin: 'https://auth.example.com',
      federation: { providers },
      ...overrides,
    },
  );
}

describe('federation providers from configuration', () => {
  test('off by default', () => {
    assert.deepEqual(resolveProviders(config([])), []);
    assert.deepEqual(
      loadConfig({}, { env: 'test', dataDir: '/tmp/x', secret: SECRET }).federation.providers,
      [],
    );
  });

  test('presets fill in issuer, scopes, name and response mode; the callback is <origin>/auth/<id>/callback', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const [google, apple, microsoft, gitlab, github, generic] = resolveProviders(
      config([
        { id: 'google', preset: 'google', clientId: 'g', clientSecret: 's' },
        {
          id: 'apple',
          preset: 'apple',
          clientId: 'a',
          teamId: 'TEAM123456',
          keyId: 'KEY1234567',
          privateKey: await exportPKCS8(privateKey),
        },
        { id: 'work', preset: 'microsoft', tenant: 'organizations', clientId: 'm', clientSecret: 's' },
        {
          id: 'gitlab',
          preset: 'gitlab',
          issuer: 'https://gitlab.example.org',
          clientId: 'l',
          clientSecret: 's',
        },
        { id: 'github', preset: 'github', clientId: 'h', clientSecret: 's' },
        {
          id: 'corp',
          issuer: 'https://id.example.org/realms/main',
          clientId: 'c',
          scopes: ['openid', 'email'],
          displayName: 'Corp SSO',
        },
      ]),
    );
    assert.equal(google?.issuer, 'https://accounts.google.com');
    assert.deepEqual(google?.scopes, ['openid', 'email', 'profile']);
    assert.equal(google?.displayName, 'Google');
    assert.equal(google?.callbackUrl, 'https://auth.example.com/auth/google/callback');
    assert.equal(google?.responseMode, 'query');
    assert.equal(google?.allowHttp, false);
    assert.equal(apple?.issuer, 'https://appleid.apple.com');
    assert.equal(apple?.responseMode, 'form_post');
    assert.deepEqual(apple?.scopes, ['openid', 'name', 'email']);
    assert.equal(microsoft?.issuer, 'https://login.microsoftonline.com/organizations/v2.0');
    assert.equal(gitlab?.issuer, 'https://gitlab.example.org', 'self-managed GitLab');
    assert.equal(github?.protocol, 'github');
    assert.equal(github?.issuer, 'https://github.com');
    assert.equal(github?.apiUrl, 'https://api.github.com');
    assert.deepEqual(github?.scopes, ['read:user', 'user:email']);
    assert.equal(generic?.protocol, 'oidc');
    assert.equal(generic?.displayName, 'Corp SSO');
    assert.deepEqual(generic?.scopes, ['openid', 'email']);
    assert.equal(generic?.clientSecret, null);
  });

  test('provider URLs must be https; http only on loopback, and never in production', () => {
    assert.throws(
      () => resolveProviders(config([{ id: 'x', issuer: 'http://idp.example.org', clientId: 'c' }])),
      ConfigError,
    );
    assert.equal(
      resolveProviders(config([{ id: 'x', issuer: 'http://127.0.0.1:9000', clientId: 'c' }]))[0]?.allowHttp,
      true,
    );
    const production = config([{ id: 'x', issuer: 'http://127.0.0.1:9000', clientId: 'c' }], {
      env: 'production',
      smtpUrl: 'smtp://mail.example.com',
    });
    assert.throws(() => resolveProviders(production), /https/);
    assert.throws(
      () =>
        resolveProviders(
          config([
            {
              id: 'gh',
              preset: 'github',
              clientId: 'c',
              clientSecret: 's',
              apiUrl: 'http://api.example.org',
            },
          ]),
        ),
      /apiUrl/,
    );
  });

  test('an Apple key that is not a P-256 private key stops the start', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const apple = (pem: string) => [
      {
        id: 'apple',
        preset: 'apple',
        clientId: 'a',
        teamId: 'TEAM123456',
        keyId: 'KEY1234567',
        privateKey: pem,
      },
    ];
    const rsaPem = await exportPKCS8(privateKey);
    assert.throws(() => resolveProviders(config(apple(rsaPem))), /P-256/);
    assert.throws(
      () =>
        resolveProviders(config(apple('-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----'))),
      /P-256/,
    );
  });

  test('the schema refuses incomplete or contradictory providers, with the key named', () => {
    const refused = (providers: unknown[], message: RegExp) =>
      assert.throws(() => config(providers), message);
    refused([{ id: 'x', clientId: 'c' }], /providers\.0\.issuer: required for preset "oidc"/);
    refused([{ id: 'g', preset: 'google', clientId: 'c' }], /clientSecret: required for preset "google"/);
    refused([{ id: 'a', preset: 'apple', clientId: 'c' }], /teamId: required/);
    refused(
      [{ id: 'g', preset: 'google', clientId: 'c', clientSecret: 's', tenant: 'x' }],
      /tenant: only for preset "microsoft"/,
    );
    refused([{ id: 'Bad Id', issuer: 'https://a.example', clientId: 'c' }], /providers\.0\.id/);
    refused(
      [
        { id: 'dup', issuer: 'https://a.example', clientId: 'c' },
        { id: 'dup', issuer: 'https://b.example', clientId: 'c' },
      ],
      /unique/,
    );
    refused(
      [{ id: 'x', issuer: 'https://a.example', clientId: 'c', icon: 'https://cdn.example/logo.png' }],
      /icon/,
    );
  });
});
