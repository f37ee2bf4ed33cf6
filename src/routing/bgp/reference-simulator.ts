/**
 * The executable specification of the simulation: plain BGP with Route objects. Every AS, in
 * synchronous rounds, collects what its neighbours export to it (valley-free), drops looped
 * paths, keeps `selectBest` of the candidates, and the rounds repeat until nothing changes
 * (Gao-Rexford preferences over an acyclic provider hierarchy guarantee that they stop).
 *
 * Slow (rounds x links x path length, with allocation) and meant for tests: `simulate` must give
 * the same site, path, class and reason for every AS.
 */
import { selectBest, type DecisionReason } from './decision';
import { mayExport, pathContains, receiveRoute, routeFromSite, type LearnedFrom, type Route } from './route';
import { validateSites, type Site } from './site';
import type { Topology } from './topology';

export interface ReferenceOutcome {
  readonly status: 'routed' | 'unreachable' | 'origin';
  readonly site: number;
  readonly reason: DecisionReason | null;
  readonly learnedFrom: LearnedFrom | null;
  readonly asPath: readonly number[];
}

export function referenceSimulate(topology: Topology, sites: readonly Site[], withdrawn: ReadonlySet<string> = new Set()): ReferenceOutcome[] {
  validateSites(topology, sites);
  const n = topology.size;
  const silent = new Set<number>();
  const attached: Route[][] = Array.from({ length: n }, () => []);
  sites.forEach((site, s) => {
    if (withdrawn.has(site.region)) return;
    const self = topology.indexOf(site.originAsn);
    if (self >= 0) silent.add(self);
    for (const upstream of site.upstreams) attached[topology.indexOf(upstream)].push(routeFromSite(s, site));
  });

  type Best = { route: Route; reason: DecisionReason } | null;
  let best: Best[] = new Array<Best>(n).fill(null);
  const key = (b: Best) => (b ? `${b.route.prefixOwner}|${b.route.asPath.join(' ')}|${b.route.learnedFrom}|${b.reason}` : '-');
  const maxRounds = 2 * n + 10;
  for (let round = 0; ; round++) {
    if (round > maxRounds) throw new Error('reference simulation did not converge');
    const next: Best[] = new Array<Best>(n).fill(null);
    let changed = false;
    for (let v = 0; v < n; v++) {
      if (silent.has(v)) continue;
      const candidates: Route[] = [...attached[v]];
      const hear = (neighbors: Int32Array, theyAre: 'provider' | 'customer' | 'peer', iAm: 'customer' | 'provider' | 'peer') => {
        for (const u of neighbors) {
          const held = best[u];
          if (!held || silent.has(u) || !mayExport(held.route, iAm)) continue;
          const received = receiveRoute(held.route, topology.asns[u], theyAre);
          if (!pathContains(received, topology.asns[v])) candidates.push(received);
        }
      };
      hear(topology.customersOf(v), 'customer', 'provider');
      hear(topology.peersOf(v), 'peer', 'peer');
      hear(topology.providersOf(v), 'provider', 'customer');
      next[v] = selectBest(candidates);
      if (key(next[v]) !== key(best[v])) changed = true;
    }
    best = next;
    if (!changed) break;
  }

  return best.map((b, v) => {
    if (silent.has(v)) return { status: 'origin', site: -1, reason: null, learnedFrom: 'origin', asPath: [] };
    if (!b) return { status: 'unreachable', site: -1, reason: null, learnedFrom: null, asPath: [] };
    return { status: 'routed', site: b.route.prefixOwner, reason: b.reason, learnedFrom: b.route.learnedFrom, asPath: b.route.asPath };
  });
}
