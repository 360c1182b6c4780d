import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.ts';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/gatehouse.js');

/** A data folder with a config file and a migrated database, and the CLI run on it as an operator would. */
export interface CliWorkspace {
  dataDir: string;
  /**
   * `gatehouse <args>` in a child process against this folder, awaited without blocking (a
   * server in this process on the same folder keeps serving and finishes its writes).
   */
  run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }>;
  close(): void;
}

export function cliWorkspace(prefix: string, config: Record<string, unknown>, secret: string): CliWorkspace {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const configFile = join(dataDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const env = {
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_CONFIG: configFile,
    GATEHOUSE_SECRET: secret,
    GATEHOUSE_LOG_LEVEL: 'silent',
  };
  // Before any server opens the folder, so waiting here blocks nothing.
  const migrated = spawnSync(process.execPath, [bin, 'migrate'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(migrated.status, 0, migrated.stderr);
  return {
    dataDir,
    run: (args) => runCli(args, env),
    close: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/**
 * `gatehouse <args>` in a child process, awaited without blocking: for tests whose server runs
 * in this process and must keep answering (a synchronous spawn would stall it, and its
 * keep-alive sockets could expire under the client's next request).
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 },
      (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

/**
 * The environment an operator gives the CLI next to a running server: its data folder, secret,
 * Redis, and a config file with its origin and the OAuth settings it was started with (`oauth`,
 * the same input as `startOAuthGatehouse`'s).
 */
export function operatorEnv(
  server: { services: { config: Config } },
  oauth: Record<string, unknown>,
): Record<string, string> {
  const { config } = server.services;
  const configFile = join(config.dataDir, 'cli-config.json');
  writeFileSync(configFile, JSON.stringify({ origin: config.origin, oauth }));
  return {
    GATEHOUSE_DATA_DIR: config.dataDir,
    GATEHOUSE_SECRET: config.secret,
    GATEHOUSE_CONFIG: configFile,
    ...(config.redisUrl ? { GATEHOUSE_REDIS_URL: config.redisUrl } : {}),
  };
}
