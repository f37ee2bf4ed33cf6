/** Request and response schemas of the anycast routes. */
import { bool, int, list, mapOf, num, obj, oneOf, schemaRef, str, time } from '../common/openapi';

const T = '2026-12-06T01:48:29.065Z';

export const TOPOLOGY = schemaRef('AnycastTopology', obj({
  loaded: bool(),
  format: oneOf(['caida', 'json']),
  uploadedAt: time(),
  summary: obj({ ases: int(), links: int(), providerCustomerLinks: int(), peerLinks: int(), tier1: list(int(), { description: 'inferred tier-1 clique' }) }),
}, ['format', 'uploadedAt', 'summary']));
export const TOPOLOGY_EXAMPLE = { loaded: true, format: 'caida', uploadedAt: T, summary: { ases: 5, links: 4, providerCustomerLinks: 4, peerLinks: 0, tier1: [1] } };

/** The topology upload: CAIDA as-rel text, or its JSON form. */
export const TOPOLOGY_JSON = obj({
  ases: list(obj({ asn: int(), latitude: num(), longitude: num(), countryCode: str() }, ['latitude', 'longitude', 'countryCode'])),
  links: list(obj({ a: int(), b: int({ description: 'provider-customer: a is the provider of b' }), relation: oneOf(['provider-customer', 'peer']) })),
}, ['ases']);

export const ROUTE = schemaRef('AnycastRoute', obj({
  asn: int(),
  status: oneOf(['routed', 'unreachable', 'origin', 'not-in-topology']),
  region: str({ nullable: true, description: "the region whose site the AS's best route leads to" }),
  asPath: list(int(), { nullable: true }),
  reason: str({ nullable: true, description: 'the BGP decision step that chose the route' }),
  learnedFrom: oneOf(['customer', 'peer', 'provider', 'origin'], { nullable: true }),
}));
export const ROUTE_EXAMPLE = { asn: 11, status: 'routed', region: 'eu-central-1', asPath: [10, 64500], reason: 'only-route', learnedFrom: 'provider' };

export const SIMULATE_BODY = schemaRef('AnycastSimulateRequest', obj({
  withdrawn: list(str(), { description: 'regions whose announcement is withdrawn' }),
  useHealth: bool({ default: true, description: 'also withdraw unhealthy regions' }),
  clients: list(int({ minimum: 1, maximum: 4294967295 }), { maxItems: 1000, description: 'ASes whose routes to list' }),
}, ['withdrawn', 'useHealth', 'clients']));

export const SIMULATION = schemaRef('AnycastSimulation', obj({
  sites: list(obj({ region: str(), originAsn: int(), upstreams: list(int()), prepend: int(), announced: bool() })),
  withdrawn: list(str()),
  catchments: mapOf(obj({ ases: int(), share: num() }), { description: 'per region: the ASes routed to its site' }),
  reached: int(),
  unreachable: int(),
  unreachableAsns: list(int()),
  routes: list(ROUTE),
  convergence: obj({ rounds: int(), updates: int() }),
  efficiency: obj({ locatedAses: int(), nonNearestShare: num(), meanExtraKm: num() }),
  geoDnsAgreement: num({ description: 'share of the located ASes whose anycast site is also the nearest announced site (what a proximity policy answers)' }),
}));
export const SIMULATION_EXAMPLE = {
  sites: [{ region: 'eu-central-1', originAsn: 64500, upstreams: [10], prepend: 0, announced: false }, { region: 'us-east-1', originAsn: 64500, upstreams: [20], prepend: 0, announced: true }],
  withdrawn: ['eu-central-1'], catchments: { 'eu-central-1': { ases: 0, share: 0 }, 'us-east-1': { ases: 5, share: 1 } }, reached: 5, unreachable: 0, unreachableAsns: [],
  routes: [{ asn: 11, status: 'routed', region: 'us-east-1', asPath: [10, 1, 20, 64500], reason: 'only-route', learnedFrom: 'provider' }],
  convergence: { rounds: 4, updates: 6 }, efficiency: { locatedAses: 0, nonNearestShare: 0, meanExtraKm: 0 }, geoDnsAgreement: 0,
};
