/**
 * GeoClassifier: a client address -> the id of its location class (routing/tables) and the
 * prefix length of the database network that holds it, for the DNS hot path.
 *
 * How: the MMDB search tree is walked directly on the address octets (the ECS option's bytes, or
 * a socket address parsed without allocation), as the MaxMind DB format specifies (nodes of two
 * 24-, 28- or 32-bit records; IPv4 under ::/96 in an IPv6 tree), and the data pointer at the
 * leaf is mapped to a class. Many networks share one data record, so pointer -> class is a table
 * the size of the database's distinct records, not of its clients: filled on first sight of a
 * record, or ahead of time by `fill(budget)`, which walks the whole tree in steps off the hot
 * path. Once every record has its class, the same steps build a direct table for IPv4: the
 * answer for every /24 that lies inside one network, so most IPv4 clients (and every ECS /24
 * inside such a network) are classified in one read. Nothing in it depends on the registry,
 * health or the time, so nothing empties it; a new database (GeoLocator.reload) makes a new
 * classifier.
 *
 * Contract: `classifyV4`, `classifyV6` and `classifyText` never throw, set `prefixLength` (and
 * `family` for text), and agree with GeoLocator.locate() on the same address: special-purpose
 * ranges, IPv4-mapped IPv6 and anything unusual are passed to locate() itself (checked by
 * geo-classifier.spec.ts over the bundled database).
 */
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'maxmind';
import type { GeoLocation } from '../routing/types';
import { LocationClassTable, UNKNOWN_CLASS } from '../routing/tables/location-classes';
import { tableArray } from '../routing/tables/table-memory';
import { decodeGeoRecord } from './geo-record';

/**
 * The upper levels of a search tree as two direct tables, so a walk starts at depth
 * TOP_BITS + BLOCK_BITS (20) after two reads instead of twenty dependent ones (the lower of
 * which miss the CPU caches for a network not seen lately: the tree of a city database is tens
 * of MB). `top` has an entry for every value of the address's first TOP_BITS bits: where the
 * walk stands then, node or data pointer x 32 + depth (depth < TOP_BITS when it met a leaf
 * sooner), or block x 32 + IN_BLOCK when it is at an inner node; a block has the same entries
 * for the next BLOCK_BITS bits.
 */
export interface StepIndex {
  readonly top: Uint32Array;
  readonly blocks: Uint32Array;
}
export const TOP_BITS = 16;
export const BLOCK_BITS = 4;
const DEPTH_BITS = 5;
/** In a /24 table entry (GeoClassifier.v4Direct): the low bits hold the prefix length (0-24). */
const PREFIX_BITS = 5;
const PREFIX_MASK = (1 << PREFIX_BITS) - 1;
const IN_BLOCK = (1 << DEPTH_BITS) - 1;
/** A record cache that keeps nothing (see SearchTree.decode). */
const NO_RECORD_CACHE = { get: (): undefined => undefined, set: (): void => undefined };

/** One MMDB file's search tree, read in place. */
export class SearchTree {
  readonly nodeCount: number;
  readonly recordSize: number;
  readonly nodeBytes: number;
  /** Node where IPv4 addresses start (after 96 zero bits in an IPv6 tree). */
  readonly ipv4Start: number;
  readonly ipVersion: 4 | 6;
  /** Data pointer -> class id. */
  readonly classOf = new PointerTable();
  /** The file's records, decoded without a cache (see decode). */
  private readonly records: Reader<Response>;

  constructor(
    readonly buffer: Buffer,
    readonly reader: Reader<Response>,
  ) {
    const meta = reader.metadata;
    this.records = new Reader<Response>(buffer, { cache: NO_RECORD_CACHE });
    this.nodeCount = meta.nodeCount;
    this.recordSize = meta.recordSize;
    this.nodeBytes = (meta.recordSize * 2) / 8;
    this.ipVersion = meta.ipVersion === 4 ? 4 : 6;
    let node = 0;
    if (this.ipVersion === 6) for (let i = 0; i < 96 && node < this.nodeCount; i++) node = this.record(node, 0);
    this.ipv4Start = node;
  }

