/**
 * Bundles the browser client of the hosted pages (src/http/pages/client/) into dist/client/:
 * app.js (ESM, ES2022, minified, with @simplewebauthn/browser inlined) and app.css. The server
 * serves both under /assets/ with a content hash in the URL, so they can be cached for a year.
 *
 * Run by `npm start` and the test runner before anything else: `node scripts/build-client.ts`.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const clientDir = `${root}src/http/pages/client/`;
const outdir = `${root}dist/client`;

export async function buildClient(): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  const started = performance.now();
  const result = await build({
    entryPoints: [`${clientDir}app.ts`, `${clientDir}app.css`],
    entryNames: '[name]',
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    // A source map would publish the client source: nothing secret, but nothing needed either.
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const outputs = Object.entries(result.metafile.outputs).map(
    ([file, meta]) => `${file.replace(`${root}`, '')} ${(meta.bytes / 1024).toFixed(1)} kB`,
  );
  console.log(`client built in ${Math.round(performance.now() - started)} ms: ${outputs.join(', ')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildClient();
  } catch (error) {
    console.error('client build failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
