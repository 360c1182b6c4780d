import { existsSync } from 'node:fs';

/**
 * Public test data (RFC and W3C vectors, the OWASP ASVS list) lives in ../shared/vectors beside
 * the checkout and is never copied into the repo. CI always has it; a clone on its own does not.
 */
export const SHARED_VECTORS = new URL('../../../shared/vectors/', import.meta.url);

/**
 * Why suites that need the shared vectors cannot run here, or null when they can. With CI=true
 * a missing folder is an error, never a skip.
 */
export function sharedVectorsUnavailable(): string | null {
  if (existsSync(SHARED_VECTORS)) return null;
  const message = `shared test vectors not found at ${SHARED_VECTORS.pathname}: check out the project's shared/ folder beside this repository to run these suites`;
  if (process.env.CI === 'true') throw new Error(message);
  return message;
}
