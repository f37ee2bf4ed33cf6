import * as ipaddr from 'ipaddr.js';

/**
 * Strict address parsing for endpoints: dotted-quad IPv4 only (no octal, hex or short forms),
 * IPv6 without a zone index; addresses that can never be a reachable endpoint are refused.
 * Returns null when acceptable, else why not.
 */
const REFUSED_V4 = new Set(['unspecified', 'broadcast', 'multicast', 'loopback', 'linkLocal']);
const REFUSED_V6 = new Set(['unspecified', 'multicast', 'loopback', 'linkLocal']);

export function checkEndpointIpv4(value: unknown): string | null {
  if (typeof value !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(value)) {
    return 'must be an IPv4 address in dotted-decimal form (e.g. 192.0.2.10)';
  }
  const range = ipaddr.IPv4.parse(value).range();
  if (REFUSED_V4.has(range)) return `must be a usable unicast address (${value} is ${range})`;
  return null;
}

export function checkEndpointIpv6(value: unknown): string | null {
  if (typeof value !== 'string' || value.includes('%') || !ipaddr.IPv6.isValid(value)) {
    return 'must be an IPv6 address without a zone index (e.g. 2001:db8::10)';
  }
  const addr = ipaddr.IPv6.parse(value);
  if (addr.isIPv4MappedAddress()) return 'must be a native IPv6 address, not IPv4-mapped';
  const range = addr.range();
  if (REFUSED_V6.has(range)) return `must be a usable unicast address (${value} is ${range})`;
  return null;
}

/** Canonical text of an address (IPv6 compressed, lower case). */
export function canonicalIp(value: string): string {
  return ipaddr.parse(value).toString();
}

/**
 * Truncates a client address for logs and stored records (personal data, DESIGN §8): IPv4 to
 * its /24, IPv6 to its /48. Unparseable input becomes "invalid".
 */
export function truncateIp(value: string): string {
  try {
    let addr = ipaddr.parse(value);
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
    if (addr.kind() === 'ipv4') {
      const o = (addr as ipaddr.IPv4).octets;
      return `${o[0]}.${o[1]}.${o[2]}.0/24`;
    }
    const p = (addr as ipaddr.IPv6).parts;
    return `${new ipaddr.IPv6([p[0], p[1], p[2], 0, 0, 0, 0, 0]).toString()}/48`;
  } catch {
    return 'invalid';
  }
}
