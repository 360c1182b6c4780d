/**
 * PasswordHasher.needsRehash runs on every successful sign-in: today's hashes are recognised
 * by their PHC prefix without a native call, anything else goes through the library's parser.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hash } from '@node-rs/argon2';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';

const params = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

describe('needsRehash', () => {
  const hasher = new PasswordHasher(params);

  test("a hash made with today's parameters needs nothing", async () => {
    const stored = await hasher.hash('correct horse battery staple');
    assert.ok(stored.startsWith('$argon2id$v=19$m=1024,t=1,p=1$'), stored);
    assert.equal(hasher.needsRehash(stored), false);
  });

  test('other memory, iterations, parallelism or algorithm: rehash', async () => {
    for (const other of [
      { memoryKiB: 2048, iterations: 1, parallelism: 1 },
      { memoryKiB: 1024, iterations: 2, parallelism: 1 },
      { memoryKiB: 1024, iterations: 1, parallelism: 2 },
    ]) {
      const stored = await new PasswordHasher(other).hash('pw');
      assert.equal(hasher.needsRehash(stored), true, JSON.stringify(other));
    }
    // argon2i (algorithm 1) with the same numbers.
    const argon2i = await hash('pw', {
      algorithm: 1 as never,
      memoryCost: 1024,
      timeCost: 1,
      parallelism: 1,
    });
    assert.ok(argon2i.startsWith('$argon2i$'));
    assert.equal(hasher.needsRehash(argon2i), true);
  });

  test('a prefix of today that is not a parameter match is not mistaken for one', () => {
    // m=10240 starts like m=1024: the comma after the number is part of the prefix.
    assert.equal(
      hasher.needsRehash('$argon2id$v=19$m=10240,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'),
      true,
    );
  });

  test('a stored value that is not an argon2 hash: rehash', () => {
    assert.equal(hasher.needsRehash('not a hash'), true);
    assert.equal(hasher.needsRehash(''), true);
  });
});
