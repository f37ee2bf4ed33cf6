/**
 * The robust statistic of the latency evidence, per (level, key, region), from the shared samples.
 * Pure: the repository reads the window's samples in short pages (the embedded database has one
 * connection, and a long aggregate query would hold it past the 4 s statement timeout at 100,000
 * samples), and this computes, identically on every instance:
 *
 *  1. per source, network and region only the newest `sourceCap` samples count;
 *  2. each weighs 0.5^(age / halfLife);
 *  3. per level (/24 or /48, /20 or /40, /16 or /32, location class, country), key and region: the
 *     weighted median where every source network weighs 1 in total, shared equally by its sources,
 *     each source's share spread over its samples by their decay: thousands of samples from one
 *     source, or many sources in one /24, are one voice;
 *  4. with the samples counted, the distinct sources and the distinct source networks.
 */
import type { LatencyEntryInput, LatencyInput } from '../routing/latency';

/** One aggregate: a (level, key, region) with its weighted median and what it rests on. */
export interface AggregateRow {
  /** '/24' '/20' '/16' '/48' '/40' '/32' 'class' 'country'. */
  readonly level: string;
  /** Prefix levels: the network number at that length; class: the place key; country: the code. */
  readonly key: string;
  readonly region: string;
  readonly medianMs: number;
  readonly samples: number;
  readonly sources: number;
  readonly sourceNets: number;
}

export interface SampleView {
  readonly id: number;
  readonly family: 4 | 6;
  /** The /24 or /48 as a number. */
  readonly network: number;
  readonly placeKey: string | null;
  readonly country: string | null;
  readonly region: string;
  readonly rttMs: number;
  readonly sourceId: string;
  readonly sourceNet: string;
  /** ms since the epoch. */
  readonly observedAt: number;
}

export interface AggregateOptions {
  readonly now: number;
  readonly halfLifeMs: number;
  readonly sourceCap: number;
}

interface Item {
  readonly rtt: number;
  readonly decay: number;
  readonly sourceId: string;
  readonly sourceNet: string;
}

/** The level and key of a sample at each level group (null: the sample has no key there). */
export function levelKeys(s: SampleView): readonly (readonly [string, string] | null)[] {
  const v4 = s.family === 4;
  return [
    [v4 ? '/24' : '/48', String(s.network)],
    [v4 ? '/20' : '/40', String(v4 ? Math.floor(s.network / 16) : Math.floor(s.network / 256))],
    [v4 ? '/16' : '/32', String(v4 ? Math.floor(s.network / 256) : Math.floor(s.network / 65536))],
    s.placeKey === null ? null : ['class', s.placeKey],
    s.country === null ? null : ['country', s.country],
  ];
}

/** How many samples or groups are handled between two yields of aggregateSteps. */
const STEP = 4000;

