import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
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

/**
 * `class … extends String` anywhere in the process (ioredis' RESP3 VerbatimString) turns
 * String.prototype into a dictionary, and V8 never makes it fast again: from then on every
 * string method call (`s.toLowerCase()`, `s.charCodeAt(i)`) in optimized code goes through a
 * generic lookup. In bench:oauth that cost tens of thousands of instructions per grant. Loading
 * Gatehouse without Redis configured must leave it alone; open-redis.ts loads ioredis only when
 * a Redis URL is set.
 */
test('loading and starting Gatehouse without Redis leaves String.prototype fast', () => {
  const container = fileURLToPath(new URL('../../src/container.ts', import.meta.url));
  const config = fileURLToPath(new URL('../../src/config/load.ts', import.meta.url));
  const script = `
    const { createGatehouse } = await import(${JSON.stringify(container)});
    const { loadConfig } = await import(${JSON.stringify(config)});
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-proto-'));
    const gatehouse = await createGatehouse(loadConfig({}, {
      dataDir, host: '127.0.0.1', port: 0, origin: 'http://localhost:1', logLevel: 'silent',
      passwords: { enabled: true },
      oauth: { enabled: true, resources: [{ indicator: 'https://api.example', scopes: ['read'] }], clients: [] },
    }));
    await gatehouse.close();
    rmSync(dataDir, { recursive: true, force: true });
    console.log(JSON.stringify({ fast: %HasFastProperties(String.prototype) }));
  `;
  const output = execFileSync(
    process.execPath,
    ['--allow-natives-syntax', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  assert.deepEqual(JSON.parse(output.trim().split('\n').at(-1) ?? '{}'), { fast: true });
});
