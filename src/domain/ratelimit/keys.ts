import { createHmac, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * The account a request names: an address, a user id, or a passkey's user handle; or an OAuth
 * client that has authenticated (its client id).
 */
export interface Identifier {
  kind: 'email' | 'user' | 'passkey' | 'client';
  /** Normalised (an email address through normalizeEmail). */
  value: string;
}

/**
 * The client network a per-IP limit counts. IPv4: the address. IPv6: its /64, because every
 * subscriber gets at least a /64 (RFC 6177) and could otherwise draw 2^64 fresh budgets by
 * changing the interface id. No address (an in-process request) shares one bucket.
 */
export function networkKey(ip: string | null): string {
  if (!ip) return 'none';
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family === 6) return `${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
  return 'none';
}

/** The eight 16-bit groups of a valid IPv6 address, lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [bare = ''] = address.toLowerCase().split('%'); // a zone id names an interface, not a host
  const halves = bare.split('::');
  const split = (text: string | undefined): string[] =>
    !text ? [] : text.split(':').flatMap((group) => (group.includes('.') ? ipv4Groups(group) : [group]));
  const head = split(halves[0]);
  const tail = split(halves[1]);
  const zeros = halves.length === 2 ? Array<string>(8 - head.length - tail.length).fill('0') : [];
  return [...head, ...zeros, ...tail].map((group) => Number.parseInt(group, 16).toString(16));
}

/** A dotted IPv4 tail (::ffff:192.0.2.1, 64:ff9b::192.0.2.1) as two IPv6 groups. */
function ipv4Groups(dotted: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

/**
 * Counter keys never carry an address or id in the clear: a keyed hash (the key derives from
 * the instance secret) keeps personal data out of Redis, and a Redis reader cannot confirm a
 * guessed address by hashing it. Pass the secret as a KeyObject made once: with raw bytes,
 * createHmac builds a key object on every call (~20 µs, several times per sign-in).
 */
export function identifierKey(secret: KeyObject | Uint8Array, identifier: Identifier): string {
  // Case-folded: accounts keep the local part's case, but most mailboxes ignore it, so
  // Ada@ and ada@ must not be two budgets for one inbox.
  const value = identifier.kind === 'email' ? identifier.value.toLowerCase() : identifier.value;
  return createHmac('sha256', secret).update(`${identifier.kind}:${value}`).digest('base64url').slice(0, 22);
}