/** The aggregates at once (tests, small windows). */
export function aggregate(samples: readonly SampleView[], o: AggregateOptions): AggregateRow[] {
  const steps = aggregateSteps(samples, o);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * The same in steps: it yields after every few thousand samples or groups, so that a caller on the
 * event loop (LatencyCompiler) can let DNS and HTTP run between them.
 */
export function* aggregateSteps(samples: readonly SampleView[], o: AggregateOptions): Generator<void, AggregateRow[]> {
  // 1. The cap: newest first per (source, network, region).
  const bySource = new Map<string, SampleView[]>();
  let work = 0;
  for (const s of samples) {
    if (++work % STEP === 0) yield;
    const k = `${s.sourceId}\u0000${s.family}\u0000${s.network}\u0000${s.region}`;
    const list = bySource.get(k);
    if (list === undefined) bySource.set(k, [s]);
    else list.push(s);
  }
  // 2 and 3: items per (level, key, region).
  const groups = new Map<string, { level: string; key: string; region: string; items: Item[] }>();
  for (const list of bySource.values()) {
    work += list.length;
    if (work >= STEP) {
      work = 0;
      yield;
    }
    const kept = list.length <= o.sourceCap ? list : list.sort((a, b) => b.observedAt - a.observedAt || b.id - a.id).slice(0, o.sourceCap);
    for (const s of kept) {
      const age = Math.max(0, o.now - s.observedAt) / o.halfLifeMs;
      const item: Item = { rtt: s.rttMs, decay: Math.pow(0.5, Math.min(age, 1000)), sourceId: s.sourceId, sourceNet: s.sourceNet };
      for (const lk of levelKeys(s)) {
        if (lk === null) continue;
        const id = `${lk[0]}\u0000${lk[1]}\u0000${s.region}`;
        let g = groups.get(id);
        if (g === undefined) {
          g = { level: lk[0], key: lk[1], region: s.region, items: [] };
          groups.set(id, g);
        }
        g.items.push(item);
      }
    }
  }
  const out: AggregateRow[] = [];
  for (const g of groups.values()) {
    work += g.items.length;
    if (work >= STEP) {
      work = 0;
      yield;
    }
    const sourceDecay = new Map<string, number>();
    const netSources = new Map<string, Set<string>>();
    for (const it of g.items) {
      sourceDecay.set(it.sourceId, (sourceDecay.get(it.sourceId) ?? 0) + it.decay);
      let set = netSources.get(it.sourceNet);
      if (set === undefined) netSources.set(it.sourceNet, (set = new Set()));
      set.add(it.sourceId);
    }
    const weighted = g.items.map((it) => ({ rtt: it.rtt, w: it.decay / sourceDecay.get(it.sourceId)! / netSources.get(it.sourceNet)!.size }));
    weighted.sort((a, b) => a.rtt - b.rtt);
    let total = 0;
    for (const x of weighted) total += x.w;
    let cumulative = 0;
    let median = weighted[weighted.length - 1].rtt;
    for (const x of weighted) {
      cumulative += x.w;
      if (cumulative >= total * 0.5 - 1e-9) {
        median = x.rtt;
        break;
      }
    }
    out.push({
      level: g.level,
      key: g.key,
      region: g.region,
      medianMs: Math.round(median * 10) / 10,
      samples: g.items.length,
      sources: sourceDecay.size,
      sourceNets: netSources.size,
    });
  }
  return out;
}

/**
 * The trusted evidence of the aggregates: a (network, region) with at least `minSamples` samples
 * and `minSources` distinct sources; per network, its trusted regions. Stable order (tests and the
 * snapshot file compare it).
 */
export function compileEvidence(rows: readonly AggregateRow[], minSamples: number, minSources: number): LatencyInput {
  const entries = new Map<string, { level: LatencyEntryInput['level']; key: string; evidence: LatencyEntryInput['evidence'][number][] }>();
  for (const r of rows) {
    if (r.samples < minSamples || r.sources < minSources || !Number.isFinite(r.medianMs)) continue;
    const key = entryKey(r.level, r.key);
    if (key === null) continue;
    const id = `${key.level} ${key.key}`;
    let entry = entries.get(id);
    if (entry === undefined) {
      entry = { ...key, evidence: [] };
      entries.set(id, entry);
    }
    entry.evidence.push({ region: r.region, rttMs: r.medianMs, samples: r.samples, sources: r.sources });
  }
  const list = [...entries.values()].sort((a, b) => (a.level + a.key < b.level + b.key ? -1 : 1));
  for (const e of list) e.evidence.sort((a, b) => (a.region < b.region ? -1 : 1));
  return { entries: list };
}

/** An aggregate's level and key as a LatencyEntryInput's (prefixes as CIDR text). */
export function entryKey(level: string, key: string): { level: LatencyEntryInput['level']; key: string } | null {
  if (level === 'class' || level === 'country') return { level, key };
  const n = Number(key);
  if (!Number.isSafeInteger(n) || n < 0) return null;
  const v4 = (n24: number, bits: number) => `${Math.floor(n24 / 65536)}.${Math.floor(n24 / 256) % 256}.${n24 % 256}.0/${bits}`;
  const v6 = (n48: number, bits: number) => `${Math.floor(n48 / 2 ** 32).toString(16)}:${(Math.floor(n48 / 65536) % 65536).toString(16)}:${(n48 % 65536).toString(16)}::/${bits}`;
  switch (level) {
    case '/24':
      return { level: 'prefix', key: v4(n, 24) };
    case '/20':
      return { level: 'prefix', key: v4(n * 16, 20) };
    case '/16':
      return { level: 'prefix', key: v4(n * 256, 16) };
    case '/48':
      return { level: 'prefix', key: v6(n, 48) };
    case '/40':
      return { level: 'prefix', key: v6(n * 256, 40) };
    case '/32':
      return { level: 'prefix', key: v6(n * 65536, 32) };
    default:
      return null;
  }
}
