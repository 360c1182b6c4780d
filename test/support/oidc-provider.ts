/**
 * A real OpenID Connect provider (panva's oidc-provider 9, OpenID Certified) on 127.0.0.1, as the
 * upstream identity provider of the federation tests, set up the way Google runs: code flow only,
 * PKCE required, RS256 (and ES256) signed ID tokens carrying email and email_verified, RFC 9207
 * `iss` in responses. Its own login page is a one-field form: any login name signs in as that
 * account from `accounts`; consent is implied (as for a first-party app).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { exportJWK, generateKeyPair } from 'jose';
import { type Adapter, type AdapterPayload, type KoaContext, Provider } from 'oidc-provider';
import { escapeHtml } from '../../src/domain/mail/html.ts';

export interface IdpAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Login name → account. Add to it at any time. */
  accounts: Map<string, IdpAccount>;
  /**
   * Registers Gatehouse as the client, with its callback URLs; the provider starts answering
   * then (Gatehouse's origin is known only once it is up, and it needs this issuer first).
   */
  registerClient(redirectUris: string[]): Promise<void>;
  close(): Promise<void>;
}

const SCOPE = 'openid email profile';
const MINUTE = 60;

/** The provider's state in a Map: the test process is its whole life. */
function memoryAdapter(): (model: string) => Adapter {
  const rows = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const live = (key: string): AdapterPayload | undefined => {
    const row = rows.get(key);
    return row && row.expiresAt > Date.now() ? row.payload : undefined;
  };
  return (model) => ({
    async upsert(id, payload, expiresIn) {
      rows.set(`${model}:${id}`, { payload, expiresAt: Date.now() + (expiresIn ?? 3600) * 1000 });
    },
    async find(id) {
      return live(`${model}:${id}`);
    },
    async findByUid(uid) {
      return [...rows.keys()].map(live).find((payload) => payload?.uid === uid);
    },
    async findByUserCode(userCode) {
      return [...rows.keys()].map(live).find((payload) => payload?.userCode === userCode);
    },
    async consume(id) {
      const payload = live(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id) {
      rows.delete(`${model}:${id}`);
    },
    async revokeByGrantId(grantId) {
      for (const [key, row] of rows) if (row.payload.grantId === grantId) rows.delete(key);
    },
  });
}

export async function startOidcProvider(): Promise<TestIdp> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, IdpAccount>();
  const clientId = 'gatehouse';
  const clientSecret = 'idp-client-secret-0123456789';
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });

  const build = async (redirectUris: string[]): Promise<Provider> => {
    const provider: Provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          response_types: ['code'],
          grant_types: ['authorization_code'],
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: 'RS256',
        },
      ],
      jwks: {
        keys: [
          { ...(await exportJWK(rsa.privateKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
          { ...(await exportJWK(ec.privateKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
        ],
      },
      adapter: memoryAdapter(),
      cookies: { keys: ['test-idp-cookie-key-0123456789abcdef'] },
      ttl: {
        AccessToken: 10 * MINUTE,
        AuthorizationCode: MINUTE,
        IdToken: 10 * MINUTE,
        Interaction: 10 * MINUTE,
        Grant: 60 * MINUTE,
        Session: 60 * MINUTE,
      },
      responseTypes: ['code'],
      pkce: { required: () => true },
      // Google puts the profile claims in the ID token itself.
      conformIdTokenClaims: false,
      // `amr` mapped so the ID token reports how the person signed in here (RECIPES.md).
      claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
      features: { devInteractions: { enabled: false } },
      interactions: {
        url: (_ctx: KoaContext, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      async findAccount(_ctx: KoaContext, id: string) {
        const account = [...accounts.values()].find((entry) => entry.sub === id);
        if (!account) return undefined;
        return { accountId: id, claims: () => ({ ...account }) };
      },
      // Consent is implied: the grant covers what Gatehouse asks for.
      async loadExistingGrant(ctx: KoaContext) {
        const client = ctx.oidc.client;
        const accountId = ctx.oidc.session.accountId;
        if (!client || !accountId) return undefined;
        const existing = ctx.oidc.session.grantIdFor(client.clientId);
        if (existing) return provider.Grant.find(existing);
        const grant = new provider.Grant({ accountId, clientId: client.clientId });
        grant.addOIDCScope(SCOPE);
        await grant.save();
        return grant;
      },
    });
    return provider;
  };

  let provider: Provider | null = null;
  server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (!provider) {
      res.statusCode = 503;
      res.end('no client registered yet');
      return;
    }
    if (!path.startsWith('/interaction/')) return provider.callback()(req, res);
    interaction(provider, accounts, req, res, path).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    async registerClient(redirectUris) {
      provider = await build(redirectUris);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function interaction(
  provider: Provider,
  accounts: Map<string, IdpAccount>,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const [, , uid = '', action] = path.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>Test IdP</title></head><body>
<h1>Sign in to Test IdP</h1>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Login</label><input id="login" name="login" autofocus>
<button type="submit">Continue</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Cancel</button></form>
</body></html>`);
    return;
  }
  const form = new URLSearchParams(await text(req));
  const account = accounts.get(form.get('login') ?? '');
  const result =
    action === 'login' && account
      ? { login: { accountId: account.sub, ts: Math.floor(Date.now() / 1000), amr: ['pwd'] } }
      : { error: 'access_denied', error_description: 'The person cancelled, or is unknown here.' };
  const returnTo = await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
  res.writeHead(303, { location: returnTo });
  res.end();
}
