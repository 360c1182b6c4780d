/**
 * `npm run bench:oauth`: token endpoint throughput of Gatehouse's OAuth provider (on SQLite)
 * against standalone oidc-provider on its in-memory adapter, measured in this one run.
 *
 * Scenarios:
 * - client_credentials: the same POST again and again (client authenticated with HTTP Basic,
 *   a 5-minute ES256 JWT access token for the API back);
 * - refresh_token: each connection follows a chain of rotated refresh tokens: a wrk `response`
 *   hook takes the new refresh token from every answer and the next request presents it, so
 *   every request is a legitimate rotation (no reuse, no grace window). Chains start from
 *   tokens the server hands out on its seeder port before each run (Gatehouse: real code
 *   flows; oidc-provider: its own models).
 *
 * Method as bench:session (bench/README.md): servers in their own processes on 127.0.0.1,
 * each answer checked before measuring, warm-up, then round-robin rounds; medians reported,
 * never asserted. Settings (environment, bounded): BENCH_ROUNDS (3), BENCH_DURATION seconds
 * per run (5), BENCH_WARMUP seconds per target and scenario (6), BENCH_CONNECTIONS (32),
 * BENCH_THREADS (1), BENCH_SCENARIOS (both, comma-separated: `client_credentials`, `refresh_token`).
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from './lib/child.ts';
import { intFromEnv } from './lib/settings.ts';
import { formatInteger, formatMs, formatTable, median } from './lib/stats.ts';
import { cpuByName, sampleThreads } from './lib/threads.ts';
import { errorCount, requireWrk, runWrk, type WrkResult } from './lib/wrk.ts';
import { BENCH_APP, BENCH_SERVICE, basicAuth } from './servers/oauth-clients.ts';

requireWrk();

const rounds = intFromEnv('BENCH_ROUNDS', 3, 1, 10);
const durationS = intFromEnv('BENCH_DURATION', 5, 1, 30);
const warmupS = intFromEnv('BENCH_WARMUP', 6, 2, 60);
const connections = intFromEnv('BENCH_CONNECTIONS', 32, 1, 128);
const threads = intFromEnv('BENCH_THREADS', 1, 1, 4);

interface Target {
  key: 'gatehouse' | 'oidc-provider';
  label: string;
  file: string;
  tokenPath: string;
}

const targets: Target[] = [
  {
    key: 'gatehouse',
    label: 'Gatehouse (SQLite)',
    file: 'servers/oauth-gatehouse.ts',
    tokenPath: '/oauth/token',
  },
  {
    key: 'oidc-provider',
    label: 'oidc-provider (memory, baseline)',
    file: 'servers/oidc-provider.ts',
    tokenPath: '/token',
  },
];

const ALL_SCENARIOS = ['client_credentials', 'refresh_token'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
const scenarios = scenariosFromEnv();

function scenariosFromEnv(): Scenario[] {
  const asked = process.env['BENCH_SCENARIOS']?.split(',').map((name) => name.trim()) ?? [...ALL_SCENARIOS];
  const unknown = asked.filter((name) => !(ALL_SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0 || asked.length === 0)
    throw new Error(`BENCH_SCENARIOS: expected ${ALL_SCENARIOS.join(' and/or ')}, got "${asked.join(',')}"`);
  return ALL_SCENARIOS.filter((name) => asked.includes(name));
}

const FORM = 'application/x-www-form-urlencoded';

function lua(value: string): string {
  // Only our own constants and base64url tokens reach here; refuse anything that could break out.
  if (!/^[\w .:/=&+-]*$/.test(value)) throw new Error(`unexpected characters in ${value}`);
  return `"${value}"`;
}

/** Lua that builds each request: a fixed one, or the next link of a refresh-token chain. */
function script(target: Target, scenario: Scenario, seeds: string[]): string {
  if (scenario === 'client_credentials') {
    return [
      'wrk.method = "POST"',
      `wrk.body = ${lua('grant_type=client_credentials&scope=read')}`,
      `wrk.headers["Content-Type"] = ${lua(FORM)}`,
      `wrk.headers["Authorization"] = ${lua(basicAuth(BENCH_SERVICE))}`,
    ].join('\n');
  }
  return `
local tokens = { ${seeds.map(lua).join(', ')} }
local headers = { ["Content-Type"] = ${lua(FORM)}, ["Authorization"] = ${lua(basicAuth(BENCH_APP))} }
request = function()
  local token = table.remove(tokens) or "exhausted"
  return wrk.format("POST", ${lua(target.tokenPath)}, headers, "grant_type=refresh_token&refresh_token=" .. token)
end
response = function(status, headers, body)
  local token = string.match(body, '"refresh_token":"([%w_-]+)"')
  if token then table.insert(tokens, token) end
end`;
}

