import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { type CliWorkspace, cliWorkspace } from '../support/cli.ts';
import { API, decodeJwt, discover } from '../support/oauth.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';

const SECRET = 'cli-test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

describe('gatehouse clients / keys', () => {
  let cli: CliWorkspace;
  const oauth = { enabled: true, resources: [{ indicator: API, scopes: ['read', 'write'] }] };

  async function json(args: string[]): Promise<any> {
    const result = await cli.run(args);
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout);
  }

  before(() => {
    cli = cliWorkspace('gatehouse-oauth-cli-', { oauth }, SECRET);
  });
  after(() => cli.close());

  test('add prints the id and a secret once, stores only its hash; list never shows a secret', async () => {
    const added = await json([
      'clients',
      'add',
      '--id',
      'cli-app',
      '--type',
      'confidential',
      '--name',
      'CLI App',
      '--redirect-uri',
      'https://cli.example.test/callback',
      '--scope',
      'openid email read',
      '--resource',
      API,
    ]);
    assert.equal(added.client_id, 'cli-app');
    assert.equal(Buffer.from(added.client_secret, 'base64url').length, 32);
    const listed = await cli.run(['clients', 'list']);
    assert.ok(!listed.stdout.includes(added.client_secret));
    const app = JSON.parse(listed.stdout).find((c: { client_id: string }) => c.client_id === 'cli-app');
    assert.equal(app.confidential, true);
    assert.equal(app.source, 'cli');
    const db = new DatabaseSync(join(cli.dataDir, 'gatehouse.sqlite'), { readOnly: true });
    try {
      const row = db.prepare("select * from oauth_clients where client_id = 'cli-app'").get();
      assert.equal(row?.['secret_hash'], sha256(added.client_secret));
      assert.ok(!JSON.stringify(row).includes(added.client_secret));
    } finally {
      db.close();
    }
    const publicClient = await json([
      'clients',
      'add',
      '--id',
      'cli-spa',
      '--type',
      'public',
      '--redirect-uri',
      'https://spa.cli.example.test/cb',
    ]);
    assert.equal(publicClient.client_secret, null);
  });

  test('add --access-token-format opaque: the client’s API tokens are opaque; anything else is a usage error', async () => {
    const service = (format: string, id: string, ...more: string[]) =>
      cli.run([
        'clients',
        'add',
        '--id',
        id,
        '--type',
        'confidential',
        '--grant',
        'client_credentials',
        '--scope',
        'read',
        '--access-token-format',
        format,
        ...more,
      ]);
    assert.equal((await service('opaque', 'cli-opaque', '--resource', API)).status, 0);
    const listed = (await json(['clients', 'list'])) as Array<{
      client_id: string;
      access_token_format?: string;
    }>;
    assert.equal(listed.find((c) => c.client_id === 'cli-opaque')?.access_token_format, 'opaque');
    const bogus = await service('paseto', 'cli-bogus', '--resource', API);
    assert.equal(bogus.status, 2);
    assert.match(bogus.stderr, /jwt or opaque/);
    const noResource = await service('opaque', 'cli-no-resource');
    assert.equal(noResource.status, 1);
    assert.match(noResource.stderr, /give the client resources/);
  });

  test('clients that break the profile are refused with the reason', async () => {
    const http = await cli.run([
      'clients',
      'add',
      '--id',
      'bad',
      '--type',
      'public',
      '--redirect-uri',
      'http://bad.example.test/cb',
    ]);
    assert.equal(http.status, 1);
    assert.match(http.stderr, /https/);
    const publicService = await cli.run([
      'clients',
      'add',
      '--id',
      'bad2',
      '--type',
      'public',
      '--grant',
      'client_credentials',
    ]);
    assert.equal(publicService.status, 1);
    assert.match(publicService.stderr, /confidential/);
    const unknownResource = await cli.run([
      'clients',
      'add',
      '--id',
      'bad3',
      '--type',
      'confidential',
      '--grant',
      'client_credentials',
      '--resource',
      'https://nope.example.test',
    ]);
    assert.match(unknownResource.stderr, /not declared/);
    const duplicate = await cli.run([
      'clients',
      'add',
      '--id',
      'cli-app',
      '--type',
      'public',
      '--redirect-uri',
      'https://x.example.test/cb',
    ]);
    assert.equal(duplicate.status, 1);
    assert.match(duplicate.stderr, /already exists/);
    assert.equal((await cli.run(['clients', 'frobnicate'])).status, 2);
  });

  describe('with a running server on the same database', () => {
    let server: TestServer;
    let secret: string;
    before(async () => {
      secret = (
        await json([
          'clients',
          'add',
          '--id',
          'cli-service',
          '--type',
          'confidential',
          '--grant',
          'client_credentials',
          '--scope',
          'read',
          '--resource',
          API,
        ])
      ).client_secret;
      server = await startGatehouse({ dataDir: cli.dataDir, secret: SECRET, oauth });
    });
    after(() => server.close());

    test('a CLI client authenticates with its secret; rotate-secret swaps it at once; remove ends it', async () => {
      const tokens = await client.clientCredentialsGrant(
        await discover(server, { client_id: 'cli-service', client_secret: secret }),
        { scope: 'read' },
      );
      assert.equal(decodeJwt(tokens.access_token).payload['aud'], API);
      const rotated = (await json(['clients', 'rotate-secret', '--id', 'cli-service'])).client_secret;
      assert.notEqual(rotated, secret);
      await assert.rejects(
        client.clientCredentialsGrant(
          await discover(server, { client_id: 'cli-service', client_secret: secret }),
          { scope: 'read' },
        ),
      );
      await client.clientCredentialsGrant(
        await discover(server, { client_id: 'cli-service', client_secret: rotated }),
        { scope: 'read' },
      );
      assert.deepEqual(await json(['clients', 'remove', '--id', 'cli-service']), {
        client_id: 'cli-service',
        removed: true,
      });
      await assert.rejects(
        client.clientCredentialsGrant(
          await discover(server, { client_id: 'cli-service', client_secret: rotated }),
          { scope: 'read' },
        ),
      );
      const types = (await server.services.stores.audit.list({ limit: 50 })).map((event) => event.type);
      for (const type of ['oauth.client_created', 'oauth.client_secret_rotated', 'oauth.client_removed'])
        assert.ok(types.includes(type), type);
    });

    test('keys rotate: new keys for both algorithms, published by the running server, signing later', async () => {
      const before = (await (await fetch(`${server.url}/oauth/jwks`)).json()).keys.map(
        (k: { kid: string }) => k.kid,
      );
      const { keys } = await json(['keys', 'rotate']);
      assert.deepEqual(keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
      assert.ok(Date.parse(keys[0].signsFrom) > Date.now() + 30 * 60_000, 'signs after the lead time');
      await server.services.oauth!.refreshKeys();
      const after = (await (await fetch(`${server.url}/oauth/jwks`)).json()).keys.map(
        (k: { kid: string }) => k.kid,
      );
      assert.deepEqual(after.sort(), [...before, ...keys.map((k: { kid: string }) => k.kid)].sort());
    });

    test('add --grant device_code: a public device client needs no redirect URI and can start the device flow (RFC 8628)', async () => {
      const added = await json([
        'clients',
        'add',
        '--id',
        'cli-tv',
        '--type',
        'public',
        '--native',
        '--name',
        'CLI TV',
        '--grant',
        'device_code',
        '--grant',
        'refresh_token',
        '--scope',
        'openid offline_access',
      ]);
      assert.deepEqual(added, { client_id: 'cli-tv', client_secret: null });
      // The running server sees the new client at once (straight after the CLI: an idle
      // keep-alive connection may be closed by the server after 5 s).
      const started = await client.initiateDeviceAuthorization(
        await discover(server, { client_id: 'cli-tv' }),
        {
          scope: 'openid',
        },
      );
      assert.match(started.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
      const listed = (await json(['clients', 'list'])).find(
        (c: { client_id: string }) => c.client_id === 'cli-tv',
      );
      assert.deepEqual(listed.grant_types, ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']);
      const refreshOnly = await cli.run([
        'clients',
        'add',
        '--id',
        'cli-bad-tv',
        '--type',
        'public',
        '--grant',
        'refresh_token',
      ]);
      assert.equal(refreshOnly.status, 1);
      assert.match(refreshOnly.stderr, /refresh_token needs authorization_code or the device code grant/);
    });
  });
});
