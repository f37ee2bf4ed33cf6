/**
 * The AS-level topology: an immutable graph built once, with dense integer indices.
 *
 * ASes are indexed 0..size-1 in ascending ASN order (so the same graph always gets the same
 * indices, whatever the input order). Neighbours are stored in compressed sparse rows: for AS `i`
 * its providers are `providers[providerOffsets[i] .. providerOffsets[i+1])`, sorted by index, and
 * likewise customers and peers. `upwardOrder` lists every AS after all of its customers (a
 * topological order of the customer -> provider graph), which the simulator walks up and down.
 *
 * Build it through `parseCaidaAsRel` or `parseTopologyJson`; both validate everything first and
 * throw one TopologyError listing every problem (capped), each naming its line or JSON path.
 * The instance is frozen; its typed arrays cannot be frozen by JavaScript and must be treated as
 * read-only by callers.
 */

export const MIN_ASN = 1;
export const MAX_ASN = 4294967295;
export const DEFAULT_MAX_ASES = 200_000;
export const DEFAULT_MAX_LINKS = 1_000_000;
/** Hard ceiling on the limits themselves. */
const LIMIT_CEILING = 1 << 26;
/** At most this many problems are listed; the count covers all of them. */
export const MAX_REPORTED_PROBLEMS = 100;

export type Relation = 'provider-customer' | 'peer';

export type TopologyRule =
  | 'format'
  | 'asn-range'
  | 'relation'
  | 'self-link'
  | 'conflict'
  | 'cycle'
  | 'limit'
  | 'location'
  | 'duplicate-as';

export interface TopologyProblem {
  /** Where: `line 12` (CAIDA text) or a JSON path such as `links[3]` or `ases[0].latitude`. */
  readonly where: string;
  readonly rule: TopologyRule;
  readonly message: string;
}

export class TopologyError extends Error {
  readonly code = 'invalid-topology';

  constructor(
    /** The first MAX_REPORTED_PROBLEMS problems, in input order (the cycle check comes last). */
    readonly problems: readonly TopologyProblem[],
    /** How many problems there were in all. */
    readonly problemCount: number = problems.length,
  ) {
    const shown = problems.slice(0, 3).map((p) => `${p.where}: ${p.message}`).join('; ');
    const more = problemCount > 3 ? ` (and ${problemCount - 3} more)` : '';
    super(`invalid topology: ${shown}${more}`);
    this.name = 'TopologyError';
  }
}

export interface TopologyOptions {
  /** Most distinct ASes accepted (default 200,000). */
  readonly maxAses?: number;
  /** Most link entries accepted, duplicates included (default 1,000,000). */
  readonly maxLinks?: number;
}

export interface AsAttributes {
  readonly asn: number;
  readonly latitude?: number;
  readonly longitude?: number;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly countryCode?: string;
}

export interface TopologySummary {
  readonly ases: number;
  readonly links: number;
  readonly providerCustomerLinks: number;
  readonly peerLinks: number;
  /** Inferred tier-1 clique, ascending ASN (see `inferTier1`). */
  readonly tier1: readonly number[];
}

/** What AS `b` is to AS `a`. */
export type Neighbor = 'provider' | 'customer' | 'peer';

export function isValidAsn(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= MIN_ASN && value <= MAX_ASN;
}

interface TopologyParts {
  asns: Uint32Array;
  providerOffsets: Int32Array;
  providers: Int32Array;
  customerOffsets: Int32Array;
  customers: Int32Array;
  peerOffsets: Int32Array;
  peers: Int32Array;
  latitudes: Float64Array;
  longitudes: Float64Array;
  countryCodes: readonly (string | null)[];
  upwardOrder: Int32Array;
  summary: TopologySummary;
}

