/**
 * `npm test`: everything that can run on this machine, in one command.
 * 1. build the browser bundle (the browser tests load it);
 * 2. typecheck (tsc --noEmit) and lint/format check (Biome);
 * 3. every test file under test/ and src/ with node:test.
 * Suites whose service (PostgreSQL, Chromium) is missing skip with a message saying how to
 * enable them; with CI=true they fail instead.
 */
import { spawnSync } from 'node:child_process';

const steps: Array<[string, string[]]> = [
  ['build client', ['node', 'scripts/build-client.ts']],
  ['typecheck', ['tsc', '--noEmit', '-p', '.']],
  ['lint', ['biome', 'check', '.']],
  [
    'tests',
    [
      'node',
      '--test',
      '--test-concurrency=2',
      '--test-timeout=120000',
      ...process.argv.slice(2).filter((arg) => arg.startsWith('--')),
      ...(process.argv.slice(2).filter((arg) => !arg.startsWith('--')).length
        ? process.argv.slice(2).filter((arg) => !arg.startsWith('--'))
        : ['test/**/*.test.ts', 'src/**/*.test.ts']),
    ],
  ],
];

for (const [name, command] of steps) {
  const [program = '', ...args] = command;
  console.log(`\n▶ ${name}: ${command.join(' ')}`);
  const result = spawnSync(program, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n✖ ${name} failed`);
    process.exit(result.status ?? 1);
  }
}
