/**
 * Golden scenarios: every test/fixtures/bgp/*.json file is a small named topology with sites and,
 * per case, the expected region, reason, class and AS path of every AS (or that it is
 * unreachable, or the origin). Adding a file adds tests. Each case is also checked against the
 * reference simulator.
 *
 * File format:
 *   { name, description, topology: <JSON topology>, sites: Site[],
 *     cases: [{ name, withdrawn?: region[], siteOverrides?: { region: Partial<Site> },
 *               expect: { routes: { "<asn>": { region, reason, learnedFrom?, asPath? } },
 *                         unreachable: asn[], origin?: asn[], catchments?: { region: ases } } }] }
 * Every AS of the topology must appear in exactly one of routes, unreachable and origin.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DECISION_REASONS } from './decision';
import { parseTopologyJson } from './parse-json';
import { referenceSimulate } from './reference-simulator';
import { simulate } from './simulate';
import type { Site } from './site';

interface ExpectedRoute {
  region: string;
  reason: string;
  learnedFrom?: string;
  asPath?: number[];
}

interface ScenarioCase {
  name: string;
  withdrawn?: string[];
  siteOverrides?: Record<string, Partial<Site>>;
  expect: {
    routes: Record<string, ExpectedRoute>;
    unreachable: number[];
    origin?: number[];
    catchments?: Record<string, number>;
  };
}

interface Scenario {
  name: string;
  description: string;
  topology: unknown;
  sites: Site[];
  cases: ScenarioCase[];
}

const FIXTURES = resolve(__dirname, '../../../test/fixtures/bgp');
const files = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort();

function load(file: string): Scenario {
  const scenario = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Scenario;
  const problems: string[] = [];
  if (typeof scenario.name !== 'string' || typeof scenario.description !== 'string') problems.push('name and description are required');
  if (!Array.isArray(scenario.sites)) problems.push('sites must be an array');
  if (!Array.isArray(scenario.cases) || scenario.cases.length === 0) problems.push('cases must be a non-empty array');
  for (const c of scenario.cases ?? []) {
    if (typeof c.name !== 'string' || typeof c.expect !== 'object' || !Array.isArray(c.expect.unreachable)) {
      problems.push(`case ${JSON.stringify(c.name)}: name, expect.routes and expect.unreachable are required`);
      continue;
    }
    for (const [asn, route] of Object.entries(c.expect.routes)) {
      if (!DECISION_REASONS.includes(route.reason as never)) problems.push(`case ${c.name}: AS ${asn}: unknown reason ${route.reason}`);
    }
  }
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
  return scenario;
}

it('has golden scenarios', () => {
  expect(files.length).toBeGreaterThanOrEqual(10);
});

describe.each(files)('golden scenario %s', (file) => {
  const scenario = load(file);
  const topology = parseTopologyJson(scenario.topology);

  it.each(scenario.cases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    const sites = scenario.sites.map((site) => ({ ...site, ...(testCase.siteOverrides?.[site.region] ?? {}) }));
    const withdrawn = new Set(testCase.withdrawn ?? []);
    const result = simulate(topology, sites, { withdrawn });

    const expectedRoutes = new Map(Object.entries(testCase.expect.routes).map(([asn, r]) => [Number(asn), r]));
    const expectedUnreachable = new Set(testCase.expect.unreachable);
    const expectedOrigin = new Set(testCase.expect.origin ?? []);
    const actual: Record<number, unknown> = {};
    const expected: Record<number, unknown> = {};
    for (let v = 0; v < topology.size; v++) {
      const asn = topology.asns[v];
      const report = result.routeAt(v);
      const route = expectedRoutes.get(asn);
      const covered = Number(route !== undefined) + Number(expectedUnreachable.has(asn)) + Number(expectedOrigin.has(asn));
      if (covered !== 1) throw new Error(`${file} / ${testCase.name}: AS ${asn} must appear in exactly one of routes, unreachable, origin`);
      if (route) {
        expected[asn] = { status: 'routed', ...route };
        actual[asn] = {
          status: report.status,
          region: report.region,
          reason: report.reason,
          ...(route.learnedFrom !== undefined ? { learnedFrom: report.learnedFrom } : {}),
          ...(route.asPath !== undefined ? { asPath: report.route?.asPath } : {}),
        };
      } else {
        expected[asn] = { status: expectedOrigin.has(asn) ? 'origin' : 'unreachable' };
        actual[asn] = { status: report.status };
      }
    }
    expect(actual).toEqual(expected);
    for (const asn of [...expectedRoutes.keys(), ...expectedUnreachable, ...expectedOrigin]) {
      expect(topology.has(asn)).toBe(true);
    }
    expect(result.unreachable).toBe(expectedUnreachable.size);
    expect([...result.unreachableAsns]).toEqual([...expectedUnreachable].sort((a, b) => a - b));
    if (testCase.expect.catchments) {
      const counts = Object.fromEntries(Object.entries(result.catchments).map(([region, c]) => [region, c.ases]));
      expect(counts).toMatchObject(testCase.expect.catchments);
    }

    // The reference simulator (plain BGP with Route objects) agrees on every AS.
    const reference = referenceSimulate(topology, sites, withdrawn);
    const fromReference = reference.map((r) => ({ status: r.status, site: r.site, reason: r.reason, path: [...r.asPath] }));
    const fromFast = reference.map((_, v) => ({ status: result.statusAt(v), site: result.siteOf[v], reason: result.reasonAt(v), path: result.asPathAt(v) }));
    expect(fromFast).toEqual(fromReference);
  });
});