export class Topology {
  /** Number of ASes. */
  readonly size: number;
  /** ASN of each index, ascending. */
  readonly asns: Uint32Array;
  readonly providerOffsets: Int32Array;
  readonly providers: Int32Array;
  readonly customerOffsets: Int32Array;
  readonly customers: Int32Array;
  readonly peerOffsets: Int32Array;
  readonly peers: Int32Array;
  /** Degrees, NaN when the AS has no location. */
  readonly latitudes: Float64Array;
  readonly longitudes: Float64Array;
  readonly countryCodes: readonly (string | null)[];
  /** Every AS after all of its customers (customer -> provider topological order). */
  readonly upwardOrder: Int32Array;
  readonly summary: TopologySummary;

  /** @internal Built by TopologyBuilder (through the parsers) only. */
  constructor(parts: TopologyParts) {
    this.size = parts.asns.length;
    this.asns = parts.asns;
    this.providerOffsets = parts.providerOffsets;
    this.providers = parts.providers;
    this.customerOffsets = parts.customerOffsets;
    this.customers = parts.customers;
    this.peerOffsets = parts.peerOffsets;
    this.peers = parts.peers;
    this.latitudes = parts.latitudes;
    this.longitudes = parts.longitudes;
    this.countryCodes = Object.freeze(parts.countryCodes.slice());
    this.upwardOrder = parts.upwardOrder;
    this.summary = parts.summary;
    Object.freeze(this);
  }

