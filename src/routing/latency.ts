/**
 * Measured latency: the compiled evidence the `latency` policy ranks regions by.
 *
 * Input (`LatencyInput`, plain data in SnapshotInput.latency, made by the measurements module
 * from its PostgreSQL aggregates): per client network — a /24, /20 or /16 (IPv4), a /48, /40 or
 * /32 (IPv6), a location class (`placeKey` of a geo place) or a country — the trusted evidence per
 * region: a robust RTT in ms, the samples and the distinct sources behind it. Only evidence that
 * passed the aggregator's trust rules (minimum samples, minimum sources, per-source caps) is here.
 *
 * Output (`LatencyTable`, compiled once per snapshot by buildSnapshot, immutable): one Map from a
 * numeric network key to a row, and maps by place key and country. A row lists region ids by
 * RTT, ascending, with tie flags: two regions whose RTTs differ by less than the tie margin
 * (`TIE_MARGIN_MS` or `TIE_MARGIN_RATIO` of the smaller, whichever is larger) are equal, and a
 * service orders equals by its own region order — a difference is meaningful only beyond it.
 *
 * The evidence rule, shared by decide() and the table router through `levelFor`:
 *  - levels are tried most specific first: /24 (/48), /20 (/40), /16 (/32), location class,
 *    country; the first whose row has trusted evidence for at least MIN_MEASURED_REGIONS of the
 *    service's regions is used (a ranking needs a comparison: one measured region never jumps
 *    ahead of unmeasured nearer ones);
 *  - the regions measured at that level come first, by RTT (ties by service order); every other
 *    region follows by distance (service order for an unlocated client);
 *  - no level qualifies: the whole order is by distance, and the decision says so
 *    ('latency-distance-fallback').
 *
 * Hot path: the client's /24 or /48 key text (the one weighted hashing uses) parsed without
 * allocation into a number; at most five Map look-ups; a row walk of R entries.
 */
import type { ServicePlan } from './service-plan';
import type { LocationClassTable } from './tables/location-classes';
import type { GeoLocation } from './types';

export type LatencyLevel = '/24' | '/20' | '/16' | '/48' | '/40' | '/32' | 'class' | 'country';
export const LATENCY_LEVELS: readonly LatencyLevel[] = ['/24', '/20', '/16', '/48', '/40', '/32', 'class', 'country'];

/** How many of a service's regions need trusted evidence at a level for the level to rank. */
export const MIN_MEASURED_REGIONS = 2;
/** RTTs closer than this (or TIE_MARGIN_RATIO of the smaller) are equal. */
export const TIE_MARGIN_MS = 5;
export const TIE_MARGIN_RATIO = 0.1;

export interface LatencyEvidenceInput {
  readonly region: string;
  /** The robust statistic (median of the decaying window), ms. */
  readonly rttMs: number;
  readonly samples: number;
  readonly sources: number;
}

export interface LatencyEntryInput {
  /** A prefix (CIDR text: 198.51.100.0/24, 2001:db8::/48, ...), a location class, or a country. */
  readonly level: 'prefix' | 'class' | 'country';
  /** CIDR text, placeKey(), or the upper-case country code. */
  readonly key: string;
  readonly evidence: readonly LatencyEvidenceInput[];
}

export interface LatencyInput {
  readonly entries: readonly LatencyEntryInput[];
}

/** One network's evidence, regions by RTT. */
export interface LatencyRow {
  readonly level: LatencyLevel;
  readonly key: string;
  /** Region ids (snapshot ids), fastest first. */
  readonly ids: Uint16Array;
  /** ties[k] = 1: ids[k] is as fast as ids[k - 1] (within the margin). */
  readonly ties: Uint8Array;
  readonly rttMs: Float64Array;
  readonly samples: Uint32Array;
  readonly sources: Uint32Array;
}

/** Level tags in numeric network keys (tag * 2^48 + network bits). */
const TAG = { '/24': 1, '/20': 2, '/16': 3, '/48': 4, '/40': 5, '/32': 6 } as const;
const P48 = 2 ** 48;

