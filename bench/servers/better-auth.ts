/**
 * Peer: Better Auth's `GET /api/auth/get-session`, with its default settings except the rate
 * limiter (on, it answers 429 under load, and Gatehouse's GET /api/v1/session has none either).
 * Storage is node:sqlite on a file, like Gatehouse's embedded default, with the same pragmas
 * Gatehouse sets (WAL, synchronous=NORMAL) so the database file is configured the same way.
 * The session comes from a real email + password sign-up over HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { announceReady } from '../lib/ready.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-better-auth-'));
const database = new DatabaseSync(join(dir, 'better-auth.sqlite'));
database.exec('PRAGMA journal_mode = WAL');
database.exec('PRAGMA synchronous = NORMAL');

// The origin is only known once we listen on a free port; requests wait for the handler.
let handler: ReturnType<typeof toNodeHandler> | undefined;
const server = createServer((req, res) => {
  if (handler) return void handler(req, res);
  res.writeHead(503).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const baseURL = `http://127.0.0.1:${port}`;

const options = {
  baseURL,
  secret: 'gatehouse-bench-only-secret-0123456789abcdef',
  database,
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
handler = toNodeHandler(auth);

const signUp = await fetch(`${baseURL}/api/auth/sign-up/email`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', origin: baseURL },
  body: JSON.stringify({
    name: 'Bench',
    email: 'bench@example.com',
    password: 'correct horse battery staple',
  }),
});
if (signUp.status !== 200) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
// Keep only name=value of each Set-Cookie (attributes are not sent back by a client).
const cookie = signUp.headers
  .getSetCookie()
  .map((c) => c.split(';')[0]!)
  .filter((c) => c.includes('session_token='))
  .join('; ');
if (!cookie) throw new Error('sign-up set no session cookie');

announceReady({ port, cookie }, async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  database.close();
  rmSync(dir, { recursive: true, force: true });
});