async function seeds(server: RunningServer, count: number): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${server.sidePort}/seed?count=${count}`, {
    method: 'POST',
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`${server.name}: seeding failed: ${await response.text()}`);
  return (await response.json()) as string[];
}

/**
 * One run: wrk's figures and the server's CPU time per grant, from /proc (Linux; NaN elsewhere).
 * CPU time moves far less than throughput when other work shares the machine.
 */
interface Measured extends WrkResult {
  /** Server CPU µs per grant, all threads (event loop, thread pool, garbage collector). */
  cpuUs: number;
  /** The event loop's part of it. */
  mainThreadUs: number;
}

async function measure(
  server: RunningServer,
  target: Target,
  scenario: Scenario,
  seconds: number,
): Promise<Measured> {
  // Twice as many chains as connections: wrk asks for a connection's next request before it
  // hands over the previous answer, so a spare token must be waiting.
  const chainSeeds = scenario === 'refresh_token' ? await seeds(server, 2 * connections) : [];
  const before = sampleThreads(server.pid);
  const result = await runWrk({
    url: `http://127.0.0.1:${server.port}${target.tokenPath}`,
    threads,
    connections,
    durationS: seconds,
    script: script(target, scenario, chainSeeds),
  });
  const used = cpuByName(before, sampleThreads(server.pid));
  const perGrant = (ms: number): number =>
    before.length > 0 && result.requests > 0 ? (ms * 1000) / result.requests : Number.NaN;
  return {
    ...result,
    cpuUs: perGrant([...used.values()].reduce((sum, ms) => sum + ms, 0)),
    mainThreadUs: perGrant(used.get('MainThread') ?? 0),
  };
}

