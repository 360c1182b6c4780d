/**
 * Control characters (C0, DEL, C1) and bidirectional overrides. In a redirect target browsers
 * strip or reinterpret them; in a display name or a logged value they can forge lines or
 * reorder what a person reads.
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export function hasUnsafeCharacters(value: string): boolean {
  return UNSAFE_CHARACTERS.test(value);
}
