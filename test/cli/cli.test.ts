import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/gatehouse.js');

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

async function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; saw:\n${seen}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.split('\n').find((line) => pattern.test(line));
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

describe('gatehouse CLI', () => {
  test('--help lists the commands', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /serve/);
    assert.match(result.stdout, /migrate/);
  });

  test('an unknown command exits 2 with the usage', () => {
    const result = run(['frobnicate']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /Unknown command/);
  });

  test('migrate applies migrations once; --status reports them', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    const first = run(['migrate'], { GATEHOUSE_DATA_DIR: dataDir });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Applied: 0001-core/);
    const second = run(['migrate'], { GATEHOUSE_DATA_DIR: dataDir });
    assert.match(second.stdout, /up to date/);
    const status = JSON.parse(run(['migrate', '--status'], { GATEHOUSE_DATA_DIR: dataDir }).stdout);
    assert.deepEqual(status.pending, []);
  });

  test('serve refuses unsafe production settings with a readable message', () => {
    const result = run(['serve'], {
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gatehouse-cli-')),
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /refusing to start in production|GATEHOUSE_SECRET is required/);
  });

  test('serve refuses a database whose schema it has not been migrated to when auto-migration is off', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    const result = run(['serve'], {
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_CONFIG: writeConfig(dataDir, { migrateOnStart: false }),
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /run `gatehouse migrate`/);
  });

  test('serve starts, answers, and on SIGTERM lets an in-flight request finish before exiting', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    const child = spawn(process.execPath, [bin, 'serve'], {
      cwd: root,
      env: { ...process.env, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await waitForLine(child, /listening/);
      const port = JSON.parse(line).port as number;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
      // A request whose body is still arriving when the process is told to stop.
      const body = JSON.stringify({ email: 'shutdown@example.com' });
      const request = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/email/sign-in',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const answered = new Promise<number>((resolve, reject) => {
        request.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
      });
      request.write(body.slice(0, 10));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(child.exitCode, null, 'still running while a request is in flight');
      request.end(body.slice(10));
      assert.equal(await answered, 202);
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

function writeConfig(dir: string, value: object): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}