/** The numeric key of a network at a level: `n` is the /24 (a*65536+b*256+c) or the /48 (first three groups). */
export function networkKey(level: keyof typeof TAG, n: number): number {
  switch (level) {
    case '/24':
    case '/48':
      return TAG[level] * P48 + n;
    case '/20':
      return TAG[level] * P48 + Math.floor(n / 16);
    case '/16':
    case '/40':
      return TAG[level] * P48 + Math.floor(n / 256);
    default:
      return TAG[level] * P48 + Math.floor(n / 65536);
  }
}

/**
 * The /24 or /48 of a client key (clientHashKey's text: "a.b.c.0/24" or "x:y:z::/48") as a number,
 * in `out` (family 4 or 6; 0 when unreadable). No allocation.
 */
export function parseClientKey(key: string, out: { family: 0 | 4 | 6; n: number }): void {
  out.family = 0;
  out.n = 0;
  let value = 0;
  let part = 0;
  if (key.indexOf(':') < 0) {
    let n = 0;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c >= 48 && c <= 57) value = value * 10 + (c - 48);
      else if (c === 46) {
        if (value > 255) return;
        n = n * 256 + value;
        value = 0;
        if (++part === 3) {
          out.family = 4;
          out.n = n;
          return;
        }
      } else return;
    }
    return;
  }
  let n = 0;
  let digits = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d >= 0) {
      value = value * 16 + d;
      digits++;
    } else if (c === 58) {
      if (digits === 0) break; // "::": the remaining groups of the /48 are zero
      n = n * 65536 + value;
      value = 0;
      digits = 0;
      if (++part === 3) break;
    } else return;
  }
  while (part < 3) {
    n = n * 65536;
    part++;
  }
  out.family = 6;
  out.n = n;
}

/** The class key of a geo place with coordinates (null without): country and exact coordinates. */
export function placeKey(place: { readonly country: string | null; readonly latitude: number | null; readonly longitude: number | null }): string | null {
  if (place.latitude === null || place.longitude === null || !Number.isFinite(place.latitude) || !Number.isFinite(place.longitude)) return null;
  return `${place.country ?? '-'}@${place.latitude},${place.longitude}`;
}

/** A prefix key's level and numeric key, or null when the text is not a /24 /20 /16 /48 /40 /32 network. */
export function parsePrefixKey(text: string): { level: LatencyLevel; key: number } | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const bits = text.slice(slash + 1);
  const address = text.slice(0, slash);
  const out = { family: 0 as 0 | 4 | 6, n: 0 };
  if (address.includes(':')) {
    if (bits !== '48' && bits !== '40' && bits !== '32') return null;
    const groups = expandIpv6(address);
    if (groups === null) return null;
    parseClientKey(`${groups[0].toString(16)}:${groups[1].toString(16)}:${groups[2].toString(16)}::/48`, out);
    const level = `/${bits}` as '/48' | '/40' | '/32';
    return out.family === 6 ? { level, key: networkKey(level, out.n) } : null;
  }
  if (bits !== '24' && bits !== '20' && bits !== '16') return null;
  const octets = address.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return null;
  const level = `/${bits}` as '/24' | '/20' | '/16';
  return { level, key: networkKey(level, Number(octets[0]) * 65536 + Number(octets[1]) * 256 + Number(octets[2])) };
}

function expandIpv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...new Array<string>(fill).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

/** A client's network as the hot path hands it over: family (0: unknown, use the key text) and its /24 or /48 number. */
export interface ClientNetwork {
  family: 0 | 4 | 6;
  n: number;
}

/** An entry: the region id in the low 15 bits, TIE when it is as fast as the entry before. */
export const ENTRY_ID = 0x7fff;
export const ENTRY_TIE = 0x8000;
/** In the /20 index: some /24 inside has a row of its own. */
const AT20_HAS24 = 1 << 30;

/** Bit 31 of a region mask: some region id is 31 or more (the mask cannot say; walk the ids). */
const MASK_OVERFLOW = -2147483648;

