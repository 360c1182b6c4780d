import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SecureServerResponse, STATIC_SECURITY_HEADERS } from '../../src/http/middleware/security-headers.ts';

/**
 * SecureServerResponse adds DESIGN §4's headers when the head is written, whichever way a
 * handler writes it, and never over a header the handler set itself. Each route below writes
 * its head one of the ways Node allows (Koa: setHeader + end; Hono: writeHead with an object;
 * the session fast path: a flat list; a status message first).
 */
const ROUTES: Record<string, (response: ServerResponse) => void> = {
  '/implicit': (response) => {
    response.setHeader('Content-Type', 'text/plain');
    response.end('ok');
  },
  '/object': (response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain' });
    response.end('ok');
  },
  '/list': (response) => {
    response.writeHead(200, ['Content-Type', 'text/plain']);
    response.end('ok');
  },
  '/reason': (response) => {
    response.writeHead(201, 'Made', { 'content-type': 'text/plain' });
    response.end('ok');
  },
  '/own-cache': (response) => {
    response.setHeader('Cache-Control', 'public, max-age=60');
    response.end('ok');
  },
  '/own-csp-in-object': (response) => {
    response.writeHead(200, { 'Content-Security-Policy': "default-src 'self'" });
    response.end('ok');
  },
  '/own-frame-in-list': (response) => {
    response.writeHead(200, ['X-FRAME-OPTIONS', 'SAMEORIGIN']);
    response.end('ok');
  },
};

describe('SecureServerResponse', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer(
      { ServerResponse: SecureServerResponse },
      (request: IncomingMessage, response: ServerResponse) => ROUTES[request.url ?? '']?.(response),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const path of ['/implicit', '/object', '/list', '/reason']) {
    test(`every header, once, on a head written ${path.slice(1)}`, async () => {
      const response = await fetch(url + path);
      for (const [name, value] of STATIC_SECURITY_HEADERS)
        assert.equal(response.headers.get(name), value, name);
      assert.equal(response.headers.get('content-type'), 'text/plain');
      if (path === '/reason') assert.equal(response.statusText, 'Made');
    });
  }

  test("a handler's own value wins, whatever the spelling or the way it was given", async () => {
    assert.equal((await fetch(`${url}/own-cache`)).headers.get('cache-control'), 'public, max-age=60');
    assert.equal(
      (await fetch(`${url}/own-csp-in-object`)).headers.get('content-security-policy'),
      "default-src 'self'",
    );
    const framed = await fetch(`${url}/own-frame-in-list`);
    assert.equal(framed.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(framed.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  });
});
