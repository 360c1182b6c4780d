/**
 * `npm run bench:session`: GET /api/v1/session with a valid session cookie, against a bare
 * node:http baseline and Better Auth's get-session, all measured in this one run.
 *
 * Method (see bench/README.md for the reasoning):
 * - each server runs in its own Node process on 127.0.0.1, on a port the OS picked;
 * - each answer is checked once before measuring (and once after), so a broken setup
 *   (a 401, Better Auth's `null` for an unknown session) is never measured;
 * - each target is warmed up (≥ 10 s and ≥ 40k requests, then until its throughput stops
 *   climbing: the JIT has settled), in 2 s steps up to BENCH_WARMUP seconds;
 * - then measured round-robin (A B C A B C …) so drift on the machine hits every target
 *   alike; the median of the rounds is reported;
 * - the numbers are printed, never asserted: the exit status says only whether the run worked.
 *
 * Settings (environment, bounded): BENCH_ROUNDS (3), BENCH_DURATION seconds per run (5),
 * BENCH_WARMUP maximum seconds per target (40), BENCH_CONNECTIONS (32), BENCH_THREADS (1).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from './lib/child.ts';
import { intFromEnv } from './lib/settings.ts';
import { combineConcurrentRuns, formatInteger, formatMs, formatTable, median } from './lib/stats.ts';
import { errorCount, requireWrk, runWrk, type WrkResult } from './lib/wrk.ts';

requireWrk();

const rounds = intFromEnv('BENCH_ROUNDS', 3, 1, 10);
const durationS = intFromEnv('BENCH_DURATION', 5, 1, 30);
const warmupS = intFromEnv('BENCH_WARMUP', 40, 2, 120);
const connections = intFromEnv('BENCH_CONNECTIONS', 32, 1, 256);
const threads = intFromEnv('BENCH_THREADS', 1, 1, 4);

/** Targets for Gatehouse (DESIGN §6 benchmarks); reported, never enforced. */
const GOAL_VS_NODE_HTTP = 0.6;
const GOAL_VS_BETTER_AUTH = 20;

interface Target {
  key: 'gatehouse' | 'gatehouse-postgres' | 'node-http' | 'better-auth';
  label: string;
  file: string;
  path: string;
  /** Does the JSON body prove an authenticated answer? */
  accepts(body: unknown): boolean;
  /** Needs services that may be missing (PostgreSQL, Redis): skipped with the reason if so. */
  optional?: boolean;
}

/** Revocation across nodes should be visible within this (DESIGN §4: on the next request). */
const GOAL_REVOCATION_MS = 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const hasUser = (body: unknown): boolean =>
  isObject(body) && isObject(body.user) && body.user.email === 'bench@example.com';

const targets: Target[] = [
  {
    key: 'gatehouse',
    label: 'Gatehouse  GET /api/v1/session',
    file: 'servers/gatehouse.ts',
    path: '/api/v1/session',
    accepts: (body) => hasUser(body) && isObject(body) && isObject(body.session),
  },
  {
    key: 'gatehouse-postgres',
    label: 'Gatehouse  ×2 nodes, PostgreSQL + Redis',
    file: 'servers/gatehouse-postgres.ts',
    path: '/api/v1/session',
    accepts: (body) => hasUser(body) && isObject(body) && isObject(body.session),
    optional: true,
  },
  {
    key: 'node-http',
    label: 'node:http  (baseline)',
    file: 'servers/node-http.ts',
    path: '/',
    accepts: hasUser,
  },
  {
    key: 'better-auth',
    label: 'Better Auth  GET /api/auth/get-session',
    file: 'servers/better-auth.ts',
    path: '/api/auth/get-session',
    // Better Auth answers 200 with `null` when the session is unknown: check the body.
    accepts: (body) => hasUser(body) && isObject(body) && isObject(body.session),
  },
];

function urlOf(server: RunningServer, target: Target): string {
  return `http://127.0.0.1:${server.port}${target.path}`;
}

function headersOf(server: RunningServer): Record<string, string> {
  return server.cookie ? { cookie: server.cookie } : {};
}

