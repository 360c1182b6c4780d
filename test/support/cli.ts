import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/gatehouse.js');

/** A data folder with a config file and a migrated database, and the CLI run on it as an operator would. */
export interface CliWorkspace {
  dataDir: string;
  /** `gatehouse <args>` in a child process against this folder; waits for it. */
  run(args: string[]): SpawnSyncReturns<string>;
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
  const run = (args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  assert.equal(run(['migrate']).status, 0);
  return { dataDir, run, close: () => rmSync(dataDir, { recursive: true, force: true }) };
}
