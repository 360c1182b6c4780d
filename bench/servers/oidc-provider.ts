/**
 * The baseline for bench:oauth: oidc-provider on its own, as its README sets it up, with its
 * in-memory adapter (nothing persisted) and the same profile as Gatehouse where it costs work:
 * JWT access tokens (ES256) for the API, refresh-token rotation, PKCE, ES256 ID tokens, the
 * same clients, and the same engine features switched on (device flow, PAR, DPoP, introspection,
 * revocation, logout), so that the two differ only in storage and Gatehouse's policy, not in
 * which of the library's own checks run. Refresh tokens for the driver come from the library's own models on the
 * seeder port, each in its own grant, as a code exchange would leave them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { announceReady } from '../lib/ready.ts';
import { BENCH_API, BENCH_APP, BENCH_SERVICE } from './oauth-clients.ts';

const keys = await Promise.all(
  (['ES256', 'RS256'] as const).map(async (alg) => {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    return { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: alg };
  }),
);

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address() as AddressInfo;
    probe.close(() => resolve(free));
  });
});

const provider = new Provider(`http://localhost:${port}`, {
  clients: [
    { ...BENCH_SERVICE, response_types: [], redirect_uris: [] },
    { ...BENCH_APP, response_types: ['code'] },
  ],
  jwks: { keys },
  responseTypes: ['code'],
  scopes: ['openid', 'offline_access', 'read'],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  claims: { openid: ['sub', 'auth_time', 'amr', 'acr'] },
  findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
  ttl: {
    AccessToken: 900,
    ClientCredentials: 300,
    IdToken: 3600,
    RefreshToken: 14 * 86_400,
    Grant: 365 * 86_400,
  },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    pushedAuthorizationRequests: { enabled: true },
    userinfo: { enabled: true },
    dPoP: { enabled: true },
    backchannelLogout: { enabled: true },
    deviceFlow: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => BENCH_API,
      useGrantedResource: async () => false,
      getResourceServerInfo: async () => ({
        scope: 'read',
        audience: BENCH_API,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});

const server = createServer(provider.callback());
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

// The library's models (lib/models/grant.js, refresh_token.js): what a code exchange leaves behind.
interface Model {
  save(): Promise<string>;
  addOIDCScope(scope: string): void;
}
type ModelClass = new (init: Record<string, unknown>) => Model;
const models = provider as unknown as {
  Grant: ModelClass;
  RefreshToken: ModelClass;
  Client: { find(id: string): Promise<unknown> };
};
const appClient = await models.Client.find(BENCH_APP.client_id);

const seeder = createServer((request, response) => {
  const count = Math.min(Number(new URL(request.url ?? '/', 'http://x').searchParams.get('count')) || 1, 256);
  void (async () => {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const grant = new models.Grant({ accountId: `bench-${i}`, clientId: BENCH_APP.client_id });
      grant.addOIDCScope('openid offline_access');
      const grantId = await grant.save();
      const now = Math.floor(Date.now() / 1000);
      const refreshToken = new models.RefreshToken({
        client: appClient,
        accountId: `bench-${i}`,
        grantId,
        scope: 'openid offline_access',
        gty: 'authorization_code',
        authTime: now,
        amr: ['otp'],
      });
      tokens.push(await refreshToken.save());
    }
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(tokens));
  })().catch((error: unknown) => {
    response.statusCode = 500;
    response.end(String(error));
  });
});
await new Promise<void>((resolve) => seeder.listen(0, '127.0.0.1', resolve));

announceReady({ port, sidePort: (seeder.address() as AddressInfo).port }, async () => {
  seeder.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
