import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { renderConfigDocs } from '../../src/config/docs.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

const SECRET = 's'.repeat(40);
const tempDir = () => mkdtempSync(join(tmpdir(), 'gatehouse-config-'));

describe('configuration', () => {
  test('docs/configuration.md is generated from the schema and not stale', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    assert.equal(committed, renderConfigDocs(), 'run `npm run docs:config`');
  });

  test('defaults are safe for development and derive the RP ID from the origin', () => {
    const config = loadConfig({ GATEHOUSE_DATA_DIR: tempDir() });
    assert.equal(config.env, 'development');
    assert.equal(config.origin, 'http://localhost:3000');
    assert.equal(config.rpId, 'localhost');
    assert.equal(config.secretSource, 'generated');
    assert.equal(config.session.rollingLifetimeMs, 30 * 86_400_000);
    assert.equal(config.passkeys.userVerification, 'required');
  });

  test('the generated development secret is kept and reused', () => {
    const dir = tempDir();
    const first = loadConfig({ GATEHOUSE_DATA_DIR: dir });
    const second = loadConfig({ GATEHOUSE_DATA_DIR: dir });
    assert.equal(first.secret, second.secret);
    assert.ok(first.secret.length >= 32);
  });

  test('environment variables and the config file are read; env wins', () => {
    const dir = tempDir();
    const file = join(dir, 'gatehouse.json');
    writeFileSync(file, JSON.stringify({ port: 4000, appName: 'Acme', session: { idleTimeoutMs: 60_000 } }));
    const config = loadConfig({ GATEHOUSE_CONFIG: file, GATEHOUSE_PORT: '4100', GATEHOUSE_DATA_DIR: dir });
    assert.equal(config.port, 4100);
    assert.equal(config.appName, 'Acme');
    assert.equal(config.session.idleTimeoutMs, 60_000);
  });

  test('invalid values and unknown keys stop the start with the key named', () => {
    assert.throws(() => loadConfig({ GATEHOUSE_PORT: 'abc', GATEHOUSE_DATA_DIR: tempDir() }), /port/);
    assert.throws(
      () => loadConfig({ GATEHOUSE_DATABASE_URL: 'mysql://x', GATEHOUSE_DATA_DIR: tempDir() }),
      /databaseUrl/,
    );
    assert.throws(() => loadConfig({}, { dataDir: tempDir(), sessionz: {} }), /sessionz|Unrecognized/);
    assert.throws(
      () => loadConfig({ GATEHOUSE_ORIGIN: 'https://auth.example.com/path', GATEHOUSE_DATA_DIR: tempDir() }),
      ConfigError,
    );
  });

  test('password floors: under 8 characters, 19 MiB or 2 iterations is refused with the key and the minimum', () => {
    const refusal = (passwords: Record<string, unknown>): ConfigError => {
      try {
        loadConfig({ GATEHOUSE_DATA_DIR: tempDir() }, { passwords });
      } catch (caught) {
        assert.ok(caught instanceof ConfigError, String(caught));
        return caught;
      }
      assert.fail(`accepted ${JSON.stringify(passwords)}`);
    };
    assert.match(refusal({ minLength: 7 }).message, /passwords\.minLength: .*>=\s*8/);
    assert.match(
      refusal({ argon2: { memoryKiB: 19_455 } }).message,
      /passwords\.argon2\.memoryKiB: .*>=\s*19456/,
    );
    assert.match(refusal({ argon2: { iterations: 1 } }).message, /passwords\.argon2\.iterations: .*>=\s*2/);
    assert.match(refusal({ argon2: { parallelism: 0 } }).message, /passwords\.argon2\.parallelism: .*>=\s*1/);

    // The floors themselves are accepted.
    const floor = loadConfig(
      { GATEHOUSE_DATA_DIR: tempDir() },
      { passwords: { minLength: 8, argon2: { memoryKiB: 19_456, iterations: 2, parallelism: 1 } } },
    );
    assert.deepEqual(floor.passwords.argon2, { memoryKiB: 19_456, iterations: 2, parallelism: 1 });
    assert.equal(floor.passwords.minLength, 8);
  });

  test('production refuses an http origin, a generated secret and the development mailbox', () => {
    const base = { GATEHOUSE_ENV: 'production', GATEHOUSE_DATA_DIR: tempDir() };
    const error = (() => {
      try {
        loadConfig({ ...base, GATEHOUSE_SECRET: SECRET });
      } catch (caught) {
        return caught as Error;
      }
      return null;
    })();
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /https/);
    assert.match(error.message, /SMTP/);
    assert.throws(
      () =>
        loadConfig({
          ...base,
          GATEHOUSE_ORIGIN: 'https://auth.example.com',
          GATEHOUSE_SMTP_URL: 'smtp://mail:25',
        }),
      /GATEHOUSE_SECRET/,
    );
    const ok = loadConfig({
      ...base,
      GATEHOUSE_ORIGIN: 'https://auth.example.com',
      GATEHOUSE_SMTP_URL: 'smtps://u:p@mail.example.com:465',
      GATEHOUSE_SECRET: SECRET,
    });
    assert.equal(ok.secureOrigin, true);
    assert.equal(ok.migrateOnStart, false, 'production migrates only through `gatehouse migrate`');
  });
});
