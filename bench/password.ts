/**
 * `npm run bench:password`: password sign-ins per second against the argon2id ceiling, and
 * what a sign-in storm does to session checks (issue #3).
 *
 * - Ceiling: one argon2id verification with the configured parameters, timed in this process
 *   (median of sequential runs); the machine can do at most cores ÷ that time per second. It is
 *   measured again right before every round's storm, and each round's sign-ins are divided by
 *   that round's ceiling: other work on a shared machine moves both together.
 * - Sign-in throughput: wrk POSTs correct credentials to /api/v1/password/sign-in (each answer
 *   is a 200 with a new session: argon2 verify, session insert, audit) for BENCH_DURATION s,
 *   once from a returning browser (its device cookie: the target's case) and once from new
 *   devices (no cookie: each sign-in also mails a new-device notice; reported beside it).
 *   The server's threads' CPU time (Linux /proc) gives the event loop's milliseconds per
 *   sign-in: every one of them is taken from the cores argon2 could use.
 * - Session latency: wrk GETs /api/v1/session for BENCH_DURATION s idle, then again while the
 *   sign-in storm runs; p99 is compared. Hashing runs on threads of its own, never the event
 *   loop, so session checks must keep flowing.
 * Targets (reported, never asserted): sign-ins ≥ 90 % of the ceiling; session p99 under the
 * storm ≤ 3 × idle. Rounds alternate and the median is reported (bench/README.md).
 *
 * Settings (environment, bounded): BENCH_ROUNDS (3), BENCH_DURATION seconds per run (5),
 * BENCH_CONNECTIONS for the storm (8), BENCH_SESSION_CONNECTIONS (8).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { HASHING_THREAD_NAME } from '../src/domain/passwords/hashing-threads.ts';
import { PasswordHasher } from '../src/domain/passwords/password-hasher.ts';
import { passwordsSchema } from '../src/config/schema.ts';
import { DEVICE_COOKIE } from '../src/http/device-cookie.ts';
import { type RunningServer, startServer } from './lib/child.ts';
import { intFromEnv } from './lib/settings.ts';
import { cpuByName, sampleThreads } from './lib/threads.ts';
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

const hasher = new PasswordHasher(passwordsSchema.parse({}).argon2);
const stored = await hasher.hash(PASSWORD);

/** Median of `count` sequential argon2id verifications with the default (configured) parameters. */
async function singleVerificationMs(count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count + 2; i++) {
    const started = performance.now();
    await hasher.verify(stored, PASSWORD);
    times.push(performance.now() - started);
  }
  return median(times.slice(2)); // the first two warm the caches
}

/**
 * argon2id alone with every core hashing at once (one verification per core in flight, no
 * HTTP, no database), per second over `seconds`. Below cores ÷ one verification because
 * concurrent hashes share the memory bus and caches (19 MiB each): it shows how much of the gap
 * to the ceiling is the hardware's, not the server's. Reported beside the target, never instead.
 */
async function parallelVerificationsPerSecond(cores: number, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await hasher.verify(stored, PASSWORD);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: cores }, loop));
  return (done * 1000) / (performance.now() - started);
}

const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** One round's storm alone: throughput, its own ceiling, and the server's CPU per sign-in. */
interface StormRound {
  result: WrkResult;
  hashMs: number;
  ceiling: number;
  /** Event-loop (main thread) CPU milliseconds per sign-in; NaN where /proc is missing. */
  mainMsPerSignIn: number;
  /** Hashing threads' CPU milliseconds per sign-in (argon2). */
  poolMsPerSignIn: number;
}

async function stormRound(server: RunningServer, cores: number, device: Device): Promise<StormRound> {
  const hashMs = await singleVerificationMs(10);
  const before = sampleThreads(server.pid);
  const result = await storm(server, device);
  const used = cpuByName(before, sampleThreads(server.pid));
  const perSignIn = (name: string) =>
    before.length > 0 && result.requests > 0 ? (used.get(name) ?? 0) / result.requests : Number.NaN;
  return {
    result,
    hashMs,
    ceiling: (cores * 1000) / hashMs,
    mainMsPerSignIn: perSignIn('MainThread'),
    poolMsPerSignIn: perSignIn(HASHING_THREAD_NAME),
  };
}

/**
 * Which browser signs in: a returning one sends the device cookie of an earlier sign-in (the
 * usual case: people sign in again where they signed in before); a new one sends none, so every
 * sign-in is a new device and mails its owner a notice (mail queue: template, seal, insert).
 */
type Device = { kind: 'returning'; cookie: string } | { kind: 'new' };