  /** Dense index of an ASN, or -1 (binary search over the ascending ASN table). */
  indexOf(asn: number): number {
    let lo = 0;
    let hi = this.asns.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.asns[mid];
      if (v === asn) return mid;
      if (v < asn) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  has(asn: number): boolean {
    return this.indexOf(asn) >= 0;
  }

  providersOf(index: number): Int32Array {
    return this.providers.subarray(this.providerOffsets[index], this.providerOffsets[index + 1]);
  }

  customersOf(index: number): Int32Array {
    return this.customers.subarray(this.customerOffsets[index], this.customerOffsets[index + 1]);
  }

  peersOf(index: number): Int32Array {
    return this.peers.subarray(this.peerOffsets[index], this.peerOffsets[index + 1]);
  }

  isLocated(index: number): boolean {
    return !Number.isNaN(this.latitudes[index]);
  }

  /** The AS at `index` with its location and country, as given in the input. */
  attributesAt(index: number): AsAttributes {
    const asn = this.asns[index];
    const countryCode = this.countryCodes[index] ?? undefined;
    if (!this.isLocated(index)) return countryCode ? { asn, countryCode } : { asn };
    const located = { asn, latitude: this.latitudes[index], longitude: this.longitudes[index] };
    return countryCode ? { ...located, countryCode } : located;
  }

  /** What `bAsn` is to `aAsn`, or null if they are not linked (or unknown). */
  relationship(aAsn: number, bAsn: number): Neighbor | null {
    const a = this.indexOf(aAsn);
    const b = this.indexOf(bAsn);
    if (a < 0 || b < 0) return null;
    if (sortedIncludes(this.providersOf(a), b)) return 'provider';
    if (sortedIncludes(this.customersOf(a), b)) return 'customer';
    if (sortedIncludes(this.peersOf(a), b)) return 'peer';
    return null;
  }
}

function sortedIncludes(list: Int32Array, value: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] === value) return true;
    if (list[mid] < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

const REL_PROVIDER_CUSTOMER = 1;
const REL_PEER = 2;

/**
 * Collects ASes and links from a parser, then validates the graph and builds the Topology.
 * Parsers report entry-level problems through `problem()` and stop reading when `stopped`.
 * `where(ref)` turns a parser's entry reference (line number, link index) into a location.
 */
export class TopologyBuilder {
  readonly maxAses: number;
  readonly maxLinks: number;
  private readonly problems: TopologyProblem[] = [];
  private problemCount = 0;
  private limitHit = false;

  private readonly tmpByAsn = new Map<number, number>();
  private readonly tmpAsns: number[] = [];
  private readonly latByTmp: number[] = [];
  private readonly lonByTmp: number[] = [];
  private readonly ccByTmp: (string | null)[] = [];
  /** Entry reference of the `ases` entry that declared each AS, null if none did. */
  private readonly declaredAt: (number | null)[] = [];

  /** Link entries in input order (temporary AS indices); duplicates are resolved in build(). */
  private linkEntries = 0;
  private readonly linkA: number[] = [];
  private readonly linkB: number[] = [];
  private readonly linkRel: number[] = [];
  private readonly linkRef: number[] = [];

  constructor(
    private readonly where: (ref: number) => string,
    options: TopologyOptions = {},
  ) {
    this.maxAses = limit(options.maxAses, DEFAULT_MAX_ASES, 'maxAses');
    this.maxLinks = limit(options.maxLinks, DEFAULT_MAX_LINKS, 'maxLinks');
  }

  /** True once a size limit was exceeded: the parser should stop reading. */
  get stopped(): boolean {
    return this.limitHit;
  }

  problem(where: string, rule: TopologyRule, message: string): void {
    this.problemCount++;
    if (this.problems.length < MAX_REPORTED_PROBLEMS) this.problems.push(Object.freeze({ where, rule, message }));
  }

  private lastAsn = -1;
  private lastTmp = -1;

  private tmpIndex(asn: number, ref: number): number {
    // CAIDA files list a provider's links together: remember the last ASN looked up.
    if (asn === this.lastAsn) return this.lastTmp;
    const existing = this.tmpByAsn.get(asn);
    if (existing !== undefined) {
      this.lastAsn = asn;
      this.lastTmp = existing;
      return existing;
    }
    if (this.tmpAsns.length >= this.maxAses) {
      this.limitHit = true;
      this.problem(this.where(ref), 'limit', `more than ${this.maxAses} ASes (maxAses)`);
      return -1;
    }
    const tmp = this.tmpAsns.length;
    this.tmpByAsn.set(asn, tmp);
    this.tmpAsns.push(asn);
    this.latByTmp.push(NaN);
    this.lonByTmp.push(NaN);
    this.ccByTmp.push(null);
    this.declaredAt.push(null);
    return tmp;
  }

  /**
   * Declares an AS with optional attributes (already validated by the parser). Returns false and
   * records a problem if the AS was already declared with attributes.
   */
  addAs(attrs: AsAttributes, ref: number): boolean {
    const tmp = this.tmpIndex(attrs.asn, ref);
    if (tmp < 0) return false;
    const declared = this.declaredAt[tmp];
    if (declared !== null) {
      this.problem(this.where(ref), 'duplicate-as', `AS ${attrs.asn} is already listed at ${this.where(declared)}`);
      return false;
    }
    this.declaredAt[tmp] = ref;
    if (attrs.latitude !== undefined && attrs.longitude !== undefined) {
      this.latByTmp[tmp] = attrs.latitude;
      this.lonByTmp[tmp] = attrs.longitude;
    }
    if (attrs.countryCode !== undefined) this.ccByTmp[tmp] = attrs.countryCode;
    return true;
  }

  /**
   * Adds a link between two valid ASNs. For `provider-customer`, `a` is the provider of `b`.
   * An exact repeat is ignored; a repeat with another relation or direction is a problem
   * (both found in build(), which sorts the entries by AS pair rather than hashing each one).
   */
  addLink(a: number, b: number, relation: Relation, ref: number): void {
    this.linkEntries++;
    if (this.linkEntries > this.maxLinks) {
      this.limitHit = true;
      this.problem(this.where(ref), 'limit', `more than ${this.maxLinks} links (maxLinks)`);
      return;
    }
    if (a === b) {
      this.problem(this.where(ref), 'self-link', `self-link on AS ${a}`);
      return;
    }
    const ta = this.tmpIndex(a, ref);
    if (ta < 0) return;
    const tb = this.tmpIndex(b, ref);
    if (tb < 0) return;
    this.linkA.push(ta);
    this.linkB.push(tb);
    this.linkRel.push(relation === 'peer' ? REL_PEER : REL_PROVIDER_CUSTOMER);
    this.linkRef.push(ref);
  }

  /**
   * Keeps the first entry of every AS pair. Two stable counting sorts (by the higher, then the
   * lower index of the pair) group the entries of one pair together in input order; a later
   * entry that differs in relation or direction from the first is a conflict.
   */
  private dedupeLinks(): Uint8Array {
    const m = this.linkA.length;
    const n = this.tmpAsns.length;
    const lo = new Int32Array(m);
    const hi = new Int32Array(m);
    const identity = new Int32Array(m);
    for (let l = 0; l < m; l++) {
      const a = this.linkA[l];
      const b = this.linkB[l];
      lo[l] = a < b ? a : b;
      hi[l] = a < b ? b : a;
      identity[l] = l;
    }
    const order = countingSortBy(countingSortBy(identity, hi, n), lo, n);
    const keep = new Uint8Array(m);
    const conflicts: [entry: number, first: number][] = [];
    for (let g = 0; g < m; ) {
      const first = order[g];
      keep[first] = 1;
      let k = g + 1;
      for (; k < m && lo[order[k]] === lo[first] && hi[order[k]] === hi[first]; k++) {
        const entry = order[k];
        const sameRel = this.linkRel[entry] === this.linkRel[first];
        const sameDirection = this.linkRel[entry] === REL_PEER || this.linkA[entry] === this.linkA[first];
        if (!sameRel || !sameDirection) conflicts.push([entry, first]);
      }
      g = k;
    }
    conflicts.sort((x, y) => x[0] - y[0]);
    for (const [entry, first] of conflicts) {
      const a = this.tmpAsns[this.linkA[entry]];
      const b = this.tmpAsns[this.linkB[entry]];
      this.problem(
        this.where(this.linkRef[entry]),
        'conflict',
        `AS ${a}-AS ${b} is already a ${this.describe(first)} at ${this.where(this.linkRef[first])}`,
      );
    }
    return keep;
  }

  private describe(link: number): string {
    const a = this.tmpAsns[this.linkA[link]];
    const b = this.tmpAsns[this.linkB[link]];
    return this.linkRel[link] === REL_PEER ? 'peer link' : `provider-customer link (AS ${a} provider of AS ${b})`;
  }

  private fail(): never {
    throw new TopologyError(this.problems.slice(), this.problemCount);
  }

  build(): Topology {
    const keep = this.dedupeLinks();
    if (this.problemCount > 0) this.fail();
    const n = this.tmpAsns.length;

    // Dense indices in ascending ASN order.
    const asns = Uint32Array.from(this.tmpAsns).sort();
    const finalOfTmp = new Int32Array(n);
    const latitudes = new Float64Array(n);
    const longitudes = new Float64Array(n);
    const countryCodes: (string | null)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const tmp = this.tmpByAsn.get(asns[i]) as number;
      finalOfTmp[tmp] = i;
      latitudes[i] = this.latByTmp[tmp];
      longitudes[i] = this.lonByTmp[tmp];
      countryCodes[i] = this.ccByTmp[tmp];
    }

    const entries = this.linkA.length;
    let m = 0;
    const providerCount = new Int32Array(n);
    const customerCount = new Int32Array(n);
    const peerCount = new Int32Array(n);
    let peerLinks = 0;
    for (let l = 0; l < entries; l++) {
      if (!keep[l]) continue;
      m++;
      const a = finalOfTmp[this.linkA[l]];
      const b = finalOfTmp[this.linkB[l]];
      if (this.linkRel[l] === REL_PEER) {
        peerCount[a]++;
        peerCount[b]++;
        peerLinks++;
      } else {
        customerCount[a]++;
        providerCount[b]++;
      }
    }
    const providerOffsets = offsetsOf(providerCount);
    const customerOffsets = offsetsOf(customerCount);
    const peerOffsets = offsetsOf(peerCount);
    const providers = new Int32Array(providerOffsets[n]);
    const customers = new Int32Array(customerOffsets[n]);
    const peers = new Int32Array(peerOffsets[n]);
    const pFill = providerOffsets.slice(0, n);
    const cFill = customerOffsets.slice(0, n);
    const qFill = peerOffsets.slice(0, n);
    for (let l = 0; l < entries; l++) {
      if (!keep[l]) continue;
      const a = finalOfTmp[this.linkA[l]];
      const b = finalOfTmp[this.linkB[l]];
      if (this.linkRel[l] === REL_PEER) {
        peers[qFill[a]++] = b;
        peers[qFill[b]++] = a;
      } else {
        customers[cFill[a]++] = b;
        providers[pFill[b]++] = a;
      }
    }
    sortSegments(providers, providerOffsets);
    sortSegments(customers, customerOffsets);
    sortSegments(peers, peerOffsets);

    const upwardOrder = upwardOrderOf(n, providerOffsets, providers, customerOffsets);
    if (upwardOrder === null) {
      this.reportCycle(n, asns, providerOffsets, providers, customerOffsets, customers, finalOfTmp, keep);
      this.fail();
    }

    const tier1 = inferTier1(asns, providerOffsets, customerOffsets, peerOffsets, peers);
    return new Topology({
      asns,
      providerOffsets,
      providers,
      customerOffsets,
      customers,
      peerOffsets,
      peers,
      latitudes,
      longitudes,
      countryCodes,
      upwardOrder,
      summary: Object.freeze({
        ases: n,
        links: m,
        providerCustomerLinks: m - peerLinks,
        peerLinks,
        tier1: Object.freeze(tier1),
      }),
    });
  }

  /**
   * Names one provider-customer cycle. Kahn's algorithm left a set of ASes that each still have
   * a customer inside the set; walking from customer to customer must revisit an AS, and the
   * walk from that AS back to itself is a cycle.
   */
  private reportCycle(
    n: number,
    asns: Uint32Array,
    providerOffsets: Int32Array,
    providers: Int32Array,
    customerOffsets: Int32Array,
    customers: Int32Array,
    finalOfTmp: Int32Array,
    keep: Uint8Array,
  ): void {
    const remaining = remainingAfterKahn(n, providerOffsets, providers, customerOffsets);
    let start = remaining.indexOf(1);
    const seenAt = new Int32Array(n).fill(-1);
    const walk: number[] = [];
    while (seenAt[start] < 0) {
      seenAt[start] = walk.length;
      walk.push(start);
      let next = -1;
      for (let k = customerOffsets[start]; k < customerOffsets[start + 1]; k++) {
        if (remaining[customers[k]] === 1) {
          next = customers[k];
          break;
        }
      }
      start = next;
    }
    // walk[seenAt[start]..] goes provider -> customer -> ... back to `start`.
    const cycle = walk.slice(seenAt[start]);
    const upward = cycle.slice().reverse(); // customer -> provider direction
    const names = [...upward, upward[0]].map((i) => `AS ${asns[i]}`).join(' -> provider ');
    // Name the entry of one link on the cycle: cycle[1] is a customer of cycle[0].
    const provider = cycle[0];
    const customer = cycle[1];
    const tmpOfFinal = new Int32Array(n);
    for (let t = 0; t < n; t++) tmpOfFinal[finalOfTmp[t]] = t;
    const ta = tmpOfFinal[provider];
    const tb = tmpOfFinal[customer];
    let where = `AS ${asns[provider]}`;
    for (let l = 0; l < this.linkA.length; l++) {
      if (keep[l] && this.linkA[l] === ta && this.linkB[l] === tb && this.linkRel[l] === REL_PROVIDER_CUSTOMER) {
        where = this.where(this.linkRef[l]);
        break;
      }
    }
    this.problem(where, 'cycle', `provider-customer cycle through AS ${asns[provider]}: ${names}`);
  }
}