  /** Left (bit 0) or right (bit 1) record of a node. */
  record(node: number, bit: number): number {
    const b = this.buffer;
    const base = node * this.nodeBytes;
    switch (this.recordSize) {
      case 24: {
        const o = base + bit * 3;
        return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
      }
      case 28:
        return bit === 0
          ? (((b[base + 3] & 0xf0) << 20) | (b[base] << 16) | (b[base + 1] << 8) | b[base + 2]) >>> 0
          : (((b[base + 3] & 0x0f) << 24) | (b[base + 4] << 16) | (b[base + 5] << 8) | b[base + 6]) >>> 0;
      default: {
        const o = base + bit * 4;
        return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
      }
    }
  }

  /**
   * Where a walk from `start` stands after the address's first TOP_BITS + BLOCK_BITS bits, in two
   * reads (see StepIndex). Built once per start node (IPv4 start, IPv6 root) when the classifier
   * is made: ~0.1 s, and 256 KB + 64 octets per inner node at depth TOP_BITS (38,783 of them in
   * DB-IP's city IPv4 file: 2.4 MB). Null for a file too large for an entry's 27 bits of node or
   * pointer (over 128 MB): its walks start at the root.
   */
  stepIndex(start: number): StepIndex | null {
    if ((this.nodeCount + 16 + this.buffer.length) * (1 << DEPTH_BITS) >= 2 ** 32) return null;
    let index = this.stepIndexes.get(start);
    if (index === undefined) {
      // First the top table, noting the inner nodes at depth TOP_BITS; then their blocks, in one
      // array of the exact size (no temporary copies while the file is being loaded).
      const top = tableArray(Uint32Array, 1 << TOP_BITS);
      const inner: number[] = [];
      const fill = (into: Uint32Array, base: number, limit: number, node: number, depth: number, prefix: number): void => {
        if (depth === limit || node >= this.nodeCount) {
          const span = 1 << (limit - depth);
          let entry = node * (1 << DEPTH_BITS) + depth;
          if (limit === TOP_BITS && depth === TOP_BITS && node < this.nodeCount) {
            entry = inner.length * (1 << DEPTH_BITS) + IN_BLOCK;
            inner.push(node);
          }
          // Every value of the remaining bits under `prefix` gets the same entry.
          into.fill(entry, base + prefix * span, base + (prefix + 1) * span);
          return;
        }
        fill(into, base, limit, this.record(node, 0), depth + 1, prefix * 2);
        fill(into, base, limit, this.record(node, 1), depth + 1, prefix * 2 + 1);
      };
      fill(top, 0, TOP_BITS, start, 0, 0);
      const blocks = tableArray(Uint32Array, inner.length << BLOCK_BITS);
      for (let b = 0; b < inner.length; b++) fill(blocks, b << BLOCK_BITS, TOP_BITS + BLOCK_BITS, inner[b], TOP_BITS, 0);
      index = { top, blocks };
      this.stepIndexes.set(start, index);
    }
    return index;
  }

  private readonly stepIndexes = new Map<number, StepIndex>();

  /**
   * The decoded record a data pointer leads to (maxmind's own decoder), through a reader of this
   * file that keeps no record cache: the classifier decodes each record once (its class is kept
   * in classOf) and 425,000 records pass through while the tables fill. A cache kept them alive
   * past several young-generation collections, so ~125 MB of dead records reached the old
   * generation and the next full collection, with its 8-14 ms pauses, fell in whatever came
   * after the fill (an upload, in bench/hardening.bench.ts; issue 16). Uncached, they die young.
   */
  decode(pointer: number): Response | null {
    const resolve = (this.records as unknown as { resolveDataPointer(p: number): Response | null }).resolveDataPointer;
    return resolve.call(this.records, pointer);
  }
}

/**
 * Data pointer -> class id as open addressing over one typed array of (pointer, class) pairs,
 * at most half full: a Map of 425,000 number pairs costs several times that in heap, and a pair
 * in one array is one cache line to read on a query for a network not seen lately (two arrays
 * were two). Pointers are > 0; class ids >= 0.
 */
export class PointerTable {
  private slots = tableArray(Uint32Array, 2 << 12);
  size = 0;

