/**
 * Baseline: the fastest thing Node can do for this request shape. A bare node:http server
 * that parses nothing and answers a small JSON body of roughly the shape and size of
 * Gatehouse's `GET /api/v1/session` answer, serialised per request as any handler would.
 * Everything Gatehouse adds on top (routing, middleware, cookie parsing, hashing, a SQLite
 * lookup, security headers) is what the ratio measures.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady } from '../lib/ready.ts';

const now = Date.now();
const payload = {
  user: {
    id: '8mQn3vYhT2sLkP4xW9aB1c',
    email: 'bench@example.com',
    emailVerified: true,
    displayName: null,
    createdAt: now,
  },
  session: {
    id: 'Z7rK2pQ9wX4vN1mL8tY3hE',
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * 86_400_000,
    authTime: now,
    amr: ['otp'],
  },
};

const server = createServer((_req, res) => {
  const body = JSON.stringify(payload);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announceReady({ port }, () => new Promise((resolve) => server.close(() => resolve())));
});
