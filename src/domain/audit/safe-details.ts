import { escapeUnsafeCharacters } from '../text.ts';

/**
 * Detail keys that could carry a secret. Callers never pass one (DESIGN §4: no secret is ever
 * logged); this is the net under that rule, so a future `details: { token }` is stored as
 * "[redacted]" instead of becoming a credential in every backup and export of the log.
 */
const SECRET_KEY = /token|secret|password|passphrase|cookie|authori[sz]ation|code$/i;

export const REDACTED = '[redacted]';

/** Escapes strings (keys and values, at any depth) and redacts secret-looking keys. */
export function safeDetails(details: Record<string, unknown>): Record<string, unknown> {
  return safeObject(details);
}

function safeObject(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[escapeUnsafeCharacters(key)] = SECRET_KEY.test(key) ? REDACTED : safeValue(inner);
  }
  return out;
}

function safeValue(value: unknown): unknown {
  if (typeof value === 'string') return escapeUnsafeCharacters(value);
  if (Array.isArray(value)) return value.map(safeValue);
  if (value !== null && typeof value === 'object') return safeObject(value);
  return value;
}

/** A stored string field (IP, user agent, request id): escaped, or null. */
export function safeText(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : escapeUnsafeCharacters(value);
}
