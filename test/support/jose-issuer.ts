/**
 * A tiny OpenID Connect issuer built with jose, on a real socket, for the tests that need to
 * send Gatehouse answers a certified provider never would: a wrong `aud`, a missing `sub`, an
 * unsigned or HMAC-signed ID token, a rotated key, a wrong `iss` response parameter.
 *
 * It serves discovery, a JWKS, an authorization endpoint (302 back with code and state, or an
 * auto-submitting form for form_post) and a token endpoint that checks what a real one checks:
 * the client's authentication, the redirect URI and the PKCE verifier. Each test shapes the
 * next ID token with `nextIdToken`.
 *
 * `publicBase` lets it stand in for a provider with a fixed public address (Apple, Microsoft):
 * its documents name that address, and `route()` is a fetch that sends requests for it here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Fetch } from '../../src/domain/federation/http.ts';
import { escapeHtml } from '../../src/domain/mail/html.ts';

export interface IssuerAccount {
  sub?: string;
  email?: string;
  email_verified?: boolean | string;
  name?: string;
  [claim: string]: unknown;
}

export interface IdTokenShape {
  /** Change the claims (return the claims to sign). */
  claims?: (claims: Record<string, unknown>) => Record<string, unknown>;
  /** How to sign: our current key (default), unsigned, HMAC with the client secret, a key not in the JWKS. */
  signing?: 'key' | 'none' | 'hs256' | 'unpublished-key';
  /** Flip a byte of the signature after signing. */
  tamper?: boolean;
}

interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string | undefined;
  account: IssuerAccount;
}

export interface JoseIssuerOptions {
  clientId: string;
  /** Checked with client_secret_basic or _post. */
  clientSecret?: string;
  /** Apple-style: the client secret is a JWT signed by this key (ES256), iss = team id. */
  appleClient?: { teamId: string; keyId: string; publicJwk: JWK };
  /** Public address this issuer stands in for (e.g. https://appleid.apple.com); default its own. */
  publicBase?: string;
  /** Path of the issuer under the base (Microsoft: /common/v2.0). */
  issuerPath?: string;
  /** The `issuer` its discovery document names (Microsoft's multi-tenant `{tenantid}` template). */
  metadataIssuer?: string;
  /** Extra or replaced discovery fields. */
  metadata?: Record<string, unknown>;
  /** Send the RFC 9207 `iss` parameter back (default true). */
  sendIss?: boolean;
  alg?: 'ES256' | 'RS256';
}

export class JoseIssuer {
  readonly options: JoseIssuerOptions;
  readonly localBase: string;
  readonly base: string;
  readonly issuer: string;
  /** Every authorization request it saw, newest last. */
  readonly authorizations: URLSearchParams[] = [];
  /** Every token request body it saw. */
  readonly tokenRequests: Array<{ body: URLSearchParams; authorization: string | undefined }> = [];
  jwksRequests = 0;
  /** The shape of the next ID token; reset after each token response. */
  nextIdToken: IdTokenShape = {};
  /** Overrides for the next authorization response (e.g. a wrong `iss`). */
  nextAuthorization: { iss?: string; error?: string } = {};
  #keys: SigningKey[];
  #published: SigningKey[];
  readonly #codes = new Map<string, PendingCode>();
  readonly #server: Server;
  account: IssuerAccount = {};

  private constructor(options: JoseIssuerOptions, server: Server, port: number, key: SigningKey) {
    this.options = options;
    this.#server = server;
    this.localBase = `http://127.0.0.1:${port}`;
    this.base = options.publicBase ?? this.localBase;
    this.issuer = `${this.base}${options.issuerPath ?? ''}`;
    this.#keys = [key];
    this.#published = [key];
  }

