/**
 * A local HTTP server shaped like GitHub's OAuth app endpoints and REST API, for the tests of the
 * `github` preset: `/login/oauth/authorize` (302 back with code and state),
 * `/login/oauth/access_token` (form in; JSON out only when asked with `Accept`, errors as 200 with
 * an `error` field, as GitHub does), and `/user`, `/user/emails` (Bearer token, User-Agent
 * required).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';

export interface GitHubAccount {
  id: number;
  login: string;
  name: string | null;
  emails: Array<{ email: string; primary: boolean; verified: boolean; visibility: string | null }>;
}

export class GitHubServer {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The account the next authorization signs in. */
  account: GitHubAccount | null = null;
  readonly authorizations: URLSearchParams[] = [];
  readonly tokenRequests: URLSearchParams[] = [];
  readonly apiRequests: Array<{
    path: string;
    authorization: string | undefined;
    userAgent: string | undefined;
  }> = [];
  /** Access tokens it issued (tests check none of them is stored). */
  readonly issuedTokens: string[] = [];
  readonly #codes = new Map<string, { account: GitHubAccount; challenge: string; redirectUri: string }>();
  readonly #tokens = new Map<string, GitHubAccount>();
  readonly #server: Server;

  private constructor(server: Server, clientId: string, clientSecret: string) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
  }

  static async start(): Promise<GitHubServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const github = new GitHubServer(server, 'Iv1.testclient', 'github-client-secret');
    server.on('request', (req, res) => {
      github.#handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    return github;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/login/oauth/authorize') {
      this.authorizations.push(url.searchParams);
      const redirectUri = url.searchParams.get('redirect_uri') ?? '';
      const code = randomBytes(10).toString('hex');
      if (this.account)
        this.#codes.set(code, {
          account: this.account,
          challenge: url.searchParams.get('code_challenge') ?? '',
          redirectUri,
        });
      const back = new URLSearchParams({ code, state: url.searchParams.get('state') ?? '' });
      res.writeHead(302, { location: `${redirectUri}?${back}` });
      res.end();
      return;
    }
    if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
      const body = new URLSearchParams(await text(req));
      this.tokenRequests.push(body);
      const pending = this.#codes.get(body.get('code') ?? '');
      this.#codes.delete(body.get('code') ?? '');
      const verifier = body.get('code_verifier') ?? '';
      const error =
        body.get('client_id') !== this.clientId || body.get('client_secret') !== this.clientSecret
          ? 'incorrect_client_credentials'
          : !pending ||
              pending.redirectUri !== body.get('redirect_uri') ||
              createHash('sha256').update(verifier).digest('base64url') !== pending.challenge
            ? 'bad_verification_code'
            : null;
      // GitHub answers errors with 200 and an `error` member.
      if (error || !pending) return json(200, { error, error_description: 'refused' });
      const token = `gho_${randomBytes(16).toString('hex')}`;
      this.issuedTokens.push(token);
      this.#tokens.set(token, pending.account);
      if (!req.headers.accept?.includes('application/json')) {
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
        res.end(
          new URLSearchParams({
            access_token: token,
            token_type: 'bearer',
            scope: 'read:user,user:email',
          }).toString(),
        );
        return;
      }
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    if (url.pathname === '/user' || url.pathname === '/user/emails') {
      const authorization = req.headers.authorization;
      this.apiRequests.push({ path: url.pathname, authorization, userAgent: req.headers['user-agent'] });
      if (!req.headers['user-agent']) return json(403, { message: 'User-Agent required' });
      const account = this.#tokens.get(authorization?.replace(/^Bearer /, '') ?? '');
      if (!account) return json(401, { message: 'Bad credentials' });
      if (url.pathname === '/user')
        return json(200, { id: account.id, login: account.login, name: account.name, email: null });
      return json(200, account.emails);
    }
    json(404, { message: 'Not Found' });
  }
}