/** A cluster is checked on every node: the session made on the first must work on each. */
async function check(server: RunningServer, target: Target, when: string): Promise<void> {
  for (const port of server.peerPorts ?? []) await check({ ...server, port, peerPorts: [] }, target, when);
  const response = await fetch(urlOf(server, target), {
    headers: headersOf(server),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.status !== 200 || !target.accepts(body)) {
    throw new Error(
      `${target.label}: unexpected answer ${when} (status ${response.status}): ${text.slice(0, 300)}`,
    );
  }
}

/** A cluster's nodes are loaded at once, the connections shared out among them. */
async function measure(server: RunningServer, target: Target, seconds: number): Promise<WrkResult> {
  const nodes = [server, ...(server.peerPorts ?? []).map((port) => ({ ...server, port }))];
  const runs = await Promise.all(
    nodes.map((node) =>
      runWrk({
        url: urlOf(node, target),
        headers: headersOf(server),
        threads,
        connections: Math.max(1, Math.round(connections / nodes.length)),
        durationS: seconds,
      }),
    ),
  );
  return runs.length === 1 ? runs[0]! : combineConcurrentRuns(runs);
}

/**
 * Revocation across nodes: each spare session is confirmed on the second node, signed out on
 * the first, and presented to the second again. Time from the sign-out's answer to the second
 * node's refusal; the refusal must come on that first request (no cache to wait out).
 */
async function revocationPropagation(server: RunningServer): Promise<number[]> {
  const [peer] = server.peerPorts ?? [];
  const samples: number[] = [];
  for (const cookie of server.spareCookies ?? []) {
    const onPeer = async () => {
      const response = await fetch(`http://127.0.0.1:${peer}/api/v1/session`, { headers: { cookie } });
      await response.arrayBuffer();
      return response.status;
    };
    if ((await onPeer()) !== 200) throw new Error('spare session not valid on the second node');
    const signOut = await fetch(`http://127.0.0.1:${server.port}/api/v1/session`, {
      method: 'DELETE',
      headers: { cookie },
    });
    if (signOut.status !== 204) throw new Error(`sign-out on the first node answered ${signOut.status}`);
    const revoked = performance.now();
    const status = await onPeer();
    samples.push(performance.now() - revoked);
    if (status !== 401) throw new Error(`revoked session still accepted by the second node (${status})`);
  }
  return samples;
}

const WARMUP_STEP_S = 2;
const WARMUP_MIN_S = 10;
/** JIT tiering follows call counts, not seconds: a slow target needs as many requests. */
const WARMUP_MIN_REQUESTS = 40_000;

/**
 * Loads the target in short steps until it is warm: at least WARMUP_MIN_S seconds and
 * WARMUP_MIN_REQUESTS requests, and then two steps in a row not more than 5 % above the best
 * step so far; never more than `warmupS` seconds. A fixed short warm-up measured Better Auth
 * while its JIT was still tiering up (≈1,000 req/s climbing to ≈2,000 over ~30k requests),
 * which flattered Gatehouse; a fixed long one wastes time on targets warm after a few seconds.
 */
async function warmUp(server: RunningServer, target: Target): Promise<number[]> {
  const steps: number[] = [];
  let requests = 0;
  let best = 0;
  let flat = 0;
  for (let elapsed = 0; elapsed + WARMUP_STEP_S <= warmupS; elapsed += WARMUP_STEP_S) {
    const result = await measure(server, target, WARMUP_STEP_S);
    steps.push(result.requestsPerSecond);
    requests += result.requests;
    flat = result.requestsPerSecond <= best * 1.05 ? flat + 1 : 0;
    best = Math.max(best, result.requestsPerSecond);
    const enough = elapsed + WARMUP_STEP_S >= WARMUP_MIN_S && requests >= WARMUP_MIN_REQUESTS;
    if (enough && flat >= 2) break;
  }
  return steps;
}

function wrkVersion(): string {
  try {
    const out = execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0]!.trim();
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    const out = (error as { stdout?: string }).stdout ?? '';
    return out.split('\n')[0]?.trim() || 'wrk';
  }
}

const servers = new Map<Target['key'], RunningServer>();
let interrupted = false;

async function stopAll(): Promise<void> {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  servers.clear();
}

process.once('SIGINT', () => {
  interrupted = true;
  void stopAll().then(() => process.exit(130));
});

