import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

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
