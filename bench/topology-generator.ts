/**
 * Deterministic, Internet-like AS topologies for the anycast benchmark and tests.
 *
 * Shape (one seed -> one topology, bit for bit):
 *   - a tier-1 clique (15 by default, the well-known tier-1 ASNs), all peering with each other;
 *   - tier-2 regional transit (2% of ASes): 2-4 tier-1 providers, sometimes a bigger tier-2 of
 *     the same region as well;
 *   - tier-3 transit (8%): 1-3 providers, mostly tier-2 of the same region;
 *   - stubs (the rest): 1-3 providers (40/40/20%), mostly transit of their region (a few buy
 *     from any tier-2 or a tier-1), picked by a heavy-tailed size weight (preferential
 *     attachment, so a few transit ASes get most stubs);
 *   - regional peering at IXP-like meeting points, among same-region transit and stubs;
 *     `peeringDensity` 'sparse' (a few tier-2/3 pairs) or 'dense' (most transit and a quarter of
 *     the stubs, tens of peers each);
 *   - locations: every AS sits in one of a handful of world regions, jittered around its centre.
 * Providers always come from a higher tier, or an earlier AS of the same tier, so the
 * provider-customer graph is acyclic.
 *
 * `placeSites` puts 20 anycast sites in real cities, with upstreams among the transit ASes nearest
 * each city: 'sparse' = one tier-2, 'dense' = two tier-2 and six tier-3.
 */
import { greatCircleDistanceKm } from '../src/routing/geo-distance';
import type { TopologyJson, TopologyJsonLink } from '../src/routing/bgp/parse-json';
import type { Site } from '../src/routing/bgp/site';
import type { AsAttributes } from '../src/routing/bgp/topology';

/** Small, fast, seedable PRNG (sfc32, seeded through splitmix32). */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Pareto with minimum 1 and shape alpha (heavy tail for small alpha). */
  pareto(alpha: number): number {
    return Math.pow(1 - this.next(), -1 / alpha);
  }

  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.next() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1][0];
  }
}

export interface WorldRegion {
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
  /** Share of all ASes located here. */
  readonly weight: number;
  readonly countryCode: string;
}

/** Where ASes live: rough centres of the regions with many networks. */
export const WORLD_REGIONS: readonly WorldRegion[] = [
  { name: 'na-east', latitude: 40.0, longitude: -76.0, weight: 0.14, countryCode: 'US' },
  { name: 'na-central', latitude: 39.0, longitude: -93.0, weight: 0.07, countryCode: 'US' },
  { name: 'na-west', latitude: 38.0, longitude: -120.0, weight: 0.08, countryCode: 'US' },
  { name: 'sa', latitude: -22.0, longitude: -47.0, weight: 0.1, countryCode: 'BR' },
  { name: 'eu-west', latitude: 50.0, longitude: 3.0, weight: 0.14, countryCode: 'FR' },
  { name: 'eu-central', latitude: 50.5, longitude: 11.0, weight: 0.1, countryCode: 'DE' },
  { name: 'eu-east', latitude: 52.0, longitude: 24.0, weight: 0.08, countryCode: 'PL' },
  { name: 'ru', latitude: 55.5, longitude: 40.0, weight: 0.05, countryCode: 'RU' },
  { name: 'africa', latitude: -15.0, longitude: 25.0, weight: 0.03, countryCode: 'ZA' },
  { name: 'middle-east', latitude: 27.0, longitude: 50.0, weight: 0.03, countryCode: 'AE' },
  { name: 'india', latitude: 21.0, longitude: 78.0, weight: 0.06, countryCode: 'IN' },
  { name: 'east-asia', latitude: 33.0, longitude: 125.0, weight: 0.06, countryCode: 'JP' },
  { name: 'se-asia', latitude: 5.0, longitude: 108.0, weight: 0.04, countryCode: 'SG' },
  { name: 'oceania', latitude: -32.0, longitude: 148.0, weight: 0.02, countryCode: 'AU' },
];