  get(pointer: number): number | undefined {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = mix(pointer) & mask; ; slot = (slot + 1) & mask) {
      const key = slots[slot << 1];
      if (key === pointer) return slots[(slot << 1) + 1];
      if (key === 0) return undefined;
    }
  }

  has(pointer: number): boolean {
    return this.get(pointer) !== undefined;
  }

  set(pointer: number, value: number): void {
    if ((this.size + 1) * 4 > this.slots.length) this.grow();
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = mix(pointer) & mask;
    while (slots[slot << 1] !== 0 && slots[slot << 1] !== pointer) slot = (slot + 1) & mask;
    if (slots[slot << 1] === 0) this.size++;
    slots[slot << 1] = pointer;
    slots[(slot << 1) + 1] = value;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = tableArray(Uint32Array, old.length * 2);
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.set(old[i], old[i + 1]);
  }
}

function mix(value: number): number {
  let h = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Special-purpose ranges of ipaddr.js (anything range() does not call 'unicast'), as [network, bits]. */
function specialRanges(kind: 'ipv4' | 'ipv6'): [number[], number][] {
  const proto = (kind === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6).prototype as unknown as {
    SpecialRanges: Record<string, [ipaddr.IPv4 | ipaddr.IPv6, number] | [ipaddr.IPv4 | ipaddr.IPv6, number][]>;
  };
  const out: [number[], number][] = [];
  for (const [name, entry] of Object.entries(proto.SpecialRanges ?? {})) {
    if (name === 'unicast') continue;
    const list = (Array.isArray(entry[0]) ? entry : [entry]) as [ipaddr.IPv4 | ipaddr.IPv6, number][];
    for (const [network, bits] of list) out.push([network.toByteArray(), bits]);
  }
  // IPv4-mapped and every translation form go the exact way too.
  if (kind === 'ipv6') out.push([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0], 96]);
  return out;
}

const SPECIAL_V4 = specialRanges('ipv4');
const SPECIAL_V6 = specialRanges('ipv6');

