import type { ReadyLine } from './child.ts';

/**
 * Child side of child.ts: announce readiness with one JSON line, and shut down cleanly on
 * SIGTERM/SIGINT or when the parent goes away (its end of our stdin closes).
 */
export function announceReady(line: ReadyLine, shutdown: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(1), 5_000);
    timer.unref();
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop).on('error', stop).resume();
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
