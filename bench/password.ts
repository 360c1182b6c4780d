/**
 * `npm run bench:password`: password sign-ins per second against the argon2id ceiling, and
 * what a sign-in storm does to session checks (issue #3).
 *
 * - Ceiling: one argon2id verification with the configured parameters, timed in this process
 *   (median of sequential runs); the machine can do at most cores ÷ that time per second.
 * - Sign-in throughput: wrk POSTs correct credentials to /api/v1/password/sign-in (each answer
 *   is a 200 with a new session: argon2 verify, session insert, audit) for BENCH_DURATION s.
 * - Session latency: wrk GETs /api/v1/session for BENCH_DURATION s idle, then again while the
 *   sign-in storm runs; p99 is compared. Hashing runs on libuv's thread pool, never the event
 *   loop, so session checks must keep flowing.
 * Targets (reported, never asserted): sign-ins ≥ 90 % of the ceiling; session p99 under the
 * storm ≤ 3 × idle. Rounds alternate and the median is reported (bench/README.md).
 *
 * Settings (environment, bounded): BENCH_ROUNDS (3), BENCH_DURATION seconds per run (5),
 * BENCH_CONNECTIONS for the storm (8), BENCH_SESSION_CONNECTIONS (8).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PasswordHasher } from '../src/domain/passwords/password-hasher.ts';
import { passwordsSchema } from '../src/config/schema.ts';
import { type RunningServer, startServer } from './lib/child.ts';
import { intFromEnv } from './lib/settings.ts';
import { formatInteger, formatMs, formatTable, median } from './lib/stats.ts';
import { errorCount, requireWrk, runWrk, type WrkResult } from './lib/wrk.ts';

requireWrk();

const rounds = intFromEnv('BENCH_ROUNDS', 3, 1, 10);
const durationS = intFromEnv('BENCH_DURATION', 5, 1, 30);
const stormConnections = intFromEnv('BENCH_CONNECTIONS', 8, 1, 64);
const sessionConnections = intFromEnv('BENCH_SESSION_CONNECTIONS', 8, 1, 64);

const GOAL_OF_CEILING = 0.9;
const GOAL_P99_RATIO = 3;
const PASSWORD = 'bench passphrase that is long enough';

/** Sequential argon2id verifications with the default (configured) parameters. */
async function singleVerificationMs(): Promise<number> {
  const hasher = new PasswordHasher(passwordsSchema.parse({}).argon2);
  const stored = await hasher.hash(PASSWORD);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const started = performance.now();
    await hasher.verify(stored, PASSWORD);
    times.push(performance.now() - started);
  }
  return median(times.slice(5));
}

function storm(server: RunningServer): Promise<WrkResult> {
  return runWrk({
    url: `http://127.0.0.1:${server.port}/api/v1/password/sign-in`,
    jsonBody: JSON.stringify({ email: 'bench@example.com', password: PASSWORD }),
    threads: 1,
    connections: stormConnections,
    durationS,
  });
}

function sessionChecks(server: RunningServer): Promise<WrkResult> {
  return runWrk({
    url: `http://127.0.0.1:${server.port}/api/v1/session`,
    headers: server.cookie ? { cookie: server.cookie } : {},
    threads: 1,
    connections: sessionConnections,
    durationS,
  });
}

async function check(server: RunningServer): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/v1/password/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.com', password: PASSWORD }),
  });
  if (response.status !== 200)
    throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
  const session = await fetch(`http://127.0.0.1:${server.port}/api/v1/session`, {
    headers: { cookie: server.cookie ?? '' },
  });
  if (session.status !== 200) throw new Error(`session check answered ${session.status}`);
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  console.log(
    'bench:password — password sign-ins vs the argon2id ceiling; session checks during a sign-in storm',
  );
  console.log(
    `node ${process.version}, ${cores} CPU × ${cpus()[0]?.model.trim() ?? '?'}, UV_THREADPOOL_SIZE ${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}`,
  );
  console.log(
    `load average before start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const hashMs = await singleVerificationMs();
  const ceiling = (cores * 1000) / hashMs;
  console.log(
    `argon2id verification (m=19456 KiB, t=2, p=1): ${formatMs(hashMs)} → ceiling ${formatInteger(ceiling)} sign-ins/s on ${cores} cores\n`,
  );

  process.env['BENCH_GATEHOUSE_PASSWORD'] = PASSWORD;
  const server = await startServer(
    'gatehouse',
    fileURLToPath(new URL('servers/gatehouse.ts', import.meta.url)),
  );
  try {
    await check(server);
    // Warm-up: JIT and the thread pool.
    await Promise.all([storm(server), sessionChecks(server)]);

    const signIns: WrkResult[] = [];
    const idle: WrkResult[] = [];
    const underStorm: WrkResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      signIns.push(await storm(server));
      idle.push(await sessionChecks(server));
      const [loaded] = await Promise.all([sessionChecks(server), storm(server)]);
      underStorm.push(loaded);
      console.log(
        `round ${round}/${rounds}: sign-ins ${formatInteger(signIns.at(-1)!.requestsPerSecond)}/s; session p99 idle ${formatMs(idle.at(-1)!.p99Ms)}, under storm ${formatMs(loaded.p99Ms)}`,
      );
    }
    await check(server);

    const rps = median(signIns.map((r) => r.requestsPerSecond));
    const idleP99 = median(idle.map((r) => r.p99Ms));
    const stormP99 = median(underStorm.map((r) => r.p99Ms));
    console.log('');
    console.log(
      formatTable(
        ['measure', 'requests/s', 'p50', 'p99', 'errors'],
        [
          ['password sign-in (storm alone)', ...row(signIns)],
          ['GET /api/v1/session, idle', ...row(idle)],
          ['GET /api/v1/session, during storm', ...row(underStorm)],
        ],
      ),
    );
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    console.log('');
    console.log(
      `sign-ins / argon2id ceiling   ${((rps / ceiling) * 100).toFixed(1)} %   (target ≥ ${GOAL_OF_CEILING * 100} %: ${verdict(rps / ceiling >= GOAL_OF_CEILING)})`,
    );
    console.log(
      `session p99 storm / idle      ${(stormP99 / idleP99).toFixed(2)} ×   (target ≤ ${GOAL_P99_RATIO} ×: ${verdict(stormP99 / idleP99 <= GOAL_P99_RATIO)})`,
    );
    console.log(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log('Figures compare only within this run; wrk shares the CPU with the server.');
  } finally {
    await server.stop();
  }
}

function row(runs: WrkResult[]): string[] {
  return [
    formatInteger(median(runs.map((r) => r.requestsPerSecond))),
    formatMs(median(runs.map((r) => r.p50Ms))),
    formatMs(median(runs.map((r) => r.p99Ms))),
    String(runs.reduce((sum, r) => sum + errorCount(r), 0)),
  ];
}

try {
  await main();
} catch (error) {
  console.error(`\nbench:password failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