/** Twenty anycast sites in real cities, each with the world region its upstreams come from. */
export const SITE_CITIES: readonly { region: string; latitude: number; longitude: number }[] = [
  { region: 'ashburn', latitude: 39.04, longitude: -77.49 },
  { region: 'new-york', latitude: 40.71, longitude: -74.01 },
  { region: 'chicago', latitude: 41.88, longitude: -87.63 },
  { region: 'dallas', latitude: 32.78, longitude: -96.8 },
  { region: 'los-angeles', latitude: 34.05, longitude: -118.24 },
  { region: 'seattle', latitude: 47.61, longitude: -122.33 },
  { region: 'sao-paulo', latitude: -23.55, longitude: -46.63 },
  { region: 'london', latitude: 51.51, longitude: -0.13 },
  { region: 'paris', latitude: 48.86, longitude: 2.35 },
  { region: 'amsterdam', latitude: 52.37, longitude: 4.9 },
  { region: 'frankfurt', latitude: 50.11, longitude: 8.68 },
  { region: 'warsaw', latitude: 52.23, longitude: 21.01 },
  { region: 'stockholm', latitude: 59.33, longitude: 18.07 },
  { region: 'johannesburg', latitude: -26.2, longitude: 28.05 },
  { region: 'dubai', latitude: 25.2, longitude: 55.27 },
  { region: 'mumbai', latitude: 19.08, longitude: 72.88 },
  { region: 'singapore', latitude: 1.35, longitude: 103.82 },
  { region: 'hong-kong', latitude: 22.32, longitude: 114.17 },
  { region: 'tokyo', latitude: 35.68, longitude: 139.69 },
  { region: 'sydney', latitude: -33.87, longitude: 151.21 },
];

/** The well-known tier-1 ASNs (used for the clique, in this order). */
const TIER1_ASNS = [174, 209, 701, 1299, 2914, 3257, 3320, 3356, 3491, 5511, 6453, 6461, 6762, 7018, 12956];

export type PeeringDensity = 'sparse' | 'dense';
export type SitePlacement = 'sparse' | 'dense';

export const TIER1 = 1;
export const TIER2 = 2;
export const TIER3 = 3;
export const STUB = 4;

export interface GeneratorOptions {
  readonly seed: number;
  /** Total number of ASes (at least 100). */
  readonly ases: number;
  readonly peeringDensity: PeeringDensity;
  /** Tier-1 clique size, at most 15 (default 15). */
  readonly tier1?: number;
  /** Share of tier-2 transit (default 0.02). */
  readonly tier2Share?: number;
  /** Share of tier-3 transit (default 0.08). */
  readonly tier3Share?: number;
}

export interface GeneratedTopology {
  readonly options: GeneratorOptions;
  /** Input for parseTopologyJson: ases with locations and country codes, and links. */
  readonly json: TopologyJson;
  /** Per generated AS (in generation order, like json.ases): ASN, tier and world region index. */
  readonly asns: Uint32Array;
  readonly tiers: Uint8Array;
  readonly regionOf: Uint8Array;
  readonly stats: {
    readonly tier1: number;
    readonly tier2: number;
    readonly tier3: number;
    readonly stubs: number;
    readonly providerCustomerLinks: number;
    readonly peerLinks: number;
  };
}

/** Cumulative-weight sampler over a list of AS ids. */
class Sampler {
  private readonly ids: number[] = [];
  private readonly cumulative: number[] = [];
  private total = 0;

  add(id: number, weight: number): void {
    this.total += weight;
    this.ids.push(id);
    this.cumulative.push(this.total);
  }

  get size(): number {
    return this.ids.length;
  }

  draw(rng: Prng): number {
    const x = rng.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.ids[lo];
  }
}

