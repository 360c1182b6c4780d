import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** What a bench server prints (one JSON line on stdout) once it accepts requests. */
export interface ReadyLine {
  port: number;
  /** `Cookie` header value that authenticates, when the target needs one. */
  cookie?: string;
  /** A second loopback port the target offers besides the measured one (bench:oauth's token seeder). */
  sidePort?: number;
  /** More nodes serving the same users (a cluster): measured together with `port`. */
  peerPorts?: number[];
  /** Extra sessions (Cookie header values) the driver may revoke, e.g. to time revocation. */
  spareCookies?: string[];
}

export interface RunningServer extends ReadyLine {
  name: string;
  /** The child's process id: bench:password reads its threads' CPU time and priority from /proc. */
  pid: number;
  stop(): Promise<void>;
}

function isReadyLine(value: unknown): value is ReadyLine {
  return typeof value === 'object' && value !== null && typeof (value as ReadyLine).port === 'number';
}

/**
 * Starts `file` in its own Node process, so the server never shares an event loop (or a
 * garbage collector) with the process that drives wrk. The child's stdin stays open as a
 * lifeline: when this process dies, the pipe closes and the child exits (see ready.ts).
 * Any other output of the child is passed through to stderr, prefixed with its name.
 */
export function startServer(name: string, file: string, timeoutMs = 60_000): Promise<RunningServer> {
  const child = spawn(process.execPath, [file], { stdio: ['pipe', 'pipe', 'pipe'] });
  const prefix = (line: string) => `[${name}] ${line}\n`;
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(prefix(line)));

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${name}: not ready within ${timeoutMs} ms`)), timeoutMs);
    child.on('error', fail);
    child.on('exit', (code, signal) =>
      fail(new Error(`${name}: exited before ready (code ${code}, signal ${signal})`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!settled && line.startsWith('{')) {
        try {
          const parsed: unknown = JSON.parse(line);
          if (isReadyLine(parsed)) {
            settled = true;
            clearTimeout(timer);
            resolve({ name, ...parsed, pid: child.pid ?? 0, stop: () => stopChild(child) });
            return;
          }
        } catch {
          // not our line; fall through and pass it on
        }
      }
      process.stderr.write(prefix(line));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hardKill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(hardKill);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
