import * as ipaddr from 'ipaddr.js';
import { fmix32 } from '../routing/rendezvous';

/**
 * Response rate limiting for UDP (as BIND, Knot and NSD do it): a token bucket per client prefix
 * (/24 for IPv4, /56 for IPv6) and response, where "response" is the whole answer (question
 * case-folded, records, echoed client subnet) for answers and just the prefix for errors (NXDOMAIN, REFUSED, FORMERR, SERVFAIL,
 * and DNSSEC-signed negative answers, which RFC 9824 makes NOERROR: random-subdomain floods share one bucket). Over the limit, every `slip`-th response goes out
 * truncated (TC=1, question only) so a real client retries over TCP, which is not limited (TCP
 * proves the source address); the rest are dropped. Exempt CIDRs are never limited.
 *
 * Decisions are made on the reply bytes, after the responder, in O(reply length), without
 * allocating, in a table of fixed size.
 */
export interface RateLimitOptions {
  /** Answers per second per (prefix, question); 0 disables rate limiting. */
  readonly responsesPerSecond: number;
  /** Error responses per second per prefix. */
  readonly errorsPerSecond: number;
  /** Every Nth limited response is sent truncated; 0 drops them all. */
  readonly slip: number;
  readonly exempt: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
  /** Buckets in the table (rounded up to a power of two); default DEFAULT_RRL_TABLE_SIZE. */
  readonly maxEntries?: number;
}

export type RateDecision = 'send' | 'slip' | 'drop';

/** Buckets in the table by default (a power of two): 262,144 x 24 bytes = 6 MiB. */
export const DEFAULT_RRL_TABLE_SIZE = 1 << 18;

/**
 * The buckets live in a direct-mapped table of typed arrays, indexed by a hash of (client prefix,
 * response) and checked against a 32-bit tag of the same: no allocation per reply and a fixed
 * memory bound. Two keys that meet in one slot take turns and start from a full bucket (failing
 * open, as a table that overflows must).
 */
export class ResponseRateLimiter {
  private readonly mask: number;
  private readonly tags: Int32Array;
  private readonly tokens: Float64Array;
  private readonly last: Float64Array;
  private readonly limitedCount: Uint32Array;
  /** Exemption per address string (a flood comes from few addresses); emptied when full. */
  private readonly exemptCache = new Map<string, boolean>();
  /** IPv6 /56 keys per address string (parsing IPv6 text allocates); emptied when full. */
  private readonly v6Keys = new Map<string, number>();
  readonly counters = { limited: 0, slipped: 0, dropped: 0 };

  constructor(private readonly opts: RateLimitOptions) {
    let size = 1;
    while (size < (opts.maxEntries ?? DEFAULT_RRL_TABLE_SIZE)) size <<= 1;
    this.mask = size - 1;
    this.tags = new Int32Array(size);
    this.tokens = new Float64Array(size);
    this.last = new Float64Array(size);
    this.limitedCount = new Uint32Array(size);
  }

  get enabled(): boolean {
    return this.opts.responsesPerSecond > 0;
  }

  /** What to do with `reply` (a complete DNS message) for a client at `address`. */
  check(address: string, family: 4 | 6, reply: Buffer, now = performance.now()): RateDecision {
    if (!this.enabled || reply.length < 12) return 'send';
    if (this.opts.exempt.length > 0 && this.isExempt(address)) return 'send';
    const prefix = this.prefixKey(address, family);
    if (prefix < 0) return 'send';
    // NODATA is an answer; NXDOMAIN, REFUSED, FORMERR and SERVFAIL share the prefix's error bucket.
    // So does a signed negative answer (NOERROR, AA, no answer, 3+ authority records: SOA, NSEC
    // and their RRSIGs): an RFC 9824 compact denial is NOERROR, and a random-name flood with DO=1
    // must meet the same single bucket as one without.
    const error = (reply[3] & 0x0f) !== 0 || ((reply[2] & 0x04) !== 0 && reply[6] === 0 && reply[7] === 0 && (reply[8] !== 0 || reply[9] >= 3));
    const rate = error ? this.opts.errorsPerSecond : this.opts.responsesPerSecond;
    const h = mix(prefix, error ? 0x45525221 : responseHash(reply));
    const slot = h & this.mask;
    const tag = mix(h, 0x2545f491) | 1; // never 0: 0 marks an empty slot
    let tokens: number;
    if (this.tags[slot] !== tag) {
      this.tags[slot] = tag;
      this.limitedCount[slot] = 0;
      tokens = rate;
    } else {
      tokens = Math.min(rate, this.tokens[slot] + ((now - this.last[slot]) / 1000) * rate);
    }
    this.last[slot] = now;
    if (tokens >= 1) {
      this.tokens[slot] = tokens - 1;
      return 'send';
    }
    this.tokens[slot] = tokens;
    this.counters.limited++;
    const limited = ++this.limitedCount[slot];
    if (this.opts.slip > 0 && limited % this.opts.slip === 0) {
      this.counters.slipped++;
      return 'slip';
    }
    this.counters.dropped++;
    return 'drop';
  }