export function generateTopology(options: GeneratorOptions): GeneratedTopology {
  const rng = new Prng(options.seed);
  const n = options.ases;
  if (!Number.isInteger(n) || n < 100) throw new RangeError('ases must be an integer >= 100');
  const t1 = Math.min(options.tier1 ?? 15, TIER1_ASNS.length);
  const t2 = Math.max(1, Math.round(n * (options.tier2Share ?? 0.02)));
  const t3 = Math.max(1, Math.round(n * (options.tier3Share ?? 0.08)));
  const regions = WORLD_REGIONS.length;

  const asns = new Uint32Array(n);
  const tiers = new Uint8Array(n);
  const regionOf = new Uint8Array(n);
  const size = new Float64Array(n);
  const ases: AsAttributes[] = new Array(n);

  // ASNs: the tier-1 list, then distinct random public 16/32-bit ASNs (no private or reserved ones).
  const used = new Set<number>(TIER1_ASNS);
  const drawAsn = () => {
    for (;;) {
      const candidate = 1 + rng.int(399_999);
      if (candidate >= 64_496 && candidate <= 131_071) continue;
      if (!used.has(candidate)) {
        used.add(candidate);
        return candidate;
      }
    }
  };
  const regionItems = WORLD_REGIONS.map((r, i) => [i, r.weight] as const);
  const tier1Regions = [0, 0, 1, 2, 4, 4, 5, 5, 6, 7, 11, 11, 12, 0, 4];
  for (let i = 0; i < n; i++) {
    const tier = i < t1 ? TIER1 : i < t1 + t2 ? TIER2 : i < t1 + t2 + t3 ? TIER3 : STUB;
    const region = tier === TIER1 ? tier1Regions[i % tier1Regions.length] : rng.weighted(regionItems);
    const centre = WORLD_REGIONS[region];
    tiers[i] = tier;
    regionOf[i] = region;
    asns[i] = tier === TIER1 ? TIER1_ASNS[i] : drawAsn();
    size[i] = rng.pareto(1.1);
    const latitude = clamp(centre.latitude + rng.normal() * 3.5, -60, 72);
    const longitude = wrapLongitude(centre.longitude + rng.normal() * 5);
    ases[i] = { asn: asns[i], latitude: round4(latitude), longitude: round4(longitude), countryCode: centre.countryCode };
  }

  const links: TopologyJsonLink[] = [];
  const linked = new Set<number>();
  let providerCustomerLinks = 0;
  let peerLinks = 0;
  const key = (x: number, y: number) => (x < y ? x * n + y : y * n + x);
  const addLink = (x: number, y: number, relation: TopologyJsonLink['relation']): boolean => {
    if (x === y || linked.has(key(x, y))) return false;
    linked.add(key(x, y));
    links.push({ a: asns[x], b: asns[y], relation });
    if (relation === 'peer') peerLinks++;
    else providerCustomerLinks++;
    return true;
  };

  // Tier-1 clique.
  for (let i = 0; i < t1; i++) for (let j = i + 1; j < t1; j++) addLink(i, j, 'peer');

  // Samplers of transit per (tier, region), filled as ASes are created (providers come first).
  const tier1All = new Sampler();
  for (let i = 0; i < t1; i++) tier1All.add(i, size[i]);
  const tier2ByRegion = Array.from({ length: regions }, () => new Sampler());
  const tier2All = new Sampler();
  const tier3ByRegion = Array.from({ length: regions }, () => new Sampler());

  const addProviders = (customer: number, count: number, pick: () => number) => {
    for (let attempt = 0, added = 0; added < count && attempt < count * 8; attempt++) {
      if (addLink(pick(), customer, 'provider-customer')) added++;
    }
  };

  for (let i = t1; i < t1 + t2; i++) {
    const region = regionOf[i];
    // The first tier-2s take one tier-1 each, so every tier-1 has customers (is transit).
    if (i - t1 < t1) addLink(i - t1, i, 'provider-customer');
    addProviders(i, 2 + rng.int(3), () => tier1All.draw(rng));
    const regional = tier2ByRegion[region];
    if (regional.size > 0 && rng.next() < 0.3) addProviders(i, 1, () => regional.draw(rng));
    regional.add(i, size[i]);
    tier2All.add(i, size[i]);
  }
  for (let i = t1 + t2; i < t1 + t2 + t3; i++) {
    const region = regionOf[i];
    const regional = tier2ByRegion[region];
    addProviders(i, 1 + rng.int(3), () => {
      const x = rng.next();
      if (x < 0.85 && regional.size > 0) return regional.draw(rng);
      if (x < 0.95) return tier2All.draw(rng);
      return tier1All.draw(rng);
    });
    tier3ByRegion[region].add(i, size[i]);
  }
  for (let i = t1 + t2 + t3; i < n; i++) {
    const region = regionOf[i];
    const count = rng.weighted([
      [1, 0.4],
      [2, 0.4],
      [3, 0.2],
    ] as const);
    const t3r = tier3ByRegion[region];
    const t2r = tier2ByRegion[region];
    addProviders(i, count, () => {
      const x = rng.next();
      if (x < 0.7 && t3r.size > 0) return t3r.draw(rng);
      if (x < 0.95 && t2r.size > 0) return t2r.draw(rng);
      if (x < 0.98) return tier2All.draw(rng);
      return tier1All.draw(rng);
    });
  }

  // Regional peering (IXP-like): members of each region peer with other members, picked in
  // proportion to how many peers they seek.
  const dense = options.peeringDensity === 'dense';
  const membership = (tier: number) =>
    dense
      ? tier === TIER2 ? { p: 1, peers: 80 } : tier === TIER3 ? { p: 0.7, peers: 30 } : tier === STUB ? { p: 0.3, peers: 8 } : { p: 0, peers: 0 }
      : tier === TIER2 ? { p: 0.2, peers: 4 } : tier === TIER3 ? { p: 0.1, peers: 2 } : { p: 0, peers: 0 };
  const members = Array.from({ length: regions }, () => [] as number[]);
  const wanted = new Float64Array(n);
  const ixps = Array.from({ length: regions }, () => new Sampler());
  for (let i = t1; i < n; i++) {
    const m = membership(tiers[i]);
    if (m.p > 0 && rng.next() < m.p) {
      wanted[i] = Math.max(1, Math.round(m.peers * (0.5 + rng.next())));
      members[regionOf[i]].push(i);
      ixps[regionOf[i]].add(i, wanted[i]);
    }
  }
  for (let region = 0; region < regions; region++) {
    const ixp = ixps[region];
    if (ixp.size < 2) continue;
    for (const member of members[region]) {
      const attempts = Math.ceil(wanted[member] / 2);
      for (let k = 0; k < attempts; k++) addLink(member, ixp.draw(rng), 'peer');
    }
  }

  return {
    options,
    json: { ases, links },
    asns,
    tiers,
    regionOf,
    stats: { tier1: t1, tier2: t2, tier3: t3, stubs: n - t1 - t2 - t3, providerCustomerLinks, peerLinks },
  };
}

