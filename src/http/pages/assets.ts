import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { errorBody } from '../middleware/errors.ts';
import { requestLog } from '../middleware/request-context.ts';

/**
 * The browser client bundle (dist/client/, built by scripts/build-client.ts) served under
 * /assets/. Pages link it with a content hash (`/assets/app.js?v=…`), so a response for the
 * current hash is cached for a year and a new build changes the URL.
 */
interface Asset {
  body: Uint8Array<ArrayBuffer>;
  /** First 16 hex digits of the SHA-256 of the body. */
  hash: string;
  mtimeMs: number;
  path: string;
}

export type AssetName = 'app.js' | 'app.css';

const CONTENT_TYPES: Record<AssetName, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const DIST_DIR = fileURLToPath(new URL('../../../dist/client/', import.meta.url));
/** Without a build the stylesheet still comes from source, so pages stay readable. */
const CSS_SOURCE = fileURLToPath(new URL('./client/app.css', import.meta.url));

const BUILD_HINT = 'run `node scripts/build-client.ts` (npm start and npm test do it first)';

export class ClientAssets {
  readonly #cache = new Map<AssetName, Asset>();
  readonly #reportedMissing = new Set<AssetName>();

  /**
   * The asset, re-read when the file changed on disk (a rebuild during development), or null
   * when there is no build. A stat per call costs microseconds and keeps a long-running dev
   * server in step with `build-client`.
   */
  get(name: AssetName): Asset | null {
    const candidates = name === 'app.css' ? [DIST_DIR + name, CSS_SOURCE] : [DIST_DIR + name];
    for (const path of candidates) {
      let mtimeMs: number;
      try {
        mtimeMs = statSync(path).mtimeMs;
      } catch {
        continue;
      }
      const cached = this.#cache.get(name);
      if (cached && cached.path === path && cached.mtimeMs === mtimeMs) return cached;
      const body = new Uint8Array(readFileSync(path));
      const asset = {
        body,
        hash: createHash('sha256').update(body).digest('hex').slice(0, 16),
        mtimeMs,
        path,
      };
      this.#cache.set(name, asset);
      this.#reportedMissing.delete(name);
      return asset;
    }
    this.#cache.delete(name);
    return null;
  }

  /** The URL to put in a page, or null (and one logged error) when the bundle is missing. */
  url(c: Context<AppEnv>, name: AssetName): string | null {
    const asset = this.get(name);
    if (asset) return `/assets/${name}?v=${asset.hash}`;
    this.#reportMissing(c, name);
    return null;
  }

  /** Logged once per process (and again after a build appeared and vanished), not per request. */
  #reportMissing(c: Context<AppEnv>, name: AssetName): void {
    if (this.#reportedMissing.has(name)) return;
    this.#reportedMissing.add(name);
    requestLog(c).error(
      { asset: DIST_DIR + name },
      `client bundle missing: pages render but their buttons will not work; ${BUILD_HINT}`,
    );
  }

  mount(app: Hono<AppEnv>): void {
    for (const name of Object.keys(CONTENT_TYPES) as AssetName[]) {
      app.get(`/assets/${name}`, (c) => {
        const asset = this.get(name);
        if (!asset) {
          this.#reportMissing(c, name);
          return c.json(errorBody('not_found', 'Not found.'), 404);
        }
        const etag = `"${asset.hash}"`;
        c.header('Content-Type', CONTENT_TYPES[name]);
        c.header('ETag', etag);
        // The versioned URL never changes content: cache it for a year. Any other URL (no or
        // an old version) must revalidate, so a stale copy is never used after a deploy.
        c.header(
          'Cache-Control',
          c.req.query('v') === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
        if (c.req.header('if-none-match') === etag) return c.body(null, 304);
        return c.body(asset.body, 200);
      });
    }
  }
}