function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > LIMIT_CEILING) {
    throw new RangeError(`${name} must be an integer in 1..${LIMIT_CEILING}`);
  }
  return value;
}

/** Sorts each CSR row ascending (insertion sort for short rows, the typed-array sort otherwise). */
function sortSegments(list: Int32Array, offsets: Int32Array): void {
  for (let row = 0; row + 1 < offsets.length; row++) {
    const from = offsets[row];
    const to = offsets[row + 1];
    if (to - from > 16) {
      list.subarray(from, to).sort();
      continue;
    }
    for (let i = from + 1; i < to; i++) {
      const x = list[i];
      let j = i - 1;
      while (j >= from && list[j] > x) {
        list[j + 1] = list[j];
        j--;
      }
      list[j + 1] = x;
    }
  }
}

/** Stable counting sort of `items` by `key[item]`, keys in 0..buckets-1. */
function countingSortBy(items: Int32Array, key: Int32Array, buckets: number): Int32Array {
  const start = new Int32Array(buckets + 1);
  for (let i = 0; i < items.length; i++) start[key[items[i]] + 1]++;
  for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
  const out = new Int32Array(items.length);
  for (let i = 0; i < items.length; i++) out[start[key[items[i]]]++] = items[i];
  return out;
}

function offsetsOf(counts: Int32Array): Int32Array {
  const offsets = new Int32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) offsets[i + 1] = offsets[i] + counts[i];
  return offsets;
}

