import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../config/load.ts';

/**
 * The client address is the socket's, unless the socket belongs to a configured trusted
 * proxy: then the right-most X-Forwarded-For entry that is not itself a trusted proxy.
 * Anyone else's X-Forwarded-For is ignored, so it cannot be used to dodge per-IP controls
 * or forge the IP in the audit log.
 */
export class ClientIpResolver {
  readonly #trusted: BlockList | null;

  constructor(trustedProxies: string | undefined) {
    const entries = (trustedProxies ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    if (entries.length === 0) {
      this.#trusted = null;
      return;
    }
    const list = new BlockList();
    for (const entry of entries) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address ?? '');
      if (!address || family === 0)
        throw new ConfigError(`GATEHOUSE_TRUSTED_PROXIES: "${entry}" is not an IP or CIDR`);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    }
    this.#trusted = list;
  }

  resolve(socketAddress: string | undefined, forwardedFor: string | undefined): string | null {
    const socket = normalizeAddress(socketAddress);
    if (!socket || !this.#trusted || !this.#isTrusted(socket) || !forwardedFor) return socket;
    const hops = forwardedFor.split(',').map((hop) => normalizeAddress(hop.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i];
      if (!hop) return socket;
      if (!this.#isTrusted(hop)) return hop;
    }
    return socket;
  }

  #isTrusted(address: string): boolean {
    const family = isIP(address);
    if (family === 0 || !this.#trusted) return false;
    return this.#trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

function normalizeAddress(address: string | undefined): string | null {
  if (!address) return null;
  // IPv4 clients on a dual-stack socket appear as ::ffff:a.b.c.d.
  const unmapped = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return isIP(unmapped) ? unmapped : null;
}