export interface PlacementOptions {
  readonly placement: SitePlacement;
  /** One origin ASN for every site (real anycast) or one per site. Default true. */
  readonly sharedOrigin?: boolean;
  /** How many of SITE_CITIES to use (default all 20). */
  readonly count?: number;
}

/** First private 32-bit ASN: never drawn by the generator. */
export const SITE_ORIGIN_ASN = 4_200_000_000;

/**
 * Sites in SITE_CITIES with upstreams among the transit ASes nearest each city:
 * 'sparse' = the nearest tier-2; 'dense' = the two nearest tier-2 and the six nearest tier-3.
 */
export function placeSites(generated: GeneratedTopology, options: PlacementOptions): Site[] {
  const { asns, tiers, json } = generated;
  const ases = json.ases ?? [];
  const nearest = (city: { latitude: number; longitude: number }, tier: number, count: number): number[] => {
    const scored: [number, number][] = [];
    for (let i = 0; i < tiers.length; i++) {
      if (tiers[i] !== tier) continue;
      scored.push([greatCircleDistanceKm(city.latitude, city.longitude, ases[i].latitude!, ases[i].longitude!), i]);
    }
    scored.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    return scored.slice(0, count).map(([, i]) => asns[i]);
  };
  return SITE_CITIES.slice(0, options.count ?? SITE_CITIES.length).map((city, s) => ({
    region: city.region,
    originAsn: options.sharedOrigin === false ? SITE_ORIGIN_ASN + s : SITE_ORIGIN_ASN,
    upstreams: options.placement === 'sparse' ? nearest(city, TIER2, 1) : [...nearest(city, TIER2, 2), ...nearest(city, TIER3, 6)],
    prepend: 0,
    latitude: city.latitude,
    longitude: city.longitude,
  }));
}

/** The topology as CAIDA serial-2 as-rel text (locations are not part of that format). */
export function toCaidaText(generated: GeneratedTopology): string {
  const lines = [`# georoute synthetic topology seed=${generated.options.seed} ases=${generated.options.ases} peering=${generated.options.peeringDensity}`];
  for (const link of generated.json.links) lines.push(`${link.a}|${link.b}|${link.relation === 'peer' ? 0 : -1}|bgp`);
  return lines.join('\n') + '\n';
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function wrapLongitude(x: number): number {
  return ((((x + 180) % 360) + 360) % 360) - 180;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