/** Kahn's algorithm, customers first. Null when the provider-customer graph has a cycle. */
function upwardOrderOf(n: number, providerOffsets: Int32Array, providers: Int32Array, customerOffsets: Int32Array): Int32Array | null {
  const pendingCustomers = new Int32Array(n);
  const order = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    pendingCustomers[i] = customerOffsets[i + 1] - customerOffsets[i];
    if (pendingCustomers[i] === 0) order[tail++] = i;
  }
  for (let head = 0; head < tail; head++) {
    const v = order[head];
    for (let k = providerOffsets[v]; k < providerOffsets[v + 1]; k++) {
      const p = providers[k];
      if (--pendingCustomers[p] === 0) order[tail++] = p;
    }
  }
  return tail === n ? order : null;
}

/** 1 for every AS Kahn's algorithm could not order (on or above a cycle), else 0. */
function remainingAfterKahn(n: number, providerOffsets: Int32Array, providers: Int32Array, customerOffsets: Int32Array): Uint8Array {
  const pendingCustomers = new Int32Array(n);
  const queue = new Int32Array(n);
  const remaining = new Uint8Array(n).fill(1);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    pendingCustomers[i] = customerOffsets[i + 1] - customerOffsets[i];
    if (pendingCustomers[i] === 0) queue[tail++] = i;
  }
  for (let head = 0; head < tail; head++) {
    const v = queue[head];
    remaining[v] = 0;
    for (let k = providerOffsets[v]; k < providerOffsets[v + 1]; k++) {
      if (--pendingCustomers[providers[k]] === 0) queue[tail++] = providers[k];
    }
  }
  return remaining;
}

