import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identifierKey, networkKey } from './keys.ts';

describe('networkKey', () => {
  it('keeps an IPv4 address as it is', () => {
    assert.equal(networkKey('203.0.113.9'), '203.0.113.9');
    assert.notEqual(networkKey('203.0.113.9'), networkKey('203.0.113.10'));
  });

  it('groups IPv6 by /64, whatever the spelling', () => {
    const key = '2001:db8:1:2::/64';
    for (const address of [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:0000:0000:0000:0009',
      '2001:db8:1:2:0:0:192.0.2.1',
      '2001:db8:1:2::1%eth0',
    ]) {
      assert.equal(networkKey(address), key, address);
    }
    assert.notEqual(networkKey('2001:db8:1:3::1'), key, 'the next /64 is another client');
  });

  it('expands :: anywhere, including at the start and the end', () => {
    assert.equal(networkKey('::1'), '0:0:0:0::/64');
    assert.equal(networkKey('2001:db8::'), '2001:db8:0:0::/64');
    assert.equal(networkKey('::ffff:0:192.0.2.1'), '0:0:0:0::/64');
    assert.equal(networkKey('64:ff9b:1:2::192.0.2.1'), '64:ff9b:1:2::/64');
  });

  it('puts requests without an address in one bucket', () => {
    assert.equal(networkKey(null), 'none');
    assert.equal(networkKey('not-an-ip'), 'none');
  });
});

describe('identifierKey', () => {
  const secret = new Uint8Array(32).fill(7);

  it('never contains the identifier and depends on the instance secret', () => {
    const key = identifierKey(secret, { kind: 'email', value: 'ada@example.com' });
    assert.doesNotMatch(key, /ada|example/);
    assert.notEqual(
      key,
      identifierKey(new Uint8Array(32).fill(8), { kind: 'email', value: 'ada@example.com' }),
    );
  });

  it('folds the case of an address: one inbox, one budget', () => {
    assert.equal(
      identifierKey(secret, { kind: 'email', value: 'Ada@example.com' }),
      identifierKey(secret, { kind: 'email', value: 'ada@example.com' }),
    );
  });

  it('keeps kinds apart', () => {
    assert.notEqual(
      identifierKey(secret, { kind: 'user', value: 'x' }),
      identifierKey(secret, { kind: 'passkey', value: 'x' }),
    );
  });
});
