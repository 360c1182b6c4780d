import { hasUnsafeCharacters } from '../text.ts';

/**
 * Where a sign-in may send the browser afterwards (DESIGN §4). Allowed: a relative path on our
 * origin, or an absolute URL listed in `allowedRedirects` (exact, or under a listed prefix that
 * ends in `/`). Everything else is refused: `//evil`, `/\evil`, `https://trusted@evil`,
 * `javascript:`, control characters, http outside development localhost.
 */
export class RedirectPolicy {
  readonly #origin: string;
  readonly #allowed: string[];
  readonly #allowLoopbackHttp: boolean;

  constructor(origin: string, allowed: string[], env: string) {
    this.#origin = origin;
    this.#allowed = allowed.map((entry) => new URL(entry).href);
    this.#allowLoopbackHttp = env !== 'production';
  }

  /** The safe target as an absolute URL, or null when refused. */
  resolve(target: string): string | null {
    // Control characters and backslashes are what browsers "fix up" into a different URL.
    if (target.length === 0 || target.length > 2048 || hasUnsafeCharacters(target) || target.includes('\\'))
      return null;
    if (target.startsWith('/')) {
      if (target.startsWith('//')) return null;
      const url = new URL(target, this.#origin);
      return url.origin === this.#origin ? url.href : null;
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return null;
    }
    if (url.username || url.password) return null;
    const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && this.#allowLoopbackHttp))
      return null;
    if (url.origin === this.#origin) return url.href;
    const href = url.href;
    const listed = this.#allowed.some((entry) =>
      entry.endsWith('/') ? href.startsWith(entry) && new URL(entry).origin === url.origin : href === entry,
    );
    return listed ? href : null;
  }

  /** For links we hand out: the path form when the target is on our origin. */
  toRelativeIfLocal(absolute: string): string {
    const url = new URL(absolute);
    return url.origin === this.#origin ? `${url.pathname}${url.search}${url.hash}` : absolute;
  }
}
