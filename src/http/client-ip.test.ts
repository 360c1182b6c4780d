import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientIpResolver } from './client-ip.ts';

describe('client IP', () => {
  test('without trusted proxies, X-Forwarded-For is ignored', () => {
    const resolver = new ClientIpResolver(undefined);
    assert.equal(resolver.resolve('203.0.113.7', '198.51.100.1'), '203.0.113.7');
    assert.equal(resolver.resolve('::ffff:203.0.113.7', undefined), '203.0.113.7');
  });

  test('from a trusted proxy, the right-most untrusted hop is the client', () => {
    const resolver = new ClientIpResolver('10.0.0.0/8, 2001:db8::/32');
    assert.equal(resolver.resolve('10.1.2.3', '198.51.100.9'), '198.51.100.9');
    // The left-most entries are whatever the client claimed: only what our proxies appended counts.
    assert.equal(resolver.resolve('10.1.2.3', '1.1.1.1, 198.51.100.9, 10.9.9.9'), '198.51.100.9');
    assert.equal(resolver.resolve('2001:db8::1', '2001:db8::2, 2a00::5'), '2a00::5');
  });

  test('from an untrusted peer, a forged header changes nothing', () => {
    const resolver = new ClientIpResolver('10.0.0.0/8');
    assert.equal(resolver.resolve('198.51.100.20', '10.0.0.1'), '198.51.100.20');
  });

  test('garbage in the header falls back to the socket address', () => {
    const resolver = new ClientIpResolver('10.0.0.0/8');
    assert.equal(resolver.resolve('10.1.2.3', 'not-an-ip'), '10.1.2.3');
  });

  test('an invalid proxy list is a startup error', () => {
    assert.throws(() => new ClientIpResolver('10.0.0.0/8, nonsense'), /not an IP or CIDR/);
  });
});
