import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { type CliWorkspace, cliWorkspace } from '../support/cli.ts';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  assertClientCredentialsNeedDpop,
  assertOnlyPushedRequestsWork,
  authorizationRequest,
  decodeJwt,
  discover,
  followAuthorization,
} from '../support/oauth.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const SECRET = 'cli-test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const root = new URL('../..', import.meta.url).pathname;

describe('gatehouse serve', () => {
  test('logs a WARNING line for each OAuth setting looser than the profile, then serves', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-warnings-'));
    const configFile = join(dataDir, 'config.json');
    // One loosened setting: a key that signs a minute after it is published.
    writeFileSync(configFile, JSON.stringify({ oauth: { enabled: true, keyPublishLeadMs: 60_000 } }));
    const child = spawn(process.execPath, [join(root, 'bin/gatehouse.js'), 'serve'], {
      cwd: root,
      env: {
        ...process.env,
        GATEHOUSE_DATA_DIR: dataDir,
        GATEHOUSE_CONFIG: configFile,
        GATEHOUSE_SECRET: SECRET,
        GATEHOUSE_HOST: '127.0.0.1',
        GATEHOUSE_PORT: '0',
        GATEHOUSE_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The warnings are logged before it listens, so they are all out once it says it listens.
      const deadline = Date.now() + 20_000;
      while (!/listening/.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) assert.fail(`serve did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const messages = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string });
      const warnings = messages.filter((message) => message.msg.startsWith('WARNING: oauth.'));
      assert.deepEqual(
        warnings.map((message) => message.msg.split(' ')[1]),
        ['oauth.keyPublishLeadMs'],
        output,
      );
      assert.equal(warnings[0]?.level, 40, 'logged at level warn');
      assert.match(warnings[0]?.msg ?? '', /before apps caching the JWKS know it/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

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

    test('add --trusted: the running server skips the consent page for that client only', async () => {
      const add = (id: string, ...flags: string[]) =>
        json([
          'clients',
          'add',
          '--id',
          id,
          '--type',
          'public',
          '--redirect-uri',
          `https://${id}.example.test/cb`,
          ...flags,
        ]);
      await add('cli-first-party', '--trusted');
      await add('cli-third-party');
      const listed = (await json(['clients', 'list'])) as Array<{ client_id: string; trusted: boolean }>;
      assert.equal(listed.find((c) => c.client_id === 'cli-first-party')?.trusted, true);
      assert.equal(listed.find((c) => c.client_id === 'cli-third-party')?.trusted, false);
      const agent = new TestClient(server.url);
      await signInWithEmail(server, agent, 'cli-trusted@example.com');
      const consentFor = async (id: string) => {
        const config = await discover(server, { client_id: id });
        const request = await authorizationRequest(config, {
          redirect_uri: `https://${id}.example.test/cb`,
          scope: 'openid',
        });
        const outcome = await followAuthorization(server, agent, request.url);
        assert.ok(outcome.callback?.searchParams.get('code'), JSON.stringify(outcome).slice(0, 300));
        return outcome.consentShown;
      };
      assert.equal(await consentFor('cli-first-party'), false, 'trusted: no consent page');
      assert.equal(await consentFor('cli-third-party'), true, 'the same client untrusted is asked');
    });

    test('add --require-par: a plain authorization request is refused (invalid_request); a pushed one gets a code', async () => {
      const redirect = 'https://par.cli.example.test/cb';
      const added = await json([
        'clients',
        'add',
        '--id',
        'cli-par',
        '--type',
        'confidential',
        '--redirect-uri',
        redirect,
        '--require-par',
      ]);
      const config = await discover(server, added);
      assert.equal(config.clientMetadata()['client_secret'], added.client_secret);
      const agent = new TestClient(server.url);
      await signInWithEmail(server, agent, 'cli-par@example.com');
      const tokens = await assertOnlyPushedRequestsWork(server, agent, config, {
        redirect_uri: redirect,
        scope: 'openid',
      });
      assert.equal(tokens.claims()?.['aud'], 'cli-par');
    });

    test('add --require-dpop: a token request without a DPoP proof is refused; with one the token is key-bound', async () => {
      const added = await json([
        'clients',
        'add',
        '--id',
        'cli-dpop',
        '--type',
        'confidential',
        '--grant',
        'client_credentials',
        '--scope',
        'read',
        '--resource',
        API,
        '--require-dpop',
      ]);
      const token = await assertClientCredentialsNeedDpop(server, added);
      assert.equal(decodeJwt(token).payload['aud'], API);
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
