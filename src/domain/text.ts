/**
 * Control characters (C0, DEL, C1) and bidirectional overrides. In a redirect target browsers
 * strip or reinterpret them; in a display name or a logged value they can forge lines or
 * reorder what a person reads.
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export function hasUnsafeCharacters(value: string): boolean {
  return UNSAFE_CHARACTERS.test(value);
}

const UNSAFE_CHARACTERS_GLOBAL = new RegExp(UNSAFE_CHARACTERS.source, 'gu');

/**
 * Makes a value safe to store in a log and show to a person: each unsafe character becomes a
 * visible `\uXXXX`, and a backslash becomes `\\`, so a literal "\u000a" typed by an attacker
 * cannot pass for an escaped newline (log injection, CWE-117).
 */
export function escapeUnsafeCharacters(value: string): string {
  return value
    .replaceAll('\\', '\\\\')
    .replace(
      UNSAFE_CHARACTERS_GLOBAL,
      (character) => `\\u${character.codePointAt(0)!.toString(16).padStart(4, '0')}`,
    );
}
