/**
 * private_key_jwt client authentication (RFC 7523 §2.2, OpenID Connect Core §9; ASVS 5.0
 * V10.4.16): confidential clients prove possession of a private key whose public half they
 * registered (inline JWKS or a jwks_uri), with openid-client's PrivateKeyJwt as the client.
 * client_secret_basic and client_secret_post stay available.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import * as client from 'openid-client';
import { type CliWorkspace, cliWorkspace } from '../support/cli.ts';
import { API, CLIENTS, decodeJwt, providerPost, SERVICE, startOAuthGatehouse } from '../support/oauth.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';

async function keyPair(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), use: 'sig' } };
}

/** openid-client configured by discovery with private_key_jwt client authentication. */
function discoverWithKey(server: Pick<TestServer, 'url'>, clientId: string, privateKey: CryptoKey) {
  return client.discovery(new URL(server.url), clientId, undefined, client.PrivateKeyJwt(privateKey), {
    execute: [client.allowInsecureRequests],
  });
}

/** A client assertion built by hand (RFC 7523 §3), for the requests a library would not make. */
async function assertion(server: TestServer, clientId: string, privateKey: CryptoKey, jti = randomUUID()) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(server.origin)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime('1 minute')
    .sign(privateKey);
}

function assertionForm(clientId: string, jwt: string): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    scope: 'read',
    resource: API,
    client_id: clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jwt,
  };
}

