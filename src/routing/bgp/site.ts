/**
 * Anycast sites: one per region, each announcing the anycast prefix from its location.
 *
 * Each site is its own virtual origin node, attached as a CUSTOMER of each of its upstreams,
 * even when several sites share one origin ASN (as real anycast does). An upstream receives the
 * path [originAsn x (1 + prepend)] with the site's ORIGIN and MED.
 */
import { MAX_PREPEND, ORIGIN_ORDER, type OriginAttribute } from './route';
import { isValidAsn, MAX_ASN, type Topology } from './topology';

export interface Site {
  /** Region name; unique among the sites. */
  readonly region: string;
  readonly originAsn: number;
  /** ASNs the site buys transit from; each must be in the topology and differ from originAsn. */
  readonly upstreams: readonly number[];
  /** Extra copies of the origin ASN on the announced path, 0..MAX_PREPEND. */
  readonly prepend: number;
  readonly latitude: number;
  readonly longitude: number;
  /** ORIGIN attribute of the announcement (default 'igp', which is what a site originates). */
  readonly origin?: OriginAttribute;
  /** MED sent to the upstreams (default 0); compared only between sessions of one upstream. */
  readonly med?: number;
}

export const MAX_SITES = 1000;
export const MAX_UPSTREAMS_PER_SITE = 64;
const MAX_MED = 4294967295;

export interface SiteProblem {
  /** JSON path, e.g. `sites[2].upstreams[0]`. */
  readonly where: string;
  readonly rule: 'format' | 'duplicate' | 'asn-range' | 'unknown-upstream' | 'not-origin' | 'range' | 'location' | 'limit';
  readonly message: string;
}

export class SiteError extends Error {
  readonly code = 'invalid-sites';

  constructor(readonly problems: readonly SiteProblem[]) {
    super(`invalid anycast sites: ${problems.slice(0, 3).map((p) => `${p.where}: ${p.message}`).join('; ')}`);
    this.name = 'SiteError';
  }
}

/** Checks every site against the topology; throws one SiteError listing every problem. */
export function validateSites(topology: Topology, sites: readonly Site[]): void {
  const problems: SiteProblem[] = [];
  const add = (where: string, rule: SiteProblem['rule'], message: string) => problems.push(Object.freeze({ where, rule, message }));
  if (!Array.isArray(sites)) {
    add('sites', 'format', 'must be an array');
    throw new SiteError(problems);
  }
  if (sites.length > MAX_SITES) add('sites', 'limit', `at most ${MAX_SITES} sites`);
  const regions = new Map<string, number>();
  sites.forEach((site, i) => {
    const at = `sites[${i}]`;
    if (typeof site !== 'object' || site === null) {
      add(at, 'format', 'expected an object');
      return;
    }
    if (typeof site.region !== 'string' || site.region === '') add(`${at}.region`, 'format', 'must be a non-empty string');
    else if (regions.has(site.region)) add(`${at}.region`, 'duplicate', `region '${site.region}' is already sites[${regions.get(site.region)}]`);
    else regions.set(site.region, i);
    const originOk = isValidAsn(site.originAsn);
    if (!originOk) add(`${at}.originAsn`, 'asn-range', `must be an integer in 1..${MAX_ASN}`);
    if (!Array.isArray(site.upstreams) || site.upstreams.length === 0 || site.upstreams.length > MAX_UPSTREAMS_PER_SITE) {
      add(`${at}.upstreams`, 'format', `must list 1..${MAX_UPSTREAMS_PER_SITE} ASNs`);
    } else {
      const seen = new Set<number>();
      (site.upstreams as readonly unknown[]).forEach((asn: unknown, k: number) => {
        const uat = `${at}.upstreams[${k}]`;
        if (!isValidAsn(asn)) {
          add(uat, 'asn-range', `must be an integer in 1..${MAX_ASN}`);
          return;
        }
        if (seen.has(asn)) add(uat, 'duplicate', `AS ${asn} is listed twice`);
        else if (originOk && asn === site.originAsn) add(uat, 'not-origin', 'an upstream cannot be the origin ASN itself');
        else if (!topology.has(asn)) add(uat, 'unknown-upstream', `AS ${asn} is not in the topology`);
        seen.add(asn);
      });
    }
    if (!Number.isInteger(site.prepend) || site.prepend < 0 || site.prepend > MAX_PREPEND) {
      add(`${at}.prepend`, 'range', `must be an integer in 0..${MAX_PREPEND}`);
    }
    if (!isCoordinate(site.latitude, 90)) add(`${at}.latitude`, 'location', 'must be a number in -90..90');
    if (!isCoordinate(site.longitude, 180)) add(`${at}.longitude`, 'location', 'must be a number in -180..180');
    if (site.origin !== undefined && !ORIGIN_ORDER.includes(site.origin)) {
      add(`${at}.origin`, 'format', `must be one of ${ORIGIN_ORDER.join(', ')}`);
    }
    if (site.med !== undefined && (!Number.isInteger(site.med) || site.med < 0 || site.med > MAX_MED)) {
      add(`${at}.med`, 'range', `must be an integer in 0..${MAX_MED}`);
    }
  });
  if (problems.length > 0) throw new SiteError(problems);
}

function isCoordinate(value: unknown, bound: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= -bound && value <= bound;
}