  /**
   * Whether an error-class response (NXDOMAIN, SERVFAIL, a signed negative answer) to this client
   * would be limited now: its prefix's error bucket is empty. Consumes nothing. The responder asks
   * before signing a compact denial it has not made yet, so a random-name flood over the limit
   * costs no signatures (the reply it gets instead is limited by `check` as well).
   */
  errorLimited(address: string, family: 4 | 6, now = performance.now()): boolean {
    if (!this.enabled) return false;
    if (this.opts.exempt.length > 0 && this.isExempt(address)) return false;
    const prefix = this.prefixKey(address, family);
    if (prefix < 0) return false;
    const rate = this.opts.errorsPerSecond;
    const h = mix(prefix, 0x45525221);
    const slot = h & this.mask;
    if (this.tags[slot] !== (mix(h, 0x2545f491) | 1)) return false;
    return Math.min(rate, this.tokens[slot] + ((now - this.last[slot]) / 1000) * rate) < 1;
  }

  /**
   * A non-negative 31-bit number per client /24 (IPv4, read from the text without allocating) or
   * /56 (IPv6); -1 when the address cannot be read.
   */
  private prefixKey(address: string, family: 4 | 6): number {
    let start = 0;
    if (family === 6) {
      if (!address.startsWith('::ffff:') || address.indexOf('.') < 0) return this.v6Key(address);
      start = 7;
    }
    let value = 0;
    let octet = 0;
    let dots = 0;
    for (let i = start; i < address.length; i++) {
      const c = address.charCodeAt(i);
      if (c === 0x2e) {
        value = (value << 8) | octet;
        if (++dots === 3) return value;
        octet = 0;
      } else if (c >= 0x30 && c <= 0x39) {
        octet = octet * 10 + (c - 0x30);
        if (octet > 255) return -1;
      } else return -1;
    }
    return -1;
  }

  private v6Key(address: string): number {
    const known = this.v6Keys.get(address);
    if (known !== undefined) return known;
    const prefix = clientPrefix(address, 6);
    let key = -1;
    if (prefix !== null) {
      // 2^24 and up: IPv4 keys are below 2^24.
      key = ((mix(parseInt(prefix.slice(0, 7), 16), parseInt(prefix.slice(7), 16)) >>> 1) | 0x1000000) >>> 0;
    }
    if (this.v6Keys.size >= 10_000) this.v6Keys.clear();
    this.v6Keys.set(address, key);
    return key;
  }

  private isExempt(address: string): boolean {
    const known = this.exemptCache.get(address);
    if (known !== undefined) return known;
    let exempt: boolean;
    try {
      const addr = ipaddr.process(address);
      exempt = this.opts.exempt.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
    } catch {
      exempt = false;
    }
    if (this.exemptCache.size >= 10_000) this.exemptCache.clear();
    this.exemptCache.set(address, exempt);
    return exempt;
  }
}

/** Two 32-bit values into one well-spread 32-bit value (murmur3's finaliser over a combination). */
function mix(a: number, b: number): number {
  return fmix32(Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b);
}

/** "a.b.c" for IPv4 (the /24), the first 56 bits in hex for IPv6; null when unparseable. */
export function clientPrefix(address: string, family: 4 | 6): string | null {
  if (family === 4 || address.startsWith('::ffff:')) {
    const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
    const dot = v4.lastIndexOf('.');
    return dot > 0 ? v4.slice(0, dot) : null;
  }
  try {
    const bytes = ipaddr.IPv6.parse(address).toByteArray();
    return Buffer.from(bytes.slice(0, 7)).toString('hex');
  } catch {
    return null;
  }
}

/**
 * FNV-1a over the response after its ID and flags: the question (case-folded), the answers and
 * the echoed ECS option. Identical responses share a bucket (BIND's key), so a resolver asking
 * for many different client subnets (ECS) is not limited as one flood.
 */
function responseHash(msg: Buffer): number {
  let h = 0x811c9dc5;
  for (let j = 4; j < msg.length; j++) {
    let c = msg[j];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/** The truncated "slip" reply: header and question only, TC set, all other sections empty. */
export function slipReply(reply: Buffer): Buffer {
  let i = 12;
  if (reply.readUInt16BE(4) > 0) {
    while (i < reply.length && reply[i] !== 0 && reply[i] < 0xc0) i += reply[i] + 1;
    i += reply[i] >= 0xc0 ? 2 : 1;
    i += 4;
  }
  const out = Buffer.from(reply.subarray(0, Math.min(i, reply.length)));
  out[2] |= 0x02; // TC
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}