/**
 * The tier-1 clique: ASes with no provider that all peer with each other. Finding the largest
 * clique is NP-hard; like CAIDA's inference we take a greedy maximal clique instead. Candidates
 * are the provider-free ASes with at least one customer, taken by transit degree (customers),
 * then peer degree, then ASN; each joins if it peers with every AS already in. The result is
 * maximal (no candidate can be added) but not necessarily maximum.
 */
export function inferTier1(
  asns: Uint32Array,
  providerOffsets: Int32Array,
  customerOffsets: Int32Array,
  peerOffsets: Int32Array,
  peers: Int32Array,
): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < asns.length; i++) {
    const providerFree = providerOffsets[i + 1] === providerOffsets[i];
    const hasCustomers = customerOffsets[i + 1] > customerOffsets[i];
    if (providerFree && hasCustomers) candidates.push(i);
  }
  const customersOf = (i: number) => customerOffsets[i + 1] - customerOffsets[i];
  const peersCount = (i: number) => peerOffsets[i + 1] - peerOffsets[i];
  candidates.sort((x, y) => customersOf(y) - customersOf(x) || peersCount(y) - peersCount(x) || asns[x] - asns[y]);
  const clique: number[] = [];
  for (const c of candidates) {
    const cPeers = peers.subarray(peerOffsets[c], peerOffsets[c + 1]);
    if (clique.every((member) => sortedIncludes(cPeers, member))) clique.push(c);
  }
  return clique.map((i) => asns[i]).sort((a, b) => a - b);
}
