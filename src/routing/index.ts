/** The routing engine's public API: pure functions over an immutable RoutingSnapshot. */
export * from './types';
export { decide } from './engine';
export {
  buildSnapshot,
  emptySnapshot,
  normalizeDnsName,
  SnapshotValidationError,
  DEFAULT_REGION_WEIGHT,
  DEFAULT_SERVICE_TTL,
  MAX_ANSWER_COUNT,
  MAX_REGION_WEIGHT,
  MAX_SERVICE_TTL,
  type RegionInput,
  type ServiceInput,
  type SnapshotInput,
  type StaticRecordInput,
  type ZoneInput,
} from './snapshot';
export { EU_JURISDICTION, EU_JURISDICTION_COUNTRIES, isEuCountry, jurisdictionOf } from './jurisdiction';
export { EARTH_RADIUS_KM, greatCircleDistanceKm } from './geo-distance';
export {
  clientHashKey,
  rendezvousIndexOrder,
  rendezvousOrder,
  rendezvousScore,
  rendezvousUniform,
  type WeightedItem,
} from './rendezvous';
export { ImmutableMap } from './immutable-map';
export type { PolicyContext, PolicyRanking, RoutingPolicy } from './policy';
export { failoverPolicy } from './failover.policy';
export { proximityPolicy } from './proximity.policy';
export { weightedPolicy } from './weighted.policy';
export { geolocationPolicy } from './geolocation.policy';
export { planService, type ServicePlan } from './service-plan';
export { latencyPolicy } from './latency.policy';
export {
  LatencyTable,
  LATENCY_LEVELS,
  MIN_MEASURED_REGIONS,
  TIE_MARGIN_MS,
  TIE_MARGIN_RATIO,
  placeKey,
  parsePrefixKey,
  type LatencyEntryInput,
  type LatencyEvidenceInput,
  type LatencyInput,
  type LatencyLevel,
  type LatencyRow,
} from './latency';