function storm(server: RunningServer, device: Device): Promise<WrkResult> {
  return runWrk({
    url: `http://127.0.0.1:${server.port}/api/v1/password/sign-in`,
    jsonBody: JSON.stringify({ email: 'bench@example.com', password: PASSWORD }),
    headers: device.kind === 'returning' ? { cookie: device.cookie } : {},
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

/** Signs in once over HTTP and checks the session; returns that browser's device cookie. */
async function check(server: RunningServer): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/v1/password/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.com', password: PASSWORD }),
  });
  if (response.status !== 200)
    throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
  const device = response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0] ?? '')
    .find((pair) => pair.startsWith(`${DEVICE_COOKIE}=`));
  if (!device) throw new Error('sign-in set no device cookie');
  const session = await fetch(`http://127.0.0.1:${server.port}/api/v1/session`, {
    headers: { cookie: server.cookie ?? '' },
  });
  if (session.status !== 200) throw new Error(`session check answered ${session.status}`);
  return device;
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  console.log(
    'bench:password — password sign-ins vs the argon2id ceiling; session checks during a sign-in storm',
  );
  console.log(
    `node ${process.version}, ${cores} CPU × ${cpus()[0]?.model.trim() ?? '?'}, UV_THREADPOOL_SIZE ${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}`,
  );
  console.log(`load average before start: ${loadAverage()}`);

  const hashMs = await singleVerificationMs(25);
  console.log(
    `argon2id verification (m=19456 KiB, t=2, p=1): ${formatMs(hashMs)} → ceiling ${formatInteger((cores * 1000) / hashMs)} sign-ins/s on ${cores} cores (measured again before every round)`,
  );

  const parallel = await parallelVerificationsPerSecond(cores, 4);
  console.log(
    `argon2id alone, ${cores} verifications at a time (no HTTP, no database): ${formatInteger(parallel)}/s = ${percent((parallel * hashMs) / (cores * 1000))} of that ceiling\n`,
  );

  process.env['BENCH_GATEHOUSE_PASSWORD'] = PASSWORD;
  const server = await startServer(
    'gatehouse',
    fileURLToPath(new URL('servers/gatehouse.ts', import.meta.url)),
  );
  try {
    const returning: Device = { kind: 'returning', cookie: await check(server) };
    const newDevice: Device = { kind: 'new' };
    // Warm-up: JIT and the hashing threads.
    await Promise.all([storm(server, returning), sessionChecks(server)]);
    await storm(server, newDevice);
    const pool = sampleThreads(server.pid).filter((t) => t.name === HASHING_THREAD_NAME);
    if (pool.length > 0) {
      // The server's hashing threads run below the event loop (src/domain/passwords/hashing-threads.ts):
      // shown here so a run where that did not happen is recognisable.
      console.log(
        `server hashing threads: ${pool.length} at nice ${[...new Set(pool.map((t) => t.nice))].join(', ')} (event loop at nice 0)`,
      );
    }

    const storms: StormRound[] = [];
    const newDeviceStorms: StormRound[] = [];
    const idle: WrkResult[] = [];
    const underStorm: WrkResult[] = [];
    const describe = (r: StormRound) =>
      `${formatInteger(r.result.requestsPerSecond)}/s of ${formatInteger(r.ceiling)} (${percent(r.result.requestsPerSecond / r.ceiling)}; verify ${formatMs(r.hashMs)}; event loop ${msOrDash(r.mainMsPerSignIn)}/sign-in)`;
    for (let round = 1; round <= rounds; round++) {
      const load = loadAverage();
      const alone = await stormRound(server, cores, returning);
      storms.push(alone);
      const fresh = await stormRound(server, cores, newDevice);
      newDeviceStorms.push(fresh);
      idle.push(await sessionChecks(server));
      const [loaded] = await Promise.all([sessionChecks(server), storm(server, returning)]);
      underStorm.push(loaded);
      console.log(
        `round ${round}/${rounds} (load ${load}): returning ${describe(alone)}; new devices ${describe(fresh)}; session p99 idle ${formatMs(idle.at(-1)!.p99Ms)}, under storm ${formatMs(loaded.p99Ms)}`,
      );
    }
    await check(server);

    const signIns = storms.map((r) => r.result);
    const ofCeiling = median(storms.map((r) => r.result.requestsPerSecond / r.ceiling));
    const newOfCeiling = median(newDeviceStorms.map((r) => r.result.requestsPerSecond / r.ceiling));
    const idleP99 = median(idle.map((r) => r.p99Ms));
    const stormP99 = median(underStorm.map((r) => r.p99Ms));
    const hashMsMedian = median(storms.map((r) => r.hashMs));
    console.log('');
    console.log(
      formatTable(
        ['measure', 'requests/s', 'p50', 'p99', 'errors'],
        [
          ['password sign-in, returning device (storm alone)', ...row(signIns)],
          ['password sign-in, new device: notice mailed', ...row(newDeviceStorms.map((r) => r.result))],
          ['GET /api/v1/session, idle', ...row(idle)],
          ['GET /api/v1/session, during storm', ...row(underStorm)],
        ],
      ),
    );
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    console.log('');
    console.log(
      `sign-ins / argon2id ceiling   ${percent(ofCeiling)}   (target ≥ ${GOAL_OF_CEILING * 100} %: ${verdict(ofCeiling >= GOAL_OF_CEILING)}; returning devices, median of the rounds' ratios)`,
    );
    console.log(
      `  new devices                 ${percent(newOfCeiling)}   (each sign-in also mails a new-device notice; reported, no target)`,
    );
    console.log(
      `  of argon2 alone on all cores ${percent(median(signIns.map((r) => r.requestsPerSecond)) / parallel)}   (returning devices against ${formatInteger(parallel)} parallel verifications/s measured at the start: the server's own share of the gap)`,
    );
    console.log(
      `session p99 storm / idle      ${(stormP99 / idleP99).toFixed(2)} ×   (target ≤ ${GOAL_P99_RATIO} ×: ${verdict(stormP99 / idleP99 <= GOAL_P99_RATIO)})`,
    );
    const mainMs = median(storms.map((r) => r.mainMsPerSignIn));
    if (!Number.isNaN(mainMs)) {
      // Sign-ins/s ≈ cores ÷ (verify + event-loop work + wrk), so reaching 90 % of the ceiling
      // leaves the event loop about a ninth of one verification per sign-in.
      console.log(
        `event loop per sign-in        ${formatMs(mainMs)}   (${percent(mainMs / hashMsMedian)} of one verification, ${formatMs(hashMsMedian)}; hashing threads ${formatMs(median(storms.map((r) => r.poolMsPerSignIn)))})`,
      );
    }
    console.log(`\nload average after: ${loadAverage()}`);
    console.log('Figures compare only within this run; wrk shares the CPU with the server.');
  } finally {
    await server.stop();
  }
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

function msOrDash(value: number): string {
  return Number.isNaN(value) ? '–' : formatMs(value);
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
