import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dictionary } from '@zxcvbn-ts/language-common';
import { PasswordPolicy } from './password-policy.ts';

const policy = new PasswordPolicy({ minLength: 8, maxLength: 256, appName: 'Gatehouse' });
const email = 'ada.lovelace@example.com';

test('length: 8 characters minimum (code points), long passphrases allowed, a cap', async () => {
  assert.equal(await policy.problem('seven77', email), 'too_short');
  // Four emoji are 8 UTF-16 units but 4 characters to the person typing.
  assert.equal(await policy.problem('🐴🔋📎🔒', email), 'too_short');
  assert.equal(await policy.problem('correct horse battery staple', email), null);
  assert.equal(await policy.problem('x'.repeat(64) + 'yz', email), null, 'more than 64 is fine');
  assert.equal(await policy.problem('x'.repeat(257), email), 'too_long');
});

test('no composition rules: all lowercase letters or all digits are fine when not common', async () => {
  assert.equal(await policy.problem('zebrapancakemountain', email), null);
  assert.equal(await policy.problem('58207461939', email), null);
});

test('the common-passwords list (≥10,000 entries), whatever the case', async () => {
  assert.ok((dictionary['passwords-common'] as string[]).length >= 10_000);
  for (const common of ['password', 'Password1', '12345678', 'iloveyou', 'qwertyuiop', 'trustno1']) {
    assert.equal(await policy.problem(common, email), 'common', common);
  }
});

test('context words: the product name and the address cannot make up the password', async () => {
  for (const weak of ['Gatehouse2025!', 'ada.lovelace!', 'lovelace1234', 'gatehousepassword']) {
    assert.equal(await policy.problem(weak, email), 'context', weak);
  }
  assert.equal(
    await policy.problem('my gatehouse has a red door', email),
    null,
    'a word among others is fine',
  );
});

test('check() throws weak_password with the reason, for the form to show', async () => {
  await assert.rejects(
    policy.check('password', email),
    (error: Error & { code?: string; extra?: unknown }) => {
      assert.equal(error.code, 'weak_password');
      assert.deepEqual(error.extra, { reason: 'common' });
      return true;
    },
  );
});
