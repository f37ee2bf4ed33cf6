import * as ipaddr from 'ipaddr.js';

/**
 * Response rate limiting for UDP (as BIND, Knot and NSD do it): a token bucket per client prefix
 * (/24 for IPv4, /56 for IPv6) and response, where "response" is the whole answer (question
 * case-folded, records, echoed client subnet) for answers and just the prefix for errors (NXDOMAIN, REFUSED, FORMERR, SERVFAIL:
 * random-subdomain floods share one bucket). Over the limit, every `slip`-th response goes out
 * truncated (TC=1, question only) so a real client retries over TCP, which is not limited (TCP
 * proves the source address); the rest are dropped. Exempt CIDRs are never limited.
 *
 * Decisions are made on the reply bytes, after the responder, in O(question length), and the
 * table is bounded: idle buckets are swept, and a table over its cap is emptied (failing open).
 */
export interface RateLimitOptions {
  /** Answers per second per (prefix, question); 0 disables rate limiting. */
  readonly responsesPerSecond: number;
  /** Error responses per second per prefix. */
  readonly errorsPerSecond: number;
  /** Every Nth limited response is sent truncated; 0 drops them all. */
  readonly slip: number;
  readonly exempt: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
  readonly maxEntries?: number;
}

export type RateDecision = 'send' | 'slip' | 'drop';

interface Bucket {
  tokens: number;
  last: number;
  limited: number;
}

export class ResponseRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** Exemption per address string (a flood comes from few addresses; bounded like the buckets). */
  private readonly exemptCache = new Map<string, boolean>();
  private readonly maxEntries: number;
  private lastSweep = 0;
  readonly counters = { limited: 0, slipped: 0, dropped: 0 };

  constructor(private readonly opts: RateLimitOptions) {
    this.maxEntries = opts.maxEntries ?? 200_000;
  }

  get enabled(): boolean {
    return this.opts.responsesPerSecond > 0;
  }

  /** What to do with `reply` (a complete DNS message) for a client at `address`. */
  check(address: string, family: 4 | 6, reply: Buffer, now = performance.now()): RateDecision {
    if (!this.enabled || reply.length < 12) return 'send';
    if (this.opts.exempt.length > 0 && this.isExempt(address)) return 'send';
    const prefix = clientPrefix(address, family);
    if (prefix === null) return 'send';
    const rcode = reply[3] & 0x0f;
    // NODATA is an answer; NXDOMAIN, REFUSED, FORMERR and SERVFAIL share the prefix's error bucket.
    const error = rcode !== 0;
    const key = error ? `${prefix}|e` : `${prefix}|${responseHash(reply)}`;
    const rate = error ? this.opts.errorsPerSecond : this.opts.responsesPerSecond;
    if (now - this.lastSweep > 5000) this.sweep(now);
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxEntries) this.buckets.clear();
      b = { tokens: rate, last: now, limited: 0 };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.last) / 1000) * rate);
      b.last = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'send';
    }
    this.counters.limited++;
    b.limited++;
    if (this.opts.slip > 0 && b.limited % this.opts.slip === 0) {
      this.counters.slipped++;
      return 'slip';
    }
    this.counters.dropped++;
    return 'drop';
  }

  private isExempt(address: string): boolean {
    const known = this.exemptCache.get(address);
    if (known !== undefined) return known;
    let exempt = false;
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

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, b] of this.buckets) if (now - b.last > 10_000) this.buckets.delete(k);
  }
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