/** One request of each kind must succeed before anything is measured. */
async function check(server: RunningServer, target: Target, when: string): Promise<void> {
  const post = (body: string, client: { client_id: string; client_secret: string }) =>
    fetch(`http://127.0.0.1:${server.port}${target.tokenPath}`, {
      method: 'POST',
      headers: { 'content-type': FORM, authorization: basicAuth(client) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  const cc = await post('grant_type=client_credentials&scope=read', BENCH_SERVICE);
  const ccBody = (await cc.json()) as { access_token?: string };
  if (cc.status !== 200 || !ccBody.access_token?.includes('.'))
    throw new Error(`${target.label}: client_credentials ${when}: ${cc.status} ${JSON.stringify(ccBody)}`);
  const [token] = await seeds(server, 1);
  const refresh = await post(`grant_type=refresh_token&refresh_token=${token}`, BENCH_APP);
  const refreshBody = (await refresh.json()) as { refresh_token?: string };
  if (refresh.status !== 200 || !refreshBody.refresh_token || refreshBody.refresh_token === token)
    throw new Error(
      `${target.label}: refresh_token ${when}: ${refresh.status} ${JSON.stringify(refreshBody)}`,
    );
}

const servers = new Map<Target['key'], RunningServer>();
async function stopAll(): Promise<void> {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  servers.clear();
}
process.once('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

async function main(): Promise<void> {
  const cpuList = cpus();
  console.log('bench:oauth — token endpoint: client_credentials and refresh_token grants');
  console.log(`node ${process.version}, ${cpuList.length} CPU × ${cpuList[0]?.model.trim() ?? '?'}`);
  console.log(
    `load average before start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `wrk -t${threads} -c${connections}, ${warmupS} s warm-up per target and scenario, ${rounds} round(s) × ${durationS} s, round-robin; median reported\n`,
  );
  for (const target of targets) {
    const server = await startServer(target.key, fileURLToPath(new URL(target.file, import.meta.url)));
    servers.set(target.key, server);
    await check(server, target, 'before warm-up');
  }
  const results = new Map<string, Measured[]>();
  for (const scenario of scenarios) {
    for (const target of targets) {
      process.stdout.write(`warming up ${target.label}, ${scenario}: `);
      const warm = await measure(servers.get(target.key)!, target, scenario, warmupS);
      console.log(`${formatInteger(warm.requestsPerSecond)} req/s`);
    }
    for (let round = 1; round <= rounds; round++) {
      const line: string[] = [];
      // A B, then B A: whichever target runs second in a round runs right after the other's
      // load, so the order alternates and neither is always the one that follows.
      for (const target of round % 2 === 1 ? targets : [...targets].reverse()) {
        const result = await measure(servers.get(target.key)!, target, scenario, durationS);
        const key = `${scenario}/${target.key}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        line.push(
          `${target.key} ${formatInteger(result.requestsPerSecond)} req/s, ${formatInteger(result.cpuUs)} µs CPU/grant`,
        );
      }
      console.log(
        `${scenario} round ${round}/${rounds}: ${line.join('; ')} (load ${loadavg()[0]!.toFixed(2)})`,
      );
    }
  }
  for (const target of targets) await check(servers.get(target.key)!, target, 'after measuring');

  const rows: string[][] = [];
  const ratios: string[] = [];
  for (const scenario of scenarios) {
    const rps = new Map<string, number>();
    const cpu = new Map<string, number>();
    for (const target of targets) {
      const runs = results.get(`${scenario}/${target.key}`) ?? [];
      rps.set(target.key, median(runs.map((r) => r.requestsPerSecond)));
      cpu.set(target.key, median(runs.map((r) => r.cpuUs)));
      rows.push([
        scenario,
        target.label,
        formatInteger(rps.get(target.key)!),
        formatMs(median(runs.map((r) => r.p50Ms))),
        formatMs(median(runs.map((r) => r.p99Ms))),
        `${formatInteger(cpu.get(target.key)!)} µs`,
        `${formatInteger(median(runs.map((r) => r.mainThreadUs)))} µs`,
        String(runs.reduce((sum, r) => sum + errorCount(r), 0)),
        runs.map((r) => formatInteger(r.requestsPerSecond)).join(' / '),
      ]);
    }
    // Each round measures both targets back to back, so the ratio within a round cancels what
    // the machine was doing at that moment; the median of those ratios is the figure.
    const ours = results.get(`${scenario}/gatehouse`) ?? [];
    const theirs = results.get(`${scenario}/oidc-provider`) ?? [];
    const perRound = ours.map((r, i) => r.requestsPerSecond / (theirs[i]?.requestsPerSecond ?? Number.NaN));
    const ratio = median(perRound);
    const goal =
      scenario === 'client_credentials'
        ? `   (target ≥ 90 %: ${ratio >= 0.9 ? 'met' : 'NOT met'})`
        : '   (reported)';
    ratios.push(
      `${scenario}: Gatehouse / oidc-provider ${(ratio * 100).toFixed(1)} %${goal}; per round ${perRound.map((r) => `${(r * 100).toFixed(0)} %`).join(' / ')}; ratio of the medians ${((rps.get('gatehouse')! / rps.get('oidc-provider')!) * 100).toFixed(1)} %; server CPU per grant ${formatInteger(cpu.get('gatehouse')!)} µs against ${formatInteger(cpu.get('oidc-provider')!)} µs (${((cpu.get('oidc-provider')! / cpu.get('gatehouse')!) * 100).toFixed(1)} %)`,
    );
  }
  console.log('');
  console.log(
    formatTable(
      [
        'scenario',
        'target',
        'requests/s',
        'p50',
        'p99',
        'CPU/grant',
        'event loop',
        'errors',
        'rounds (req/s)',
      ],
      rows,
    ),
  );
  console.log('');
  for (const line of ratios) console.log(line);
  console.log(
    `\nload average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    'The baseline keeps everything in memory; Gatehouse writes every token, the rotation and the grace-window claim to SQLite.',
  );
}

try {
  await main();
} catch (error) {
  console.error(`\nbench:oauth failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