  static async start(options: JoseIssuerOptions): Promise<JoseIssuer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const key = await newKey(options.alg ?? 'ES256');
    const issuer = new JoseIssuer(options, server, (server.address() as AddressInfo).port, key);
    server.on('request', (req, res) => {
      issuer.#handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    return issuer;
  }

  /** Fetch for Gatehouse: requests to `publicBase` go to this server instead. */
  route(next?: Fetch): Fetch {
    return (url, init) => {
      const target = url.startsWith(this.base) ? this.local(url) : url;
      return next ? next(target, init) : fetch(target, init as RequestInit);
    };
  }

  /** A public URL of this issuer, as the local one. */
  local(url: string): string {
    return url.startsWith(this.base) ? this.localBase + url.slice(this.base.length) : url;
  }

  /** A new signing key; with `keepOld` the old one stays published (a gentle rotation). */
  async rotate(options: { keepOld?: boolean } = {}): Promise<string> {
    const key = await newKey(this.options.alg ?? 'ES256');
    this.#keys = [key];
    this.#published = options.keepOld ? [key, ...this.#published] : [key];
    return key.kid;
  }

  /**
   * Plays the person at the provider: follows Gatehouse's authorization redirect and returns
   * where the provider sends the browser back (the callback URL, or the form_post fields).
   */
  async authorize(
    authorizationUrl: string,
    account: IssuerAccount,
  ): Promise<{ callbackUrl: URL; form: URLSearchParams | null }> {
    this.account = account;
    const response = await fetch(this.local(authorizationUrl), { redirect: 'manual' });
    if (response.status === 302)
      return { callbackUrl: new URL(response.headers.get('location') ?? ''), form: null };
    if (response.status !== 200)
      throw new Error(`authorize answered ${response.status}: ${await response.text()}`);
    const page = await response.text();
    const action = /action="([^"]+)"/.exec(page)?.[1] ?? '';
    const form = new URLSearchParams();
    for (const match of page.matchAll(/name="([^"]+)" value="([^"]*)"/g))
      form.set(match[1] ?? '', fromHtml(match[2] ?? ''));
    return { callbackUrl: new URL(fromHtml(action)), form };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.localBase);
    const issuerPath = this.options.issuerPath ?? '';
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case `${issuerPath}/.well-known/openid-configuration`:
        return json(200, {
          issuer: this.options.metadataIssuer ?? this.issuer,
          authorization_endpoint: `${this.base}/authorize`,
          token_endpoint: `${this.base}/token`,
          jwks_uri: `${this.base}/jwks`,
          response_types_supported: ['code'],
          response_modes_supported: ['query', 'form_post'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: [this.options.alg ?? 'ES256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          authorization_response_iss_parameter_supported: this.options.sendIss ?? true,
          ...this.options.metadata,
        });
      case '/jwks':
        this.jwksRequests++;
        return json(200, { keys: this.#published.map((key) => key.publicJwk) });
      case '/authorize':
        return this.#authorize(url.searchParams, res);
      case '/token':
        return this.#token(req, json);
      default:
        return json(404, { error: 'not_found' });
    }
  }

  #authorize(params: URLSearchParams, res: ServerResponse): void {
    this.authorizations.push(params);
    const redirectUri = params.get('redirect_uri') ?? '';
    const back = new URLSearchParams();
    const { iss, error } = this.nextAuthorization;
    this.nextAuthorization = {};
    if (error) back.set('error', error);
    else {
      const code = randomBytes(16).toString('base64url');
      this.#codes.set(code, {
        clientId: params.get('client_id') ?? '',
        redirectUri,
        challenge: params.get('code_challenge') ?? '',
        nonce: params.get('nonce') ?? undefined,
        account: this.account,
      });
      back.set('code', code);
    }
    const state = params.get('state');
    if (state !== null) back.set('state', state);
    if (iss !== undefined) back.set('iss', iss);
    else if (this.options.sendIss ?? true) back.set('iss', this.issuer);
    if (params.get('response_mode') === 'form_post') {
      const fields = [...back].map(
        ([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`,
      );
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form method="post" action="${escapeHtml(redirectUri)}">${fields.join('')}</form>`);
      return;
    }
    res.writeHead(302, { location: `${redirectUri}?${back}` });
    res.end();
  }

  async #token(req: IncomingMessage, json: (status: number, body: unknown) => void): Promise<void> {
    const body = new URLSearchParams(await text(req));
    this.tokenRequests.push({ body, authorization: req.headers.authorization });
    // A lenient issuer: a code may be redeemed more than once, so the replay tests see only
    // Gatehouse's own single-use check.
    const pending = this.#codes.get(body.get('code') ?? '');
    if (!pending || body.get('grant_type') !== 'authorization_code')
      return json(400, { error: 'invalid_grant' });
    if (!(await this.#clientAuthenticated(req, body, pending.clientId)))
      return json(401, { error: 'invalid_client' });
    if (body.get('redirect_uri') !== pending.redirectUri) return json(400, { error: 'invalid_grant' });
    const verifier = body.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge)
      return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
    const shape = this.nextIdToken;
    this.nextIdToken = {};
    return json(200, {
      access_token: randomBytes(16).toString('base64url'),
      token_type: 'Bearer',
      expires_in: 3600,
      id_token: await this.#idToken(pending, shape),
    });
  }

  async #clientAuthenticated(
    req: IncomingMessage,
    body: URLSearchParams,
    clientId: string,
  ): Promise<boolean> {
    let id = body.get('client_id');
    let secret = body.get('client_secret');
    const basic = req.headers.authorization;
    if (basic?.startsWith('Basic ')) {
      const [user = '', pass = ''] = Buffer.from(basic.slice(6), 'base64').toString().split(':');
      id = decodeURIComponent(user);
      secret = decodeURIComponent(pass);
    }
    if (id !== clientId || id !== this.options.clientId || !secret) return false;
    const apple = this.options.appleClient;
    if (!apple) return secret === this.options.clientSecret;
    try {
      const key = await importJWK(apple.publicJwk, 'ES256');
      const { protectedHeader } = await jwtVerify(secret, key, {
        algorithms: ['ES256'],
        issuer: apple.teamId,
        subject: clientId,
        audience: this.issuer,
        requiredClaims: ['iat', 'exp'],
      });
      return protectedHeader.kid === apple.keyId;
    } catch {
      return false;
    }
  }

  async #idToken(pending: PendingCode, shape: IdTokenShape): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const base: Record<string, unknown> = {
      iss: this.issuer,
      aud: pending.clientId,
      iat: now,
      exp: now + 600,
      ...(pending.nonce ? { nonce: pending.nonce } : {}),
      sub: pending.account.sub ?? 'subject-1',
      ...pending.account,
    };
    const claims = (shape.claims ?? ((c) => c))(base) as JWTPayload;
    const signing = shape.signing ?? 'key';
    let token: string;
    if (signing === 'none') {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    } else if (signing === 'hs256') {
      token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(this.options.clientSecret ?? 'secret'));
    } else {
      const key = signing === 'unpublished-key' ? await newKey(this.options.alg ?? 'ES256') : this.#keys[0];
      if (!key) throw new Error('no signing key');
      token = await new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid })
        .sign(key.privateKey);
    }
    if (shape.tamper) {
      const [header, payload, signature = ''] = token.split('.');
      const bytes = Buffer.from(signature, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 0xff;
      token = `${header}.${payload}.${bytes.toString('base64url')}`;
    }
    return token;
  }
}

async function newKey(alg: 'ES256' | 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = randomBytes(8).toString('hex');
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Undoes escapeHtml for the few entities it writes (reading the form_post page back). */
function fromHtml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
