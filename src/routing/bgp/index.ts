/** Anycast BGP simulation: topology parsing, the decision process, and the simulator. Pure TypeScript. */
export {
  Topology,
  TopologyError,
  inferTier1,
  isValidAsn,
  DEFAULT_MAX_ASES,
  DEFAULT_MAX_LINKS,
  MAX_ASN,
  MAX_REPORTED_PROBLEMS,
  MIN_ASN,
  type AsAttributes,
  type Neighbor,
  type Relation,
  type TopologyOptions,
  type TopologyProblem,
  type TopologyRule,
  type TopologySummary,
} from './topology';
export { parseCaidaAsRel } from './parse-caida';
export { parseTopologyJson, type TopologyJson, type TopologyJsonLink } from './parse-json';
export {
  LOCAL_PREF,
  MAX_PREPEND,
  ORIGIN_ORDER,
  mayExport,
  originRoute,
  pathContains,
  receiveRoute,
  routeFromSite,
  type Announcement,
  type LearnedFrom,
  type OriginAttribute,
  type Route,
} from './route';
export {
  DECISION_PROCESS,
  DECISION_REASONS,
  compareRoutes,
  selectBest,
  type BestRoute,
  type DecisionReason,
  type PairwiseDecision,
  type RouteComparator,
} from './decision';
export { MAX_SITES, MAX_UPSTREAMS_PER_SITE, SiteError, validateSites, type Site, type SiteProblem } from './site';
export {
  DEFAULT_UNREACHABLE_LIST_LIMIT,
  SimulationResult,
  diffResults,
  simulate,
  whatIfWithdraw,
  type AsRouteReport,
  type AsStatus,
  type Catchment,
  type CatchmentFlow,
  type Convergence,
  type Efficiency,
  type GeoDnsAgreement,
  type ProximityAssignment,
  type SimulateOptions,
  type SimulationDiff,
  type SimulationSummary,
} from './simulate';