describe('OAuth provider: private_key_jwt client authentication', () => {
  let server: TestServer;
  let jwksServer: Server;
  let inline: Awaited<ReturnType<typeof keyPair>>;
  let remote: Awaited<ReturnType<typeof keyPair>>;
  const POST_CLIENT = {
    ...SERVICE,
    client_id: 'post-service',
    client_secret: 'post-service-secret-0123456789-abcdefghijk',
    token_endpoint_auth_method: 'client_secret_post',
  };

  before(async () => {
    inline = await keyPair();
    remote = await keyPair();
    // The app publishes its keys itself: a jwks_uri on loopback (allowed outside production).
    jwksServer = createServer((_request, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [remote.publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    const { client_secret: _secret, ...service } = SERVICE;
    server = await startOAuthGatehouse({
      clients: [
        ...CLIENTS,
        POST_CLIENT,
        {
          ...service,
          client_id: 'key-service',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [inline.publicJwk] },
        },
        {
          ...service,
          client_id: 'key-uri-service',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: `http://127.0.0.1:${port}/jwks.json`,
        },
      ],
    });
  });
  after(async () => {
    await server.close();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  test('discovery offers private_key_jwt with ES256 and RS256, and no shared-secret JWTs', async () => {
    const discovery = (await fetch(new URL('/.well-known/openid-configuration', server.url)).then((r) =>
      r.json(),
    )) as Record<string, string[]>;
    assert.deepEqual(discovery['token_endpoint_auth_methods_supported']?.sort(), [
      'client_secret_basic',
      'client_secret_post',
      'none',
      'private_key_jwt',
    ]);
    assert.deepEqual(discovery['token_endpoint_auth_signing_alg_values_supported']?.sort(), [
      'ES256',
      'RS256',
    ]);
  });

  test('a client with a registered JWKS authenticates with openid-client PrivateKeyJwt', async () => {
    const config = await discoverWithKey(server, 'key-service', inline.privateKey);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    const { payload } = decodeJwt(tokens.access_token);
    assert.equal(payload['aud'], API);
    assert.equal(payload['client_id'], 'key-service');
    // The other authenticated endpoints accept it as any confidential client (JWT access tokens
    // themselves cannot be introspected; an unknown token is simply inactive).
    assert.equal((await client.tokenIntrospection(config, 'not-a-token')).active, false);
  });

  test('a client with a jwks_uri: its keys are fetched from there', async () => {
    const config = await discoverWithKey(server, 'key-uri-service', remote.privateKey);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    assert.equal(decodeJwt(tokens.access_token).payload['client_id'], 'key-uri-service');
  });

  test('another key, a replayed assertion or a secret are all refused as invalid_client', async () => {
    const stranger = await keyPair();
    await assert.rejects(
      client.clientCredentialsGrant(await discoverWithKey(server, 'key-service', stranger.privateKey), {
        scope: 'read',
      }),
      (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_client',
    );
    // The assertion's jti is remembered until it expires: a captured assertion cannot be replayed.
    const jwt = await assertion(server, 'key-service', inline.privateKey);
    assert.equal((await providerPost(server, '/oauth/token', assertionForm('key-service', jwt))).status, 200);
    const replayed = await providerPost(server, '/oauth/token', assertionForm('key-service', jwt));
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body['error'], 'invalid_client');
    // There is no secret to fall back on.
    const withSecret = await providerPost(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'read', resource: API },
      {
        client_id: 'key-service',
        client_secret: 'guessed-secret-0123456789-abcdefghijklmnopqr',
      },
    );
    assert.equal(withSecret.status, 401);
    assert.equal(withSecret.body['error'], 'invalid_client');
    // Nor may a secret client use an assertion instead: the registered method is the only one.
    const fromSecretClient = await providerPost(
      server,
      '/oauth/token',
      assertionForm(SERVICE.client_id, await assertion(server, SERVICE.client_id, inline.privateKey)),
    );
    assert.equal(fromSecretClient.status, 401);
  });

  test('client_secret_post stays available', async () => {
    const config = await client.discovery(
      new URL(server.url),
      POST_CLIENT.client_id,
      undefined,
      client.ClientSecretPost(POST_CLIENT.client_secret),
      { execute: [client.allowInsecureRequests] },
    );
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    assert.equal(decodeJwt(tokens.access_token).payload['client_id'], POST_CLIENT.client_id);
  });
});

describe('OAuth provider: private_key_jwt clients from `gatehouse clients add`', () => {
  const SECRET = 'pkjwt-cli-secret-0123456789abcdefghijklmnopqrstuvwxyz';
  const oauth = { enabled: true, resources: [{ indicator: API, scopes: ['read'] }] };
  let cli: CliWorkspace;

  function add(id: string, extra: string[]) {
    return cli.run([
      'clients',
      'add',
      '--id',
      id,
      '--grant',
      'client_credentials',
      '--scope',
      'read',
      '--resource',
      API,
      ...extra,
    ]);
  }

  before(() => {
    cli = cliWorkspace('gatehouse-pkjwt-', { oauth }, SECRET);
  });
  after(() => cli.close());

  test('added with its public keys and no secret; it authenticates with its key', async () => {
    const { privateKey, publicJwk } = await keyPair();
    const jwksFile = join(cli.dataDir, 'client-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [publicJwk] }));
    const added = await add('cli-key-service', [
      '--type',
      'confidential',
      '--auth-method',
      'private_key_jwt',
      '--jwks-file',
      jwksFile,
    ]);
    assert.equal(added.status, 0, added.stderr);
    assert.deepEqual(JSON.parse(added.stdout), { client_id: 'cli-key-service', client_secret: null });
    const listed = JSON.parse((await cli.run(['clients', 'list'])).stdout).find(
      (entry: { client_id: string }) => entry.client_id === 'cli-key-service',
    );
    assert.equal(listed.confidential, true);
    assert.equal(listed.token_endpoint_auth_method, 'private_key_jwt');

    const server = await startGatehouse({ dataDir: cli.dataDir, secret: SECRET, oauth });
    try {
      const tokens = await client.clientCredentialsGrant(
        await discoverWithKey(server, 'cli-key-service', privateKey),
        { scope: 'read' },
      );
      assert.equal(decodeJwt(tokens.access_token).payload['client_id'], 'cli-key-service');
    } finally {
      await server.close();
    }
  });

  test('refused with the reason: private key material, no keys, a public client, http keys', async () => {
    const { privateKey } = await keyPair();
    const privateJwk = await exportJWK(privateKey);
    const privateFile = join(cli.dataDir, 'private-jwks.json');
    writeFileSync(privateFile, JSON.stringify({ keys: [privateJwk] }));
    const leaked = await add('bad-key-1', [
      '--type',
      'confidential',
      '--auth-method',
      'private_key_jwt',
      '--jwks-file',
      privateFile,
    ]);
    assert.equal(leaked.status, 1);
    assert.match(leaked.stderr, /private key material/);
    const keyless = await add('bad-key-2', ['--type', 'confidential', '--auth-method', 'private_key_jwt']);
    assert.equal(keyless.status, 1);
    assert.match(keyless.stderr, /jwks or jwks_uri/);
    const publicClient = await add('bad-key-3', [
      '--type',
      'public',
      '--auth-method',
      'private_key_jwt',
      '--jwks-uri',
      'https://keys.example.test/jwks.json',
    ]);
    assert.equal(publicClient.status, 1);
    assert.match(publicClient.stderr, /confidential/);
    const plainHttp = await add('bad-key-4', [
      '--type',
      'confidential',
      '--auth-method',
      'private_key_jwt',
      '--jwks-uri',
      'http://keys.example.test/jwks.json',
    ]);
    assert.equal(plainHttp.status, 1);
    assert.match(plainHttp.stderr, /https/);
    assert.equal((await add('bad-key-5', ['--type', 'confidential', '--auth-method', 'magic'])).status, 2);
  });
});
