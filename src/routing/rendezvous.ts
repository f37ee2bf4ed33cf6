/**
 * Weighted rendezvous (highest-random-weight) hashing.
 *
 * Contract:
 * - The order depends only on the key and on each item's own name and weight, so it is stable
 *   per key, and removing an item moves only the keys whose first choice it was.
 * - Among items with weight > 0, the share of keys an item gets first is proportional to its
 *   weight (score -ln(u)/w, lowest first: an exponential race).
 * - Items with weight 0 come after every item with weight > 0 (Route 53's rule: zero-weight
 *   records are used only when no non-zero one can be). Among themselves they are ordered by
 *   the unweighted score, so a service whose weights are all 0 spreads keys evenly.
 * - Exact score ties are broken by name, then by input position: the order is total.
 */

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;
const TWO_POW_32 = 4294967296;

/**
 * The part of a client address rendezvous hashing keys on: its /24 (IPv4) or /48 (IPv6),
 * written "192.0.2.0/24" / "2001:db8:1::/48". Clients in the same subnet get the same order,
 * which keeps answers consistent with an ECS scope of 24/48. IPv4-mapped IPv6 addresses key
 * as their IPv4 /24. `family` is a hint: the address's own syntax decides. Never throws: an
 * unparseable address keys as its own trimmed, lower-cased text.
 */
export function clientHashKey(ip: string, family: 4 | 6): string {
  const text = ip.trim();
  if (family === 4 || !text.includes(':')) {
    const v4 = parseIPv4(text);
    if (v4 !== null) return ipv4Key(v4[0], v4[1], v4[2]);
  }
  const v6 = parseIPv6(text);
  if (v6 === null) return text.toLowerCase();
  if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0 && v6[3] === 0 && v6[4] === 0 && v6[5] === 0xffff) {
    return ipv4Key(v6[6] >> 8, v6[6] & 0xff, v6[7] >> 8);
  }
  return `${v6[0].toString(16)}:${v6[1].toString(16)}:${v6[2].toString(16)}::/48`;
}

function ipv4Key(a: number, b: number, c: number): string {
  return `${a}.${b}.${c}.0/24`;
}

/** Dotted-quad decimal (no leading zeros, as inet_pton) -> 4 octets, or null. */
function parseIPv4(text: string): number[] | null {
  const octets: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 46; // a final '.' closes the last octet
    if (code === 46) {
      if (digits === 0 || octets.length === 4) return null;
      octets.push(value);
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && value === 0) return null; // leading zero
      value = value * 10 + (code - 48);
      if (value > 255) return null;
      digits++;
    } else return null;
  }
  return octets.length === 4 ? octets : null;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** RFC 4291 text ("::", an embedded IPv4 tail, a %zone) -> 8 groups, or null. One pass. */
function parseIPv6(text: string): number[] | null {
  const zone = text.indexOf('%');
  if (zone === 0 || zone === text.length - 1) return null;
  const end = zone > 0 ? zone : text.length;
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  let count = 0;
  let gapAt = -1; // groups written before "::"
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return null;
    gapAt = 0;
    i = 2;
  }
  while (i < end) {
    const start = i;
    let value = 0;
    let digit = hexDigit(text.charCodeAt(i));
    while (i < end && digit >= 0) {
      value = value * 16 + digit;
      digit = hexDigit(text.charCodeAt(++i));
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // An embedded IPv4 address ends the text and fills two groups.
      const v4 = count <= 6 ? parseIPv4(text.slice(start, end)) : null;
      if (v4 === null) return null;
      groups[count++] = (v4[0] << 8) | v4[1];
      groups[count++] = (v4[2] << 8) | v4[3];
      break;
    }
    if (i === start || i - start > 4 || count === 8) return null;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58 || ++i === end) return null; // a group ends in ':' and one follows
    if (text.charCodeAt(i) === 58) {
      if (gapAt >= 0) return null;
      gapAt = count;
      i++;
    }
  }
  if (gapAt < 0) return count === 8 ? groups : null;
  if (count > 7) return null;
  // Move the groups written after "::" to the end; the gap becomes zeros.
  const moved = count - gapAt;
  for (let k = 1; k <= moved; k++) {
    groups[8 - k] = groups[count - k];
    groups[count - k] = 0;
  }
  return groups;
}

/** FNV-1a (32-bit) over UTF-16 code units, continuing from `state`. */
function fnv1a32(state: number, text: string): number {
  let h = state;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV32_PRIME);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: full avalanche over FNV's weak low bits. */
export function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A deterministic uniform number in (0, 1) for the pair (item name, key). */
export function rendezvousUniform(name: string, key: string): number {
  // The name is hashed first and a separator keeps ("ab","c") apart from ("a","bc").
  const h = fmix32(fnv1a32(fnv1a32(FNV32_OFFSET, name) ^ 0xff, key));
  return (h + 0.5) / TWO_POW_32;
}

/**
 * The item's score for the key; lower ranks first. Weight > 0: -ln(u)/w. Weight 0 (or negative,
 * or not a number): Infinity, i.e. after every positive weight.
 */
export function rendezvousScore(name: string, weight: number, key: string): number {
  return weight > 0 ? -Math.log(rendezvousUniform(name, key)) / weight : Infinity;
}

export interface WeightedItem {
  readonly name: string;
  readonly weight: number;
}

/** Positions of `items` in rendezvous order for `key` (see the contract at the top of this file). */
export function rendezvousIndexOrder(key: string, items: readonly WeightedItem[]): number[] {
  const n = items.length;
  const primary = new Array<number>(n);
  const secondary = new Array<number>(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const { name, weight } = items[i];
    const u = rendezvousUniform(name, key);
    // Tier 0: weight > 0, scored -ln(u)/w. Tier 1: weight 0, scored -ln(u) among themselves.
    primary[i] = weight > 0 ? 0 : 1;
    secondary[i] = weight > 0 ? -Math.log(u) / weight : -Math.log(u);
    order[i] = i;
  }
  order.sort((a, b) => {
    if (primary[a] !== primary[b]) return primary[a] - primary[b];
    if (secondary[a] !== secondary[b]) return secondary[a] - secondary[b];
    const na = items[a].name;
    const nb = items[b].name;
    if (na !== nb) return na < nb ? -1 : 1;
    return a - b;
  });
  return order;
}

/** `items` in rendezvous order for `key`. */
export function rendezvousOrder<T extends WeightedItem>(key: string, items: readonly T[]): T[] {
  return rendezvousIndexOrder(key, items).map((i) => items[i]);
}
