import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** One wrk run, reduced to the numbers the tables print. Latencies in milliseconds. */
export interface WrkResult {
  requests: number;
  durationS: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Response bytes (status line, headers and body) per request, as read off the socket. */
  bytesPerResponse: number;
  /** Socket errors plus responses with status ≥ 400: any of these makes the run suspect. */
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
}

export interface WrkOptions {
  url: string;
  headers?: Record<string, string>;
  threads: number;
  connections: number;
  durationS: number;
  /** A POST with this JSON body instead of a GET (headers set Content-Type: application/json). */
  jsonBody?: string;
  /** Lua run before the done hook: a `request`/`response` pair that builds each request itself. */
  script?: string;
}

/**
 * wrk's `done` hook gets the summary and the latency histogram directly, so the numbers are
 * read from one JSON line instead of parsing the human-readable report (whose units change
 * with magnitude: "850.12us", "1.20ms").
 */
const DONE_SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nGATEHOUSE_BENCH_WRK {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,"p50_us":%.0f,"p99_us":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

const MARKER = 'GATEHOUSE_BENCH_WRK ';

/** Exits the process with a clear message when wrk is missing; benchmarks need nothing else. */
export function requireWrk(): void {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    console.error(
      'wrk (the HTTP load generator) is not on PATH.\n' +
        'Install it with:  apt-get install -y wrk   (Debian/Ubuntu; brew install wrk on macOS)',
    );
    process.exit(2);
  }
}

let scriptDir: string | undefined;

function doneScriptPath(jsonBody?: string): string {
  if (!scriptDir) {
    scriptDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-wrk-'));
    writeFileSync(join(scriptDir, 'done.lua'), DONE_SCRIPT);
    process.once('exit', () => rmSync(scriptDir!, { recursive: true, force: true }));
  }
  if (jsonBody === undefined) return join(scriptDir, 'done.lua');
  // wrk takes one script: the request setup goes in front of the done hook. The body is
  // embedded as a Lua long string, which needs no escaping as long as it holds no "]==]".
  if (jsonBody.includes(']==]')) throw new Error('request body must not contain "]==]"');
  const file = join(scriptDir, `post-${Buffer.from(jsonBody).toString('base64url').slice(0, 40)}.lua`);
  writeFileSync(
    file,
    `wrk.method = "POST"\nwrk.body = [==[${jsonBody}]==]\nwrk.headers["Content-Type"] = "application/json"\n${DONE_SCRIPT}`,
  );
  return file;
}

let customScripts = 0;

/** A one-off script file: `script` in front of the done hook. */
function customScriptPath(script: string): string {
  const file = join(dirname(doneScriptPath()), `custom-${++customScripts}.lua`);
  writeFileSync(file, `${script}\n${DONE_SCRIPT}`);
  return file;
}

/** Runs wrk once, bounded: `-d` stops it, and a kill timer backs that up if wrk hangs. */
export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const url = new URL(options.url);
  if (url.hostname !== '127.0.0.1')
    throw new Error(`refusing to load anything but 127.0.0.1 (got ${url.host})`);
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    '--timeout',
    '5s',
    '-s',
    options.script === undefined ? doneScriptPath(options.jsonBody) : customScriptPath(options.script),
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(options.url);

  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), (options.durationS + 15) * 1000);
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed (code ${code}, signal ${signal}): ${stderr.trim() || stdout.trim()}`));
        return;
      }
      resolve(toResult(JSON.parse(line.slice(MARKER.length)) as RawSummary));
    });
  });
}

interface RawSummary {
  requests: number;
  duration_us: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
}

function toResult(raw: RawSummary): WrkResult {
  const durationS = raw.duration_us / 1e6;
  return {
    requests: raw.requests,
    durationS,
    requestsPerSecond: raw.requests / durationS,
    p50Ms: raw.p50_us / 1000,
    p99Ms: raw.p99_us / 1000,
    bytesPerResponse: raw.requests > 0 ? raw.bytes / raw.requests : 0,
    errors: {
      connect: raw.connect,
      read: raw.read,
      write: raw.write,
      timeout: raw.timeout,
      status: raw.status,
    },
  };
}

export function errorCount(result: WrkResult): number {
  const e = result.errors;
  return e.connect + e.read + e.write + e.timeout + e.status;
}