/** The mask of `plan`'s region ids (bit id for ids 0-30; MASK_OVERFLOW when one is larger). */
export function planMask(plan: ServicePlan): number {
  let mask = 0;
  for (const id of plan.regionIds) {
    if (id < 0) continue;
    mask |= id < 31 ? 1 << id : MASK_OVERFLOW;
  }
  return mask;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

export class LatencyTable {
  /**
   * The hot path's view of the rows, struct of arrays (no object per look-up): row r's meta at
   * meta[3r..3r+2] (start, length, region mask), its regions at entries[start .. start+length-1].
   * `row(r)` is the same row as an object (explain, tests).
   */
  /** Per row: its first entry, its length and its region-id mask (3 x int32, one cache line). */
  readonly meta: Int32Array;
  /** Every row's regions in turn, fastest first: region id | TIE (as fast as the entry before). */
  readonly entries: Uint16Array;
  private readonly rtts: Float64Array;
  private readonly samples: Uint32Array;
  private readonly sources: Uint32Array;
  private readonly levels: LatencyLevel[] = [];
  private readonly keys: string[] = [];
  /** Row objects made so far (explain, tests), by row index. */
  private readonly rows: (LatencyRow | undefined)[] = [];
  /** Network rows per level, keyed by the network number at that length (IPv4 keys are small integers). */
  private readonly byLevel: Record<keyof typeof TAG, Map<number, number>> = {
    '/24': new Map(), '/20': new Map(), '/16': new Map(), '/48': new Map(), '/40': new Map(), '/32': new Map(),
  };
  private readonly byPlace = new Map<string, number>();
  private readonly byCountry = new Map<string, number>();
  /** Per location class of `classes`: its place's / country's row + 1, 0 none, -1 not looked up yet. */
  private classes: LocationClassTable | null = null;
  /** slots[2c]: class c's place row + 1, slots[2c + 1]: its country's (0 none, -1 not looked up yet). */
  private slots = new Int32Array(0);
  private readonly parsed: ClientNetwork = { family: 0, n: 0 };
  /**
   * IPv4 without maps for most clients: bit n of `any16` is set when /16 n has a row at /24, /20 or
   * /16, `has24` the same for /24 rows (then the /24 map); `at20` / `at16` hold row + 1 of each /20
   * and /16 directly (0: none). 8 KB + 2 MB + 4 MB + 256 KB, only when the table has IPv4 rows.
   */
  private any16: Uint8Array | null = null;
  private has24: Uint8Array | null = null;
  private at20: Int32Array | null = null;
  private at16: Int32Array | null = null;

  /** Compiles `input` against a snapshot's region ids; entries naming unknown regions skip them. */
  constructor(input: LatencyInput, regionIds: ReadonlyMap<string, number>) {
    // Plain arrays while compiling, typed arrays at the end; row objects only when asked for (row()).
    const ids: number[] = [];
    const ties: number[] = [];
    const rtts: number[] = [];
    const samples: number[] = [];
    const sources: number[] = [];
    const starts: number[] = [];
    const lengths: number[] = [];
    const masks: number[] = [];
    const list: { id: number; rtt: number; samples: number; sources: number }[] = [];
    for (const entry of input.entries) {
      list.length = 0;
      for (const e of entry.evidence) {
        const id = regionIds.get(e.region);
        if (id === undefined || id > ENTRY_ID || !Number.isFinite(e.rttMs) || e.rttMs < 0 || list.some((x) => x.id === id)) continue;
        list.push({ id, rtt: e.rttMs, samples: e.samples, sources: e.sources });
      }
      if (list.length === 0) continue;
      list.sort((a, b) => a.rtt - b.rtt || a.id - b.id);
      if (list.length > 255) list.length = 255;
      let level: LatencyLevel;
      let mapKey = 0;
      if (entry.level === 'prefix') {
        const parsed = parsePrefixKey(entry.key);
        if (parsed === null) continue;
        level = parsed.level;
        mapKey = parsed.key - TAG[level as keyof typeof TAG] * P48;
      } else level = entry.level;
      const r = starts.length;
      starts.push(ids.length);
      lengths.push(list.length);
      let groupRtt = list[0].rtt;
      let mask = 0;
      for (let k = 0; k < list.length; k++) {
        const x = list[k];
        let tie = 0;
        if (k > 0) {
          if (x.rtt - groupRtt < Math.max(TIE_MARGIN_MS, groupRtt * TIE_MARGIN_RATIO)) tie = 1;
          else groupRtt = x.rtt;
        }
        ids.push(x.id);
        ties.push(tie);
        rtts.push(x.rtt);
        samples.push(x.samples);
        sources.push(x.sources);
        mask |= x.id < 31 ? 1 << x.id : MASK_OVERFLOW;
      }
      masks.push(mask);
      this.levels.push(level);
      this.keys.push(entry.key);
      if (entry.level === 'prefix') this.byLevel[level as keyof typeof TAG].set(mapKey, r);
      else if (entry.level === 'class') this.byPlace.set(entry.key, r);
      else this.byCountry.set(entry.key.toUpperCase(), r);
    }
    this.entries = Uint16Array.from(ids, (id, k) => id | (ties[k] === 1 ? ENTRY_TIE : 0));
    this.rtts = Float64Array.from(rtts);
    this.samples = Uint32Array.from(samples);
    this.sources = Uint32Array.from(sources);
    this.meta = new Int32Array(starts.length * 3);
    for (let r = 0; r < starts.length; r++) {
      this.meta[3 * r] = starts[r];
      this.meta[3 * r + 1] = lengths[r];
      this.meta[3 * r + 2] = masks[r];
    }
    this.indexIpv4();
  }

  /** Sets the IPv4 presence bits and direct /20 and /16 indexes of every network row. */
  private indexIpv4(): void {
    const n = this.byLevel['/24'].size + this.byLevel['/20'].size + this.byLevel['/16'].size;
    if (n === 0) return;
    const any16 = new Uint8Array(1 << 13);
    const has24 = new Uint8Array(1 << 21);
    const at20 = new Int32Array(1 << 20);
    const at16 = new Int32Array(1 << 16);
    const set = (bits: Uint8Array, i: number) => (bits[i >>> 3] |= 1 << (i & 7));
    for (const [k, r] of this.byLevel['/20']) {
      at20[k] = r + 1;
      set(any16, k >>> 4);
    }
    for (const k of this.byLevel['/24'].keys()) {
      set(has24, k);
      set(any16, k >>> 8);
      at20[k >>> 4] |= AT20_HAS24;
    }
    for (const [k, r] of this.byLevel['/16']) {
      at16[k] = r + 1;
      set(any16, k);
    }
    this.any16 = any16;
    this.has24 = has24;
    this.at20 = at20;
    this.at16 = at16;
  }

  get size(): number {
    return this.meta.length / 3;
  }

  /** Row r as an object (explain, tests): views on the shared arrays, made once. */
  row(r: number): LatencyRow {
    let row = this.rows[r];
    if (row === undefined) {
      const a = this.meta[3 * r];
      const b = a + this.meta[3 * r + 1];
      const entries = this.entries.subarray(a, b);
      row = Object.freeze({
        level: this.levels[r],
        key: this.keys[r],
        ids: Uint16Array.from(entries, (e) => e & ENTRY_ID),
        ties: Uint8Array.from(entries, (e) => (e & ENTRY_TIE) === 0 ? 0 : 1),
        rttMs: this.rtts.subarray(a, b),
        samples: this.samples.subarray(a, b),
        sources: this.sources.subarray(a, b),
      });
      this.rows[r] = row;
    }
    return row;
  }

  /** Rows for the explain path and tests (allocates). */
  rowsFor(clientKey: string, location: GeoLocation): LatencyRow[] {
    const rows: LatencyRow[] = [];
    const parsed: ClientNetwork = { family: 0, n: 0 };
    parseClientKey(clientKey, parsed);
    const levels: readonly (keyof typeof TAG)[] = parsed.family === 4 ? ['/24', '/20', '/16'] : parsed.family === 6 ? ['/48', '/40', '/32'] : [];
    for (const level of levels) {
      const r = this.byLevel[level].get(networkKey(level, parsed.n) - TAG[level] * P48);
      if (r !== undefined) rows.push(this.row(r));
    }
    const place = placeKey(location);
    const byPlace = place === null ? undefined : this.byPlace.get(place);
    if (byPlace !== undefined) rows.push(this.row(byPlace));
    const byCountry = location.country === null ? undefined : this.byCountry.get(location.country.toUpperCase());
    if (byCountry !== undefined) rows.push(this.row(byCountry));
    return rows;
  }

  /**
   * The row the latency policy ranks `plan`'s regions by for this client, or null (distance).
   * The explain path: the client's key text, its GeoLocation.
   */
  levelFor(plan: ServicePlan, clientKey: string, location: GeoLocation): LatencyRow | null {
    for (const row of this.rowsFor(clientKey, location)) if (usable(row, plan)) return row;
    return null;
  }

  /**
   * The same rule for the table path, as a row index (-1: none): the client's network (`network`,
   * or parsed from the key text when its family is 0), its location class, `mask` = planMask(plan).
   * No allocation after a class's first use.
   */
  levelForClass(plan: ServicePlan, mask: number, network: ClientNetwork | null, clientKey: () => string, classes: LocationClassTable, classId: number): number {
    let net = network;
    if (net === null || net.family === 0) {
      net = this.parsed;
      parseClientKey(clientKey(), net);
    }
    const n = net.n;
    let r: number | undefined;
    if (net.family === 4) {
      const any16 = this.any16;
      const n16 = n >>> 8;
      if (any16 !== null && (any16[n16 >>> 3] & (1 << (n16 & 7))) !== 0) {
        const v20 = this.at20![n >>> 4];
        if ((v20 & AT20_HAS24) !== 0 && (this.has24![n >>> 3] & (1 << (n & 7))) !== 0 && (r = this.byLevel['/24'].get(n)) !== undefined && this.usableRow(r, plan, mask)) return r;
        let slot = v20 & ~AT20_HAS24;
        if (slot > 0 && this.usableRow(slot - 1, plan, mask)) return slot - 1;
        slot = this.at16![n16];
        if (slot > 0 && this.usableRow(slot - 1, plan, mask)) return slot - 1;
      }
    } else if (net.family === 6) {
      if ((r = this.byLevel['/48'].get(n)) !== undefined && this.usableRow(r, plan, mask)) return r;
      if ((r = this.byLevel['/40'].get(Math.floor(n / 256))) !== undefined && this.usableRow(r, plan, mask)) return r;
      if ((r = this.byLevel['/32'].get(Math.floor(n / 65536))) !== undefined && this.usableRow(r, plan, mask)) return r;
    }
    if (this.byPlace.size > 0 || this.byCountry.size > 0) {
      this.slotsFor(classes, classId);
      const slots = this.slots;
      let slot = slots[2 * classId];
      if (slot < 0) {
        const key = placeKey(classes.place(classId));
        const found = key === null ? undefined : this.byPlace.get(key);
        slot = found === undefined ? 0 : found + 1;
        slots[2 * classId] = slot;
      }
      if (slot > 0 && this.usableRow(slot - 1, plan, mask)) return slot - 1;
      slot = slots[2 * classId + 1];
      if (slot < 0) {
        const country = classes.country(classId);
        const found = country === null ? undefined : this.byCountry.get(country);
        slot = found === undefined ? 0 : found + 1;
        slots[2 * classId + 1] = slot;
      }
      if (slot > 0 && this.usableRow(slot - 1, plan, mask)) return slot - 1;
    }
    return -1;
  }

  /** usable() on row r: two bit operations when every region id is below 31. */
  private usableRow(r: number, plan: ServicePlan, mask: number): boolean {
    const m = this.meta[3 * r + 2];
    if ((m | mask) >= 0) return popcount(m & mask) >= MIN_MEASURED_REGIONS;
    return usable(this.row(r), plan);
  }

  /** The slot array for `classes`, long enough for `classId` (-1: not looked up yet). */
  private slotsFor(classes: LocationClassTable, classId: number): void {
    if (this.classes !== classes) {
      this.classes = classes;
      this.slots = new Int32Array(2 * Math.max(1024, classes.size)).fill(-1);
    }
    if (2 * classId + 1 >= this.slots.length) {
      const b = new Int32Array(Math.max(2 * classId + 2, this.slots.length * 2)).fill(-1);
      b.set(this.slots);
      this.slots = b;
    }
  }

}

/** Whether `row` measures at least MIN_MEASURED_REGIONS of the plan's regions. */
export function usable(row: LatencyRow, plan: ServicePlan): boolean {
  const positionOf = plan.positionOf;
  const ids = row.ids;
  let found = 0;
  if (positionOf.length === 0) {
    // A hand-made snapshot: no ids (no latency either: the table needs the snapshot's ids).
    return false;
  }
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    if (id < positionOf.length && positionOf[id] >= 0 && ++found >= MIN_MEASURED_REGIONS) return true;
  }
  return false;
}
