/**
 * Parses a client address string for the locator: strict syntax, the family, the form handed to
 * the MMDB reader, and whether the address lies in a special-purpose range (private, loopback,
 * link-local, CGNAT, documentation, multicast, reserved, ...) that no geo database can place.
 * Special ranges are ipaddr.js `range()` (anything other than 'unicast', plus the IPv6
 * translation ranges); IPv4-mapped IPv6 (::ffff:a.b.c.d) is treated as the IPv4 address inside.
 */
import ipaddr from 'ipaddr.js';

export type ParsedClientAddress =
  | { readonly valid: false }
  | {
      readonly valid: true;
      /** Family of the string as given (an IPv4-mapped IPv6 string is family 6). */
      readonly family: 4 | 6;
      /** Family of the address looked up (4 for IPv4-mapped IPv6). */
      readonly lookupFamily: 4 | 6;
      /** The address to hand to the MMDB reader: dotted quad, or IPv6 without a zone id. */
      readonly lookup: string;
      /** ipaddr.js range name when the address cannot be located, else null. */
      readonly special: string | null;
      /** Prefix length of that special range, in lookup-family terms (0 when unknown). */
      readonly specialPrefix: number;
    };

/** Longest valid input: a full IPv6 address with an embedded IPv4 part and a zone id. */
const MAX_INPUT_LENGTH = 100;
const INVALID: ParsedClientAddress = Object.freeze({ valid: false });

/** Never throws: anything that is not a plain IPv4 dotted quad or an IPv6 address is invalid. */
export function parseClientAddress(input: string): ParsedClientAddress {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_INPUT_LENGTH) return INVALID;
  try {
    if (input.includes(':')) {
      if (!ipaddr.IPv6.isValid(input)) return INVALID;
      const v6 = ipaddr.IPv6.parse(input);
      if (v6.isIPv4MappedAddress()) return classifyV4(v6.toIPv4Address(), 6);
      return classifyV6(v6);
    }
    // Only the four-part decimal form: '127.1', '0x7f.0.0.1' and '010.0.0.1' are not addresses here.
    if (!ipaddr.IPv4.isValidFourPartDecimal(input)) return INVALID;
    return classifyV4(ipaddr.IPv4.parse(input), 4);
  } catch {
    return INVALID;
  }
}

function classifyV4(address: ipaddr.IPv4, family: 4 | 6): ParsedClientAddress {
  const range = address.range();
  const special = range === 'unicast' ? null : range;
  return {
    valid: true,
    family,
    lookupFamily: 4,
    lookup: address.toString(),
    special,
    specialPrefix: special === null ? 0 : rangePrefix(address, special),
  };
}

function classifyV6(address: ipaddr.IPv6): ParsedClientAddress {
  const range = address.range();
  const special = range === 'unicast' ? null : range;
  // A fresh address drops any zone id ('fe80::1%eth0'); the MMDB reader takes the plain form.
  const plain = new ipaddr.IPv6(address.parts);
  return {
    valid: true,
    family: 6,
    lookupFamily: 6,
    lookup: plain.toString(),
    special,
    specialPrefix: special === null ? 0 : rangePrefix(address, special),
  };
}

type RangeEntry = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Prefix length of the named special range that holds the address, from ipaddr.js's own range
 * table (`SpecialRanges`, not in its type declarations); 0 if the table is not there.
 */
function rangePrefix(address: ipaddr.IPv4 | ipaddr.IPv6, name: string): number {
  const table = (address as unknown as { SpecialRanges?: Record<string, RangeEntry | RangeEntry[]> }).SpecialRanges;
  const entry = table?.[name];
  if (!entry) return 0;
  const list: RangeEntry[] = Array.isArray(entry[0]) ? (entry as RangeEntry[]) : [entry as RangeEntry];
  for (const [network, bits] of list) {
    if (network.kind() === address.kind() && address.match(network, bits)) return bits;
  }
  return 0;
}