async function main(): Promise<void> {
  const cpuList = cpus();
  console.log('bench:session — GET the current session with a valid cookie');
  console.log(
    `node ${process.version}, ${wrkVersion()}, ${cpuList.length} CPU × ${cpuList[0]?.model.trim() ?? '?'}`,
  );
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`load average before start: ${load} (other work on the machine skews every figure)`);
  console.log(
    `wrk -t${threads} -c${connections}, warm-up until stable (≤ ${warmupS} s) per target, ${rounds} round(s) × ${durationS} s, round-robin; median reported\n`,
  );

  // Start one at a time: start-up work (migrations, Better Auth's scrypt sign-up) stays out
  // of everyone's way.
  for (const target of [...targets]) {
    let server: RunningServer;
    try {
      server = await startServer(target.key, fileURLToPath(new URL(target.file, import.meta.url)));
    } catch (error) {
      if (!target.optional) throw error;
      console.log(`skipping ${target.label}: ${(error as Error).message} (see bench/README.md)`);
      targets.splice(targets.indexOf(target), 1);
      continue;
    }
    servers.set(target.key, server);
    await check(server, target, 'before warm-up');
  }

  for (const target of targets) {
    process.stdout.write(`warming up ${target.label}: `);
    const steps = await warmUp(servers.get(target.key)!, target);
    console.log(`${steps.map(formatInteger).join(' → ')} req/s`);
  }

  const results = new Map<Target['key'], WrkResult[]>(targets.map((t) => [t.key, []]));
  for (let round = 1; round <= rounds && !interrupted; round++) {
    const line: string[] = [];
    for (const target of targets) {
      const result = await measure(servers.get(target.key)!, target, durationS);
      results.get(target.key)!.push(result);
      line.push(`${target.key} ${formatInteger(result.requestsPerSecond)}`);
    }
    console.log(`round ${round}/${rounds}: ${line.join(', ')} req/s`);
  }

  for (const target of targets) await check(servers.get(target.key)!, target, 'after measuring');

  const summary = new Map(
    targets.map((t) => {
      const runs = results.get(t.key)!;
      return [
        t.key,
        {
          rps: median(runs.map((r) => r.requestsPerSecond)),
          p50: median(runs.map((r) => r.p50Ms)),
          p99: median(runs.map((r) => r.p99Ms)),
          bytes: median(runs.map((r) => r.bytesPerResponse)),
          errors: runs.reduce((sum, r) => sum + errorCount(r), 0),
          spread: runs.map((r) => formatInteger(r.requestsPerSecond)).join(' / '),
        },
      ];
    }),
  );

  console.log('');
  console.log(
    formatTable(
      ['target', 'requests/s', 'p50', 'p99', 'bytes/resp', 'errors', 'rounds (req/s)'],
      targets.map((t) => {
        const s = summary.get(t.key)!;
        return [
          t.label,
          formatInteger(s.rps),
          formatMs(s.p50),
          formatMs(s.p99),
          formatInteger(s.bytes),
          String(s.errors),
          s.spread,
        ];
      }),
    ),
  );

  const gatehouse = summary.get('gatehouse')!.rps;
  const vsNode = gatehouse / summary.get('node-http')!.rps;
  const vsBetterAuth = gatehouse / summary.get('better-auth')!.rps;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  console.log('');
  console.log(
    `Gatehouse / node:http    ${(vsNode * 100).toFixed(1)} %   (target ≥ ${GOAL_VS_NODE_HTTP * 100} %: ${verdict(vsNode >= GOAL_VS_NODE_HTTP)})`,
  );
  console.log(
    `Gatehouse / Better Auth  ${vsBetterAuth.toFixed(1)} ×   (target ≥ ${GOAL_VS_BETTER_AUTH} ×: ${verdict(vsBetterAuth >= GOAL_VS_BETTER_AUTH)})`,
  );
  const cluster = servers.get('gatehouse-postgres');
  if (cluster && summary.has('gatehouse-postgres')) {
    console.log(
      `Gatehouse ×2 PostgreSQL / Gatehouse SQLite  ${((summary.get('gatehouse-postgres')!.rps / gatehouse) * 100).toFixed(1)} %   (both nodes and PostgreSQL share this machine's CPUs)`,
    );
    const samples = await revocationPropagation(cluster);
    const worst = Math.max(...samples);
    console.log(
      `revocation across nodes (signed out on A → refused by B, ${samples.length} sessions): p50 ${formatMs(median(samples))}, max ${formatMs(worst)}   (target < ${GOAL_REVOCATION_MS} ms: ${verdict(worst < GOAL_REVOCATION_MS)}; B refused each on its first request)`,
    );
  }
  const withErrors = targets.filter((t) => summary.get(t.key)!.errors > 0);
  if (withErrors.length > 0) {
    console.log(
      `\nwarning: socket errors or non-2xx answers during measurement for ${withErrors.map((t) => t.key).join(', ')}; treat those figures as suspect`,
    );
  }
  console.log(
    `\nload average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    'Figures compare only within this run (same machine, same minute); the load generator shares the CPU.',
  );
}

try {
  await main();
} catch (error) {
  console.error(`\nbench:session failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