function inRanges(ranges: readonly [number[], number][], bytes: ArrayLike<number>): boolean {
  for (const [network, bits] of ranges) {
    let i = 0;
    let left = bits;
    let match = true;
    while (left >= 8) {
      if (bytes[i] !== network[i]) {
        match = false;
        break;
      }
      i++;
      left -= 8;
    }
    if (match && left > 0) {
      const mask = (0xff << (8 - left)) & 0xff;
      match = (bytes[i] & mask) === (network[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

/** The slow, exact path: GeoLocator.locate on the address text. */
export type LocateFn = (ip: string) => GeoLocation;

export class GeoClassifier {
  readonly classes = new LocationClassTable();
  /** Prefix length of the last classified address's network (in the terms of its family). */
  prefixLength = 0;
  /** Family of the last classified address (classifyText: 4 for IPv4-mapped IPv6). */
  family: 4 | 6 = 4;
  private readonly v4Bytes = new Uint8Array(4);
  private readonly v6Bytes = new Uint8Array(16);
  private fillStack: { tree: SearchTree; nodes: number[] }[] | null = null;
  /**
   * IPv4 /24 -> what the walk answers, for every /24 inside one network of the database:
   * (class id + 1) << PREFIX_BITS | the network's prefix length; 0 where the walk must answer (a
   * /24 split into longer networks, one with no data, a special-purpose range). One read of
   * 64 MB instead of the step index, the levels below it (3-8 cache misses for a network not
   * seen lately) and the pointer table. Null until `fill` has built all of it (`direct` holds
   * the build under way): a half-built table is never read.
   */
  private v4Direct: Uint32Array | null = null;
  private direct: { table: Uint32Array; stack: number[] } | null = null;
  /** stepIndex of the IPv4 start and of the IPv6 root (null when there is no such tree). */
  private readonly v4Steps: StepIndex | null;
  private readonly v6Steps: StepIndex | null;

  constructor(
    private readonly v4: SearchTree | null,
    private readonly v6: SearchTree | null,
    private readonly locate: LocateFn,
    /** Called once, when `fill` has built every table: the walk over the whole database is over. */
    private readonly onFilled?: () => void,
  ) {
    this.v4Steps = v4 === null ? null : v4.stepIndex(v4.ipv4Start);
    this.v6Steps = v6 === null || v6.ipVersion !== 6 ? null : v6.stepIndex(0);
  }

  /** An IPv4 address given as four octets. */
  classifyV4(a: number, b: number, c: number, d: number): number {
    this.family = 4;
    const direct = this.v4Direct;
    if (direct !== null) {
      const entry = direct[(a << 16) | (b << 8) | c];
      if (entry !== 0) {
        this.prefixLength = entry & PREFIX_MASK;
        return (entry >>> PREFIX_BITS) - 1;
      }
    }
    const bytes = this.v4Bytes;
    bytes[0] = a;
    bytes[1] = b;
    bytes[2] = c;
    bytes[3] = d;
    const tree = this.v4;
    if (tree === null || inRanges(SPECIAL_V4, bytes)) return this.exact(`${a}.${b}.${c}.${d}`);
    return this.walk(tree, tree.ipv4Start, this.v4Steps, bytes, 32);
  }

  /** An IPv6 address given as octets (`length` of them; the rest are zero, as in an ECS option). */
  classifyV6(source: ArrayLike<number>, length: number): number {
    this.family = 6;
    const bytes = this.v6Bytes;
    for (let i = 0; i < 16; i++) bytes[i] = i < length ? source[i] : 0;
    const tree = this.v6;
    if (tree === null || tree.ipVersion !== 6 || inRanges(SPECIAL_V6, bytes)) return this.exact(ipaddr.fromByteArray(Array.from(bytes)).toString());
    return this.walk(tree, 0, this.v6Steps, bytes, 128);
  }

  /** A socket peer's address text; dotted quads are read without allocating. */
  classifyText(ip: string): number {
    let octet = 0;
    let digits = 0;
    let parts = 0;
    const out = this.v4Bytes;
    for (let i = 0; i <= ip.length; i++) {
      const code = i < ip.length ? ip.charCodeAt(i) : 46;
      if (code === 46) {
        if (digits === 0 || parts === 4) return this.text(ip);
        out[parts++] = octet;
        octet = 0;
        digits = 0;
      } else if (code >= 48 && code <= 57 && !(digits > 0 && octet === 0)) {
        octet = octet * 10 + (code - 48);
        digits++;
        if (octet > 255) return this.text(ip);
      } else return this.text(ip);
    }
    if (parts !== 4) return this.text(ip);
    return this.classifyV4(out[0], out[1], out[2], out[3]);
  }

  /**
   * Maps up to `budget` more tree nodes' leaves to classes (the whole database, over calls), then
   * builds the IPv4 /24 table (v4Direct) in the same steps. Returns true when every record of every
   * tree has its class and the /24 table answers.
   */
  fill(budget: number): boolean {
    if (this.fillStack === null) {
      this.fillStack = [];
      for (const tree of new Set([this.v4, this.v6])) if (tree !== null) this.fillStack.push({ tree, nodes: [tree.ipVersion === 6 && tree === this.v4 && tree !== this.v6 ? tree.ipv4Start : 0] });
    }
    let work = 0;
    for (const job of this.fillStack) {
      const { tree, nodes } = job;
      while (nodes.length > 0) {
        if (work >= budget) return false;
        const node = nodes.pop()!;
        for (let bit = 0; bit < 2; bit++) {
          const next = tree.record(node, bit);
          if (next < tree.nodeCount) nodes.push(next);
          else if (next > tree.nodeCount && !tree.classOf.has(next)) this.classOfPointer(tree, next);
        }
        work++;
      }
    }
    if (!this.fillDirect(budget - work)) return false;
    if (!this.filled) {
      this.filled = true;
      this.onFilled?.();
    }
    return true;
  }

  private filled = false;

  /** Whether the IPv4 /24 table is built (fill() has returned true on a database with IPv4). */
  get directTable(): boolean {
    return this.v4Direct !== null;
  }

  /**
   * Up to `budget` more nodes of the IPv4 tree's upper 24 levels into the /24 table (a leaf that
   * covers many /24s counts one more for every 4,096 of them). Leaves with no data are left 0,
   * so a sparse database (MaxMind's test file) touches few of the table's pages.
   */
  private fillDirect(budget: number): boolean {
    const tree = this.v4;
    if (tree === null || this.v4Direct !== null) return true;
    if (this.direct === null) this.direct = { table: tableArray(Uint32Array, 1 << 24), stack: [tree.ipv4Start, 0, 0] };
    const { table, stack } = this.direct;
    let work = 0;
    while (stack.length > 0) {
      if (work >= budget) return false;
      // Entries are (node, depth, first /24 of the node's range >> (24 - depth)), three numbers each.
      const prefix = stack.pop()!;
      const depth = stack.pop()!;
      const node = stack.pop()!;
      work++;
      if (node < tree.nodeCount) {
        if (depth < 24) stack.push(tree.record(node, 1), depth + 1, prefix * 2 + 1, tree.record(node, 0), depth + 1, prefix * 2);
        continue;
      }
      if (node === tree.nodeCount) continue;
      const known = tree.classOf.get(node);
      const id = known !== undefined ? known : this.classOfPointer(tree, node);
      if (id + 1 >= 2 ** (32 - PREFIX_BITS)) continue;
      const span = 1 << (24 - depth);
      table.fill((((id + 1) << PREFIX_BITS) | depth) >>> 0, prefix * span, prefix * span + span);
      work += span >>> 12;
    }
    // classifyV4 sends these to locate() before any walk: so must the table.
    for (const [network, bits] of SPECIAL_V4) {
      const first = (network[0] << 16) | (network[1] << 8) | network[2];
      const span = bits >= 24 ? 1 : 1 << (24 - bits);
      const start = first - (first % span);
      table.fill(0, start, start + span);
    }
    this.v4Direct = table;
    this.direct = null;
    return true;
  }

  /** Distinct database records mapped to a class so far. */
  get mappedRecords(): number {
    let n = this.v4?.classOf.size ?? 0;
    if (this.v6 !== null && this.v6 !== this.v4) n += this.v6.classOf.size;
    return n;
  }

  private walk(tree: SearchTree, start: number, steps: StepIndex | null, bytes: Uint8Array, bits: number): number {
    const nodeCount = tree.nodeCount;
    let node = start;
    let depth = 0;
    if (steps !== null) {
      let entry = steps.top[(bytes[0] << 8) | bytes[1]]; // TOP_BITS = 16: the first two octets
      if ((entry & IN_BLOCK) === IN_BLOCK) entry = steps.blocks[((entry >>> DEPTH_BITS) << BLOCK_BITS) | (bytes[2] >> (8 - BLOCK_BITS))];
      node = entry >>> DEPTH_BITS;
      depth = entry & IN_BLOCK;
    }
    for (; depth < bits && node < nodeCount; depth++) {
      const bit = (bytes[depth >> 3] >> (7 - (depth & 7))) & 1;
      node = tree.record(node, bit);
    }
    this.prefixLength = depth;
    if (node <= nodeCount) return UNKNOWN_CLASS; // no data for this network
    const known = tree.classOf.get(node);
    return known !== undefined ? known : this.classOfPointer(tree, node);
  }

  private classOfPointer(tree: SearchTree, pointer: number): number {
    let id = UNKNOWN_CLASS;
    try {
      const decoded = decodeGeoRecord(tree.decode(pointer));
      if (decoded !== null) id = this.classes.intern({ found: true, ...decoded });
    } catch {
      id = UNKNOWN_CLASS;
    }
    tree.classOf.set(pointer, id);
    return id;
  }

  /** Not a plain dotted quad: the exact path (IPv6 text, IPv4-mapped, invalid). */
  private text(ip: string): number {
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d: they are IPv4 clients.
    if (ip.startsWith('::ffff:') && ip.indexOf('.') > 0) return this.classifyText(ip.slice(7));
    this.family = ip.includes(':') ? 6 : 4;
    return this.fromLocation(this.locate(ip));
  }

  private exact(ip: string): number {
    return this.fromLocation(this.locate(ip));
  }

  private fromLocation(location: GeoLocation): number {
    this.prefixLength = location.prefixLength;
    if (!location.found) return UNKNOWN_CLASS;
    return this.classes.intern(location);
  }
}
