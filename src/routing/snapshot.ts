/**
 * Building the RoutingSnapshot: the one immutable value the engine reads per request.
 *
 * buildSnapshot validates the whole input and either returns a deep-frozen snapshot or throws a
 * SnapshotValidationError listing every problem (never a snapshot applied halfway). Names are
 * lower-cased without a trailing dot; a region's jurisdiction is derived from its country (an
 * input jurisdiction that disagrees is a problem, since residency depends on it); optional
 * fields get the API defaults. Tables are ImmutableMaps; per-service plans are precomputed.
 */
import * as ipaddr from 'ipaddr.js';
import { ImmutableMap } from './immutable-map';
import { jurisdictionOf } from './jurisdiction';
import {
  CONFLICT_RESOLUTIONS,
  DEFAULT_PROMOTION,
  DEFAULT_PROMOTION_DELAY_SECONDS,
  MAX_PROMOTION_DELAY_SECONDS,
  MAX_REPORTED_LAG_MS,
  MAX_STALENESS_MS,
  PROMOTION_MODES,
  REPLICATION_MODES,
  lagReportMaxAgeMs,
  replicaStaleness,
  roleOf,
} from './replication';
import { CONTINENT_KEY_PREFIX, DEFAULT_GEOLOCATION_KEY, planService, registerPlans, registeredPlansOf, type ServicePlan } from './service-plan';
import { LatencyTable, type LatencyInput } from './latency';
import { REGION_DRAINED, REGION_UNHEALTHY } from './types';
import { runToEnd, type Steps } from './steps';
import type {
  ConflictResolution,
  HealthStatus,
  Policy,
  PromotionMode,
  RecordType,
  RegionSnap,
  RegionState,
  ReplicaSnap,
  ReplicationMode,
  ReplicationSnap,
  Residency,
  RoutingSnapshot,
  ServiceSnap,
  StaticRecordSnap,
  UnknownLocation,
  WhenAllUnhealthy,
  ZoneSnap,
  ZoneDnssecSnap,
} from './types';

export interface StaticRecordInput {
  readonly id: string | number;
  /** Fully qualified (inside the zone), "@" for the apex, or relative to the zone. */
  readonly name: string;
  readonly type: RecordType;
  readonly ttl: number;
  readonly values: readonly string[];
}

export interface ZoneInput {
  readonly name: string;
  readonly serial: number;
  readonly nameservers: readonly string[];
  readonly hostmaster: string;
  readonly ttl: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly negativeTtl: number;
  readonly records?: readonly StaticRecordInput[];
  readonly dnssec?: ZoneDnssecSnap | null;
}

export interface RegionInput {
  readonly name: string;
  readonly countryCode: string;
  /** Derived from countryCode when absent; must agree with it when present. */
  readonly jurisdiction?: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly ipv4?: readonly string[];
  readonly ipv6?: readonly string[];
  readonly baseUrl?: string | null;
  /** 0-1000, default 100. */
  readonly weight?: number;
  /** Default false. */
  readonly drained?: boolean;
  /** Default 'unknown' (routes like healthy). */
  readonly health?: HealthStatus;
  readonly healthReason?: string | null;
}

export interface ServiceInput {
  readonly fqdn: string;
  /** The zone the service lives in; when absent, the longest zone containing fqdn. */
  readonly zone?: string;
  readonly policy: Policy;
  readonly regions: readonly string[];
  readonly geolocation?: Readonly<Record<string, readonly string[]>> | null;
  /** 1-86400, default 30. */
  readonly ttl?: number;
  /** Default 'gdpr'. */
  readonly residency?: Residency;
  /** Default 'route'. */
  readonly unknownLocation?: UnknownLocation;
  /** Default 'fail-open'. */
  readonly whenAllUnhealthy?: WhenAllUnhealthy;
  /** 1-8, default 1. */
  readonly answerCount?: number;
  /** Absent, null or mode 'none': not replicated. */
  readonly replication?: ReplicationInput | null;
  /** Set on derived write-name entries (a ServiceSnap fed back as input): such entries are skipped. */
  readonly writeOf?: string;
}

/** The last lag report of one region for one service (a ReplicaSnap is a valid value; role and stale are recomputed). */
export interface ReplicaInput {
  readonly region: string;
  readonly lagMs?: number | null;
  /** When the report was received (ISO 8601). */
  readonly reportedAt?: string | null;
  /** The region's heartbeat timeout in ms; default DEFAULT_LAG_REPORT_MAX_AGE_SECONDS. */
  readonly maxReportAgeMs?: number;
}

export interface ReplicationInput {
  readonly mode: ReplicationMode;
  /** Required for active-passive (one of the service's regions); absent for active-active. */
  readonly primary?: string | null;
  /** active-passive only; null = no bound. */
  readonly maxStalenessMs?: number | null;
  /** Default 'manual'. */
  readonly promotion?: PromotionMode;
  /** Default 30. */
  readonly promotionDelaySeconds?: number | null;
  /** Required for active-active; absent for active-passive. */
  readonly conflictResolution?: ConflictResolution | null;
  /** A name in the service's zone that always resolves to the writer(s). */
  readonly writeFqdn?: string | null;
  /** Last lag reports; regions of the service without one have never reported. */
  readonly members?: readonly ReplicaInput[];
}

/** Plain data for a snapshot; ZoneSnap, RegionSnap and ServiceSnap values are valid inputs. */
export interface SnapshotInput {
  readonly zones: readonly ZoneInput[];
  readonly regions: readonly RegionInput[];
  readonly services: readonly ServiceInput[];
  /** Compiled latency evidence for `latency` services (the measurements module's); absent: none. */
  readonly latency?: LatencyInput | null;
}

/** The input cannot become a snapshot; `problems` names every one found, one sentence each. */
export class SnapshotValidationError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid routing snapshot (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`);
    this.name = 'SnapshotValidationError';
    this.problems = Object.freeze([...problems]);
  }
}

export const DEFAULT_REGION_WEIGHT = 100;
export const DEFAULT_SERVICE_TTL = 30;
export const MAX_SERVICE_TTL = 86400;
export const MAX_ANSWER_COUNT = 8;
export const MAX_REGION_WEIGHT = 1000;
/** RFC 2181 §8: TTLs are at most 2^31 - 1. */
const MAX_RECORD_TTL = 2147483647;

const POLICIES: readonly Policy[] = ['proximity', 'failover', 'weighted', 'geolocation', 'latency'];
const RESIDENCIES: readonly Residency[] = ['gdpr', 'none'];
const UNKNOWN_LOCATIONS: readonly UnknownLocation[] = ['route', 'treat-as-eu'];
const WHEN_ALL_UNHEALTHY: readonly WhenAllUnhealthy[] = ['fail-open', 'fail-closed'];
const HEALTH_STATUSES: readonly HealthStatus[] = ['healthy', 'unhealthy', 'unknown'];
const RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV', 'HTTPS', 'SVCB', 'TLSA', 'PTR', 'NAPTR', 'DS'];
const CONTINENTS: readonly string[] = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'];
/** Static record types that would compete with a service's engine-made A/AAAA answers. */
const TYPES_OWNED_BY_SERVICES: readonly RecordType[] = ['A', 'AAAA', 'CNAME'];

/** Lower case, trimmed, without a trailing dot. */
export function normalizeDnsName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function frozenCopy<T>(items: readonly T[] | null | undefined): readonly T[] {
  return Object.freeze(items ? [...items] : []);
}

/** What a snapshot keeps of its own build so that the next build can reuse its unchanged parts. */
interface BuildMemo {
  /** Input text of each zone, by zone name. */
  readonly zoneKeys: ReadonlyMap<string, string>;
  /** The input of each service (not replicated: replicated ones depend on the time), by fqdn. */
  readonly serviceInputs: ImmutableMap<string, ServiceInput>;
  /** The inputs of the snapshot's services (write names not counted), in the input's order. */
  readonly inputs: readonly ServiceInput[];
  /** The derived write-name entries, in order. */
  readonly writeNames: readonly string[];
  /** Every region's static fields (all but health, healthReason, drained), in order. */
  readonly geometryKey: string;
  /** The latency evidence input the snapshot's table was compiled from. */
  readonly latencyInput: LatencyInput | null;
}

const memos = new WeakMap<RoutingSnapshot, BuildMemo>();

/**
 * Validates `input` and returns it as a deep-frozen snapshot, or throws SnapshotValidationError
 * naming every problem. `version` should increase with every swap.
 *
 * With `previous` (the snapshot in service), what did not change is reused: zone and service
 * objects whose input is the same, and every plan when no region's static fields changed. A
 * change of health or drain then costs a new RegionState, and a change to one service the
 * validation of the input plus that one service's plan; consumers (the DNS view) see the same
 * objects and keep what they built from them.
 */
export function buildSnapshot(input: SnapshotInput, version: number, builtAt: Date = new Date(), previous?: RoutingSnapshot): RoutingSnapshot {
  return runToEnd(buildSnapshotSteps(input, version, builtAt, previous));
}

/**
 * buildSnapshot as steps (routing/steps.ts): it yields between zones, services, records and
 * plans, so that a store or DNS worker can build 10,000 services in slices while the snapshot in
 * service keeps answering. The input and `previous` must not change until it returns.
 */
export function* buildSnapshotSteps(input: SnapshotInput, version: number, builtAt: Date = new Date(), previous?: RoutingSnapshot): Steps<RoutingSnapshot> {
  const problems: string[] = [];
  if (!Number.isSafeInteger(version) || version < 0) problems.push(`version ${version} must be a non-negative integer`);
  const memo = previous === undefined ? undefined : memos.get(previous);

  const zones = new Map<string, ZoneSnap>();
  const zoneKeys = new Map<string, string>();
  for (const zoneInput of input.zones ?? []) {
    yield;
    const zone = buildZone(zoneInput, problems);
    if (zone === null) continue;
    if (zones.has(zone.name)) problems.push(`zone ${zone.name} is defined more than once`);
    else {
      const key = JSON.stringify(zoneInput);
      const old = memo?.zoneKeys.get(zone.name) === key ? previous!.zones.get(zone.name) : undefined;
      zones.set(zone.name, old ?? zone);
      zoneKeys.set(zone.name, key);
    }
  }

  const regions = new Map<string, RegionSnap>();
  const geometry: string[] = [];
  for (const regionInput of input.regions ?? []) {
    const region = buildRegion(regionInput, problems);
    if (region === null) continue;
    if (regions.has(region.name)) problems.push(`region ${region.name} is defined more than once`);
    else {
      regions.set(region.name, region);
      geometry.push(JSON.stringify([region.name, region.countryCode, region.latitude, region.longitude, region.ipv4, region.ipv6, region.baseUrl, region.weight]));
    }
  }
  const geometryKey = geometry.join('\n');
  const sameGeometry = memo !== undefined && memo.geometryKey === geometryKey;

  // A service without an explicit zone belongs to the longest zone containing it: reuse needs the same zones.
  const sameZoneNames = previous !== undefined && previous.zones.size === zones.size && [...zones.keys()].every((z) => previous.zones.has(z));
  const now = builtAt.getTime();
  const context: ServiceBuild = { memo, previous: sameZoneNames ? previous : undefined, zones, regions, problems, now };
  const changes = memo !== undefined && sameGeometry && sameZoneNames && previous!.services instanceof ImmutableMap ? yield* changedServices(input.services ?? [], memo, previous!, context) : null;
  const built = changes === null ? yield* allServices(input.services ?? [], context) : null;
  const services = changes?.services ?? built!.services;

  for (const zone of zones.values()) {
    yield;
    for (const record of zone.records) {
      // A static A/AAAA/CNAME at a write name is dropped by the DNS view (with a warning), not fatal here.
      if (services.get(record.name)?.writeOf === undefined && services.has(record.name) && TYPES_OWNED_BY_SERVICES.includes(record.type)) {
        problems.push(`zone ${zone.name}: static ${record.type} record ${record.id} at ${record.name} clashes with the service of that name`);
      }
    }
  }

  if (problems.length > 0) throw new SnapshotValidationError(problems);

  const regionIds = new Map<string, number>();
  for (const name of regions.keys()) regionIds.set(name, regionIds.size);
  const snapshot: RoutingSnapshot = Object.freeze({
    version,
    builtAt: builtAt.toISOString(),
    zones: new ImmutableMap(zones),
    regions: new ImmutableMap(regions),
    services,
    state: regionState([...regions.values()], previous?.state),
    regionIds: new ImmutableMap(regionIds),
    ...latencyOf(input.latency, regionIds, sameGeometry ? previous : undefined, memo?.latencyInput),
  });
  const previousPlans = sameGeometry ? registeredPlansOf(previous!) : undefined;
  const planOf = (service: ServiceSnap): ServicePlan => {
    const old = previousPlans?.get(service.fqdn);
    return old !== undefined && old.service === service ? old : planService(service, snapshot.regions, regionIds);
  };
  if (changes !== null && previousPlans instanceof ImmutableMap) {
    // Only the services that changed (and the write names, rebuilt with them) get a plan here.
    const rebuilt: (readonly [string, ServicePlan])[] = [];
    for (const service of changes.rebuilt) {
      rebuilt.push([service.fqdn, planOf(service)]);
      yield;
    }
    registerPlans(snapshot, previousPlans.derive(rebuilt, changes.removed));
  } else {
    const plans = new Map<string, ServicePlan>();
    for (const service of services.values()) {
      plans.set(service.fqdn, planOf(service));
      yield;
    }
    registerPlans(snapshot, ImmutableMap.adopt(plans));
  }
  const kept = changes ?? built!;
  memos.set(snapshot, { zoneKeys, serviceInputs: kept.serviceInputs, inputs: kept.inputs, writeNames: kept.writeNames, geometryKey, latencyInput: input.latency ?? null });
  return snapshot;
}

/** Above this share of changed services a build looks at every service (allServices). */
const MAX_CHANGED_SHARE = 0.25;

/** The services of a build, with what the next build's memo keeps of them. */
interface BuiltServices {
  readonly services: ImmutableMap<string, ServiceSnap>;
  readonly serviceInputs: ImmutableMap<string, ServiceInput>;
  readonly inputs: readonly ServiceInput[];
  readonly writeNames: readonly string[];
}

/**
 * What building a snapshot's services reads: the previous build's memo and snapshot (undefined
 * when the zones changed: nothing is reused then), the new zones and regions, the time; and where
 * it reports what is wrong.
 */
interface ServiceBuild {
  readonly memo: BuildMemo | undefined;
  readonly previous: RoutingSnapshot | undefined;
  readonly zones: ReadonlyMap<string, ZoneSnap>;
  readonly regions: ReadonlyMap<string, RegionSnap>;
  readonly problems: string[];
  readonly now: number;
}

/**
 * Every service of the input, each reused from `previous` when its input says the same (field by
 * field) and its zone and regions still exist, else built and validated.
 */
function* allServices(list: readonly ServiceInput[], context: ServiceBuild): Steps<BuiltServices> {
  const { problems } = context;
  const services = new Map<string, ServiceSnap>();
  const serviceInputs = new Map<string, ServiceInput>();
  for (const serviceInput of list) {
    if (serviceInput?.writeOf !== undefined) continue; // derived below from its service
    yield;
    const service = reusedOrBuilt(serviceInput, context);
    if (service === null) continue;
    if (services.has(service.fqdn)) problems.push(`service ${service.fqdn} is defined more than once`);
    else {
      services.set(service.fqdn, service);
      if (!isReplicated(serviceInput)) serviceInputs.set(service.fqdn, serviceInput);
    }
  }
  // Write names: service-like entries (answered by the DNS server like any service name) whose
  // decisions are writes to the service they name in writeOf.
  const writeNames: string[] = [];
  for (const service of [...services.values()]) {
    const writeFqdn = service.replication?.writeFqdn;
    if (writeFqdn === null || writeFqdn === undefined) continue;
    if (services.has(writeFqdn)) problems.push(`service ${service.fqdn}: write name ${writeFqdn} is already the name of a service or write name`);
    else {
      services.set(writeFqdn, writeEntry(service, writeFqdn));
      writeNames.push(writeFqdn);
    }
  }
  return { services: ImmutableMap.adopt(services), serviceInputs: ImmutableMap.adopt(serviceInputs), inputs: list.filter((serviceInput) => serviceInput?.writeOf === undefined), writeNames };
}

/** What changedServices found: the new tables, the services built anew and the names gone. */
interface ChangedServices extends BuiltServices {
  /** Services (and write names) set in this build, in order. */
  readonly rebuilt: readonly ServiceSnap[];
  /** Names (services and write names) deleted in this build. */
  readonly removed: readonly string[];
}

/**
 * The incremental form of allServices, for a build on the same zones and regions as `previous`:
 * a service whose input is the very object the previous build had keeps its entry without being
 * looked at again (the snapshot store keeps the input objects of the rows it did not re-read);
 * the others, every replicated service (their replicas' staleness depends on the time) and every
 * write name go through the same rules as in allServices, and the tables are derived from the
 * previous ones (ImmutableMap.derive) instead of copied. The result is the one allServices gives
 * for the same input, but for the order of the entries (a replaced service keeps its place).
 * Null when the input's services cannot be matched that way (a name given twice): the caller
 * builds them all.
 */
function* changedServices(list: readonly ServiceInput[], memo: BuildMemo, previous: RoutingSnapshot, context: ServiceBuild): Steps<ChangedServices | null> {
  const { problems } = context;
  const before = previous.services as ImmutableMap<string, ServiceSnap>;
  const inputs: ServiceInput[] = [];
  const changedInputs: ServiceInput[] = [];
  // The previous build's inputs that the input no longer has as they were (changed or deleted).
  const passed: ServiceInput[] = [];
  const last = memo.inputs;
  let at = 0;
  for (const serviceInput of list) {
    if (serviceInput?.writeOf !== undefined) continue;
    inputs.push(serviceInput);
    // The same object in the same place as in the previous build (most of them) is found
    // without a look-up; a replicated one is always built again.
    const same = at < last.length && last[at] === serviceInput ? !isReplicated(serviceInput) : memo.serviceInputs.get(serviceInput?.fqdn) === serviceInput;
    if (!same) {
      changedInputs.push(serviceInput);
      continue;
    }
    // The same object as before: found further on in the previous build's order (else the
    // order changed or it is given twice, and every service is looked at).
    while (at < last.length && last[at] !== serviceInput) passed.push(last[at++]);
    if (at === last.length) return null;
    at++;
  }
  while (at < last.length) passed.push(last[at++]);
  // Most of the input new (a snapshot read from disk, then the database's rows): build it all.
  if (changedInputs.length > MAX_CHANGED_SHARE * inputs.length + 16) return null;
  const rebuilt: ServiceSnap[] = [];
  const names = new Set<string>();
  const count = problems.length;
  for (const serviceInput of changedInputs) {
    yield;
    const service = reusedOrBuilt(serviceInput, context);
    if (service === null) continue;
    if (names.has(service.fqdn)) return null; // the full build names the duplicate
    names.add(service.fqdn);
    rebuilt.push(service);
  }
  if (problems.length > count) return null; // the full build reports them, with any others
  // Deleted: what the previous build had that no changed service replaces; the write names are
  // all made again from their services (every replicated service is among the changed ones).
  const removed = [...memo.writeNames];
  for (const gone of passed) {
    const name = typeof gone?.fqdn === 'string' ? normalizeDnsName(gone.fqdn) : '';
    if (!names.has(name) && before.get(name)?.writeOf === undefined) removed.push(name);
  }
  let services = before.derive(
    rebuilt.map((service) => [service.fqdn, service] as const),
    removed,
  );
  const writeNames: string[] = [];
  const writes: ServiceSnap[] = [];
  for (const service of rebuilt) {
    const writeFqdn = service.replication?.writeFqdn;
    if (writeFqdn === null || writeFqdn === undefined) continue;
    if (services.has(writeFqdn) || writeNames.includes(writeFqdn)) {
      problems.push(`service ${service.fqdn}: write name ${writeFqdn} is already the name of a service or write name`);
      continue;
    }
    writes.push(writeEntry(service, writeFqdn));
    writeNames.push(writeFqdn);
  }
  if (writes.length > 0) services = services.derive(writes.map((w) => [w.fqdn, w] as const));
  const serviceInputs = memo.serviceInputs.derive(
    changedInputs.flatMap((serviceInput, i) => (isReplicated(serviceInput) ? [] : [[rebuilt[i].fqdn, serviceInput] as const])),
    [...removed, ...rebuilt.filter((service) => service.replication !== undefined).map((service) => service.fqdn)],
  );
  return { services, serviceInputs, inputs, writeNames, rebuilt: [...rebuilt, ...writes], removed };
}

/** The previous snapshot's service when its input says the same and its zone and regions exist; else built from the input. */
function reusedOrBuilt(serviceInput: ServiceInput, { memo, previous, zones, regions, problems, now }: ServiceBuild): ServiceSnap | null {
  const fqdn = typeof serviceInput?.fqdn === 'string' ? normalizeDnsName(serviceInput.fqdn) : '';
  const before = isReplicated(serviceInput) || previous === undefined ? undefined : memo?.serviceInputs.get(fqdn);
  const old = before !== undefined && sameServiceInput(before, serviceInput) ? previous!.services.get(fqdn) : undefined;
  // A reused service was valid against the same zones and regions; its zone must still exist.
  return old !== undefined && zones.has(old.zone) && old.regions.every((r) => regions.has(r)) ? old : buildService(serviceInput, zones, regions, problems, now);
}

function isReplicated(serviceInput: ServiceInput): boolean {
  return serviceInput?.replication !== null && serviceInput?.replication !== undefined;
}

/** The entry of a service's write name. */
function writeEntry(service: ServiceSnap, writeFqdn: string): ServiceSnap {
  return Object.freeze({ ...service, fqdn: writeFqdn, writeOf: service.fqdn });
}

/**
 * The compiled latency table: the previous snapshot's when the evidence input is the same object
 * and the regions did not change, else compiled anew (nothing when there is no evidence).
 */
function latencyOf(
  input: LatencyInput | null | undefined,
  regionIds: ReadonlyMap<string, number>,
  previous: RoutingSnapshot | undefined,
  previousInput: LatencyInput | null | undefined,
): { latency?: LatencyTable } {
  if (input === null || input === undefined || !Array.isArray(input.entries) || input.entries.length === 0) return {};
  if (previous?.latency !== undefined && previousInput === input) return { latency: previous.latency };
  return { latency: new LatencyTable(input, regionIds) };
}

/**
 * Whether two service inputs say the same (field by field: at 10,000 services a JSON text per
 * service cost more than the rest of an incremental build). Replicated inputs never compare equal.
 */
function sameServiceInput(a: ServiceInput, b: ServiceInput): boolean {
  if (a === b) return true;
  if (
    a.fqdn !== b.fqdn ||
    a.zone !== b.zone ||
    a.policy !== b.policy ||
    a.ttl !== b.ttl ||
    a.residency !== b.residency ||
    a.unknownLocation !== b.unknownLocation ||
    a.whenAllUnhealthy !== b.whenAllUnhealthy ||
    a.answerCount !== b.answerCount ||
    a.writeOf !== b.writeOf ||
    (a.replication ?? null) !== null ||
    (b.replication ?? null) !== null
  ) {
    return false;
  }
  const ra = a.regions;
  const rb = b.regions;
  if (!Array.isArray(ra) || !Array.isArray(rb) || ra.length !== rb.length) return false;
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return false;
  const ga = a.geolocation ?? null;
  const gb = b.geolocation ?? null;
  if (ga === gb) return true;
  return ga !== null && gb !== null && JSON.stringify(ga) === JSON.stringify(gb);
}

/** The state array of `regions` (ids = positions); the previous one's version + 1 when a flag changed. */
function regionState(regions: readonly RegionSnap[], previous: RegionState | undefined): RegionState {
  const flags = new Uint8Array(regions.length);
  for (let id = 0; id < regions.length; id++) {
    flags[id] = (regions[id].drained ? REGION_DRAINED : 0) | (regions[id].health === 'unhealthy' ? REGION_UNHEALTHY : 0);
  }
  if (previous !== undefined && previous.flags.length === flags.length && previous.flags.every((f, i) => f === flags[i])) return previous;
  return Object.freeze({ flags, version: (previous?.version ?? 0) + 1 });
}

/** One region's health as the health module reports it. */
export interface RegionHealthUpdate {
  readonly health: HealthStatus;
  readonly healthReason: string | null;
}

/**
 * The snapshot with new health for some regions and nothing else changed: every zone, service
 * and plan is shared, the regions map gets new entries for the changed regions, and the state
 * array is replaced. O(regions), whatever the number of services. Unknown names are ignored.
 */
export function withRegionHealth(
  snapshot: RoutingSnapshot,
  updates: ReadonlyMap<string, RegionHealthUpdate>,
  version: number,
  builtAt: Date = new Date(),
): RoutingSnapshot {
  const regions = new Map<string, RegionSnap>();
  for (const [name, region] of snapshot.regions) {
    const update = updates.get(name);
    if (update === undefined || !HEALTH_STATUSES.includes(update.health)) regions.set(name, region);
    else regions.set(name, Object.freeze({ ...region, health: update.health, healthReason: update.healthReason }));
  }
  const next: RoutingSnapshot = Object.freeze({
    version,
    builtAt: builtAt.toISOString(),
    zones: snapshot.zones,
    regions: new ImmutableMap(regions),
    services: snapshot.services,
    state: regionState([...regions.values()], snapshot.state),
    regionIds: snapshot.regionIds,
    ...(snapshot.latency === undefined ? {} : { latency: snapshot.latency }),
  });
  const plans = registeredPlansOf(snapshot);
  if (plans !== undefined) registerPlans(next, plans);
  const memo = memos.get(snapshot);
  if (memo !== undefined) memos.set(next, memo);
  return next;
}

/** A valid snapshot with nothing in it (version 0): what the server holds before the first build. */
export function emptySnapshot(builtAt: Date = new Date()): RoutingSnapshot {
  return buildSnapshot({ zones: [], regions: [], services: [] }, 0, builtAt);
}

function buildZone(input: ZoneInput, problems: string[]): ZoneSnap | null {
  if (typeof input?.name !== 'string' || normalizeDnsName(input.name) === '') {
    problems.push('a zone has no name');
    return null;
  }
  const name = normalizeDnsName(input.name);
  const at = `zone ${name}`;
  for (const field of ['serial', 'ttl', 'refresh', 'retry', 'expire', 'negativeTtl'] as const) {
    const max = field === 'serial' ? 4294967295 : MAX_RECORD_TTL;
    if (!isIntegerIn(input[field], 0, max)) problems.push(`${at}: ${field} ${input[field]} must be an integer from 0 to ${max}`);
  }
  if (!Array.isArray(input.nameservers)) problems.push(`${at}: nameservers must be a list`);
  if (typeof input.hostmaster !== 'string') problems.push(`${at}: hostmaster must be a name`);

  const records: StaticRecordSnap[] = [];
  const ids = new Set<string>();
  for (const recordInput of input.records ?? []) {
    const id = String(recordInput.id);
    const recordName = qualifyRecordName(recordInput.name, name);
    const rat = `${at}: record ${id}`;
    if (ids.has(id)) problems.push(`${rat} is defined more than once`);
    ids.add(id);
    if (!isInZone(recordName, name)) problems.push(`${rat}: name ${recordName} is outside the zone`);
    if (!RECORD_TYPES.includes(recordInput.type)) problems.push(`${rat}: type ${recordInput.type} must be one of ${RECORD_TYPES.join(', ')}`);
    if (!isIntegerIn(recordInput.ttl, 0, MAX_RECORD_TTL)) problems.push(`${rat}: ttl ${recordInput.ttl} must be an integer from 0 to ${MAX_RECORD_TTL}`);
    if (!Array.isArray(recordInput.values)) problems.push(`${rat}: values must be a list`);
    records.push(
      Object.freeze({ id, name: recordName, type: recordInput.type, ttl: recordInput.ttl, values: frozenCopy(recordInput.values) }),
    );
  }
  return Object.freeze({
    name,
    serial: input.serial,
    nameservers: Object.freeze((input.nameservers ?? []).map(normalizeDnsName)),
    hostmaster: typeof input.hostmaster === 'string' ? normalizeDnsName(input.hostmaster) : '',
    ttl: input.ttl,
    refresh: input.refresh,
    retry: input.retry,
    expire: input.expire,
    negativeTtl: input.negativeTtl,
    records: Object.freeze(records),
    dnssec: input.dnssec ? Object.freeze({ status: input.dnssec.status, keys: Object.freeze(input.dnssec.keys.map((k) => Object.freeze({ ...k }))) }) : null,
  });
}

/** "@" is the apex; a name inside the zone is kept; any other name is relative to the zone. */
function qualifyRecordName(raw: string, zone: string): string {
  const text = String(raw ?? '').trim();
  if (text === '@' || text === '') return zone;
  const absolute = text.endsWith('.');
  const name = normalizeDnsName(text);
  return absolute || isInZone(name, zone) ? name : `${name}.${zone}`;
}

function buildRegion(input: RegionInput, problems: string[]): RegionSnap | null {
  if (typeof input?.name !== 'string' || input.name.trim() === '') {
    problems.push('a region has no name');
    return null;
  }
  const name = input.name.trim().toLowerCase();
  const at = `region ${name}`;
  const countryCode = typeof input.countryCode === 'string' ? input.countryCode.trim().toUpperCase() : '';
  let jurisdiction = '';
  if (!/^[A-Z]{2}$/.test(countryCode)) problems.push(`${at}: countryCode ${input.countryCode} must be an ISO 3166-1 alpha-2 code`);
  else {
    jurisdiction = jurisdictionOf(countryCode);
    if (input.jurisdiction !== undefined && input.jurisdiction !== null && input.jurisdiction.trim().toUpperCase() !== jurisdiction) {
      problems.push(`${at}: jurisdiction ${input.jurisdiction} contradicts countryCode ${countryCode} (jurisdiction ${jurisdiction})`);
    }
  }
  if (!isNumberIn(input.latitude, -90, 90)) problems.push(`${at}: latitude ${input.latitude} must be from -90 to 90`);
  if (!isNumberIn(input.longitude, -180, 180)) problems.push(`${at}: longitude ${input.longitude} must be from -180 to 180`);
  const ipv4 = normalizeAddresses(input.ipv4, 4, at, problems);
  const ipv6 = normalizeAddresses(input.ipv6, 6, at, problems);
  const weight = input.weight ?? DEFAULT_REGION_WEIGHT;
  if (!isNumberIn(weight, 0, MAX_REGION_WEIGHT)) problems.push(`${at}: weight ${weight} must be from 0 to ${MAX_REGION_WEIGHT}`);
  const health = input.health ?? 'unknown';
  if (!HEALTH_STATUSES.includes(health)) problems.push(`${at}: health ${health} must be one of ${HEALTH_STATUSES.join(', ')}`);
  const drained = input.drained ?? false;
  if (typeof drained !== 'boolean') problems.push(`${at}: drained must be true or false`);
  const baseUrl = input.baseUrl ?? null;
  if (baseUrl !== null && !isHttpUrl(baseUrl)) problems.push(`${at}: baseUrl ${baseUrl} must be an http or https URL`);
  return Object.freeze({
    name,
    countryCode,
    jurisdiction,
    latitude: input.latitude,
    longitude: input.longitude,
    ipv4,
    ipv6,
    baseUrl,
    weight,
    drained,
    health,
    healthReason: input.healthReason ?? null,
  });
}

/** Valid addresses of the family, canonical (IPv6 per RFC 5952), each once, in input order. */
function normalizeAddresses(raw: readonly string[] | undefined, family: 4 | 6, at: string, problems: string[]): readonly string[] {
  const field = family === 4 ? 'ipv4' : 'ipv6';
  if (raw !== undefined && !Array.isArray(raw)) {
    problems.push(`${at}: ${field} must be a list of addresses`);
    return Object.freeze([]);
  }
  const out: string[] = [];
  for (const item of raw ?? []) {
    const text = typeof item === 'string' ? item.trim() : '';
    let canonical: string | null = null;
    if (family === 4 && ipaddr.IPv4.isValidFourPartDecimal(text)) canonical = ipaddr.IPv4.parse(text).toString();
    if (family === 6 && ipaddr.IPv6.isValid(text) && !text.includes('%')) canonical = ipaddr.IPv6.parse(text).toRFC5952String();
    if (canonical === null) problems.push(`${at}: ${field} address ${String(item)} is not a valid IPv${family} address`);
    else if (!out.includes(canonical)) out.push(canonical);
  }
  return Object.freeze(out);
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function buildService(
  input: ServiceInput,
  zones: ReadonlyMap<string, ZoneSnap>,
  regions: ReadonlyMap<string, RegionSnap>,
  problems: string[],
  now: number,
): ServiceSnap | null {
  if (typeof input?.fqdn !== 'string' || normalizeDnsName(input.fqdn) === '') {
    problems.push('a service has no fqdn');
    return null;
  }
  const fqdn = normalizeDnsName(input.fqdn);
  const at = `service ${fqdn}`;

  let zone = typeof input.zone === 'string' ? normalizeDnsName(input.zone) : '';
  if (zone === '') {
    for (const candidate of zones.keys()) if (isInZone(fqdn, candidate) && candidate.length > zone.length) zone = candidate;
    if (zone === '') problems.push(`${at}: no zone contains it`);
  } else if (!zones.has(zone)) problems.push(`${at}: zone ${zone} does not exist`);
  else if (!isInZone(fqdn, zone)) problems.push(`${at}: it is outside its zone ${zone}`);

  if (!POLICIES.includes(input.policy)) problems.push(`${at}: policy ${input.policy} must be one of ${POLICIES.join(', ')}`);
  const residency = input.residency ?? 'gdpr';
  if (!RESIDENCIES.includes(residency)) problems.push(`${at}: residency ${residency} must be one of ${RESIDENCIES.join(', ')}`);
  const unknownLocation = input.unknownLocation ?? 'route';
  if (!UNKNOWN_LOCATIONS.includes(unknownLocation)) {
    problems.push(`${at}: unknownLocation ${unknownLocation} must be one of ${UNKNOWN_LOCATIONS.join(', ')}`);
  }
  const whenAllUnhealthy = input.whenAllUnhealthy ?? 'fail-open';
  if (!WHEN_ALL_UNHEALTHY.includes(whenAllUnhealthy)) {
    problems.push(`${at}: whenAllUnhealthy ${whenAllUnhealthy} must be one of ${WHEN_ALL_UNHEALTHY.join(', ')}`);
  }
  const ttl = input.ttl ?? DEFAULT_SERVICE_TTL;
  if (!isIntegerIn(ttl, 1, MAX_SERVICE_TTL)) problems.push(`${at}: ttl ${ttl} must be an integer from 1 to ${MAX_SERVICE_TTL}`);
  const answerCount = input.answerCount ?? 1;
  if (!isIntegerIn(answerCount, 1, MAX_ANSWER_COUNT)) {
    problems.push(`${at}: answerCount ${answerCount} must be an integer from 1 to ${MAX_ANSWER_COUNT}`);
  }

  const regionNames: string[] = [];
  if (!Array.isArray(input.regions) || input.regions.length === 0) problems.push(`${at}: it must list at least one region`);
  for (const raw of Array.isArray(input.regions) ? input.regions : []) {
    const name = String(raw).trim().toLowerCase();
    if (regionNames.includes(name)) problems.push(`${at}: region ${name} is listed more than once`);
    else if (!regions.has(name)) problems.push(`${at}: region ${name} does not exist`);
    regionNames.push(name);
  }

  let geolocation: Readonly<Record<string, readonly string[]>> | null = null;
  if (input.geolocation !== null && input.geolocation !== undefined) {
    const entries: Record<string, readonly string[]> = {};
    for (const [rawKey, rawNames] of Object.entries(input.geolocation)) {
      const key = normalizeGeolocationKey(rawKey);
      if (key === null) {
        problems.push(`${at}: geolocation key "${rawKey}" must be an ISO country code, continent:XX (XX one of ${CONTINENTS.join(' ')}) or *`);
        continue;
      }
      if (key in entries) problems.push(`${at}: geolocation key ${key} is given more than once`);
      const names = Array.isArray(rawNames) ? rawNames.map((n) => String(n).trim().toLowerCase()) : [];
      if (names.length === 0) problems.push(`${at}: geolocation entry ${key} must name at least one region`);
      for (const name of names) {
        if (!regionNames.includes(name)) problems.push(`${at}: geolocation entry ${key} names region ${name}, which is not a region of the service`);
      }
      entries[key] = Object.freeze([...new Set(names)]);
    }
    geolocation = Object.freeze(entries);
  }

  const replication = buildReplication(input.replication, fqdn, zone, regionNames, problems, now);
  const service: ServiceSnap = {
    fqdn,
    zone,
    policy: input.policy,
    regions: Object.freeze(regionNames),
    geolocation,
    ttl,
    residency,
    unknownLocation,
    whenAllUnhealthy,
    answerCount,
  };
  return Object.freeze(replication === null ? service : { ...service, replication });
}

/** The replication settings of a service (null when not replicated), with each member's read eligibility as of `now`. */
function buildReplication(
  input: ReplicationInput | null | undefined,
  fqdn: string,
  zone: string,
  regionNames: readonly string[],
  problems: string[],
  now: number,
): ReplicationSnap | null {
  if (input === null || input === undefined) return null;
  const at = `service ${fqdn}: replication`;
  if (!REPLICATION_MODES.includes(input.mode)) {
    problems.push(`${at}.mode ${input.mode} must be one of ${REPLICATION_MODES.join(', ')}`);
    return null;
  }
  if (input.mode === 'none') return null;
  const mode = input.mode;
  const primary = typeof input.primary === 'string' ? input.primary.trim().toLowerCase() : null;
  const conflictResolution = input.conflictResolution ?? null;
  const maxStalenessMs = input.maxStalenessMs ?? null;
  if (mode === 'active-passive') {
    if (primary === null) problems.push(`${at}.primary is required for active-passive`);
    else if (!regionNames.includes(primary)) problems.push(`${at}.primary ${primary} is not a region of the service`);
    if (conflictResolution !== null) problems.push(`${at}.conflictResolution applies to active-active only`);
  } else {
    if (primary !== null) problems.push(`${at}.primary applies to active-passive only`);
    if (conflictResolution === null || !CONFLICT_RESOLUTIONS.includes(conflictResolution)) {
      problems.push(`${at}.conflictResolution ${conflictResolution} must be one of ${CONFLICT_RESOLUTIONS.join(', ')} for active-active`);
    }
    if (maxStalenessMs !== null) problems.push(`${at}.maxStalenessMs applies to active-passive only`);
  }
  if (maxStalenessMs !== null && !isIntegerIn(maxStalenessMs, 0, MAX_STALENESS_MS)) {
    problems.push(`${at}.maxStalenessMs ${maxStalenessMs} must be an integer from 0 to ${MAX_STALENESS_MS}`);
  }
  const promotion = input.promotion ?? DEFAULT_PROMOTION;
  if (!PROMOTION_MODES.includes(promotion)) problems.push(`${at}.promotion ${promotion} must be one of ${PROMOTION_MODES.join(', ')}`);
  const promotionDelaySeconds = input.promotionDelaySeconds ?? DEFAULT_PROMOTION_DELAY_SECONDS;
  if (!isIntegerIn(promotionDelaySeconds, 0, MAX_PROMOTION_DELAY_SECONDS)) {
    problems.push(`${at}.promotionDelaySeconds ${promotionDelaySeconds} must be an integer from 0 to ${MAX_PROMOTION_DELAY_SECONDS}`);
  }
  let writeFqdn: string | null = null;
  if (input.writeFqdn !== null && input.writeFqdn !== undefined) {
    writeFqdn = typeof input.writeFqdn === 'string' ? normalizeDnsName(input.writeFqdn) : '';
    if (writeFqdn === '' || writeFqdn === fqdn) problems.push(`${at}.writeFqdn ${input.writeFqdn} must be a name other than the service's`);
    else if (zone !== '' && !isInZone(writeFqdn, zone)) problems.push(`${at}.writeFqdn ${writeFqdn} is outside the service's zone ${zone}`);
  }

  const reports = new Map<string, ReplicaInput>();
  for (const member of Array.isArray(input.members) ? input.members : []) {
    const region = typeof member?.region === 'string' ? member.region.trim().toLowerCase() : '';
    if (region !== '') reports.set(region, member);
  }
  const members: ReplicaSnap[] = [];
  for (const region of regionNames) {
    const role = roleOf(mode, primary, region);
    const report = reports.get(region);
    let lagMs = report?.lagMs ?? null;
    let reportedAt = report?.reportedAt ?? null;
    if (lagMs !== null && !isNumberIn(lagMs, 0, MAX_REPORTED_LAG_MS)) {
      problems.push(`${at}: lag ${lagMs} of region ${region} must be from 0 to ${MAX_REPORTED_LAG_MS} ms`);
      lagMs = null;
    }
    const reportedAtMs = reportedAt === null ? null : Date.parse(reportedAt);
    if (reportedAtMs !== null && Number.isNaN(reportedAtMs)) {
      problems.push(`${at}: report time ${reportedAt} of region ${region} is not a date-time`);
      reportedAt = null;
    }
    const maxReportAgeMs = report?.maxReportAgeMs ?? lagReportMaxAgeMs(null);
    if (!isNumberIn(maxReportAgeMs, 1, Number.MAX_SAFE_INTEGER)) problems.push(`${at}: maxReportAgeMs ${maxReportAgeMs} of region ${region} must be positive`);
    const stale = replicaStaleness({
      role,
      lagMs,
      reportedAtMs: reportedAt === null ? null : reportedAtMs,
      maxStalenessMs,
      maxReportAgeMs,
      now,
    });
    members.push(Object.freeze({ region, role, lagMs, reportedAt: reportedAt === null ? null : new Date(reportedAtMs as number).toISOString(), maxReportAgeMs, stale }));
  }
  return Object.freeze({
    mode,
    primary: mode === 'active-passive' ? primary : null,
    maxStalenessMs,
    promotion,
    promotionDelaySeconds,
    conflictResolution: mode === 'active-active' ? conflictResolution : null,
    writeFqdn,
    members: Object.freeze(members),
  });
}

/** "de" -> "DE", "Continent:eu" -> "continent:EU", "*" -> "*"; null when not a valid key. */
function normalizeGeolocationKey(raw: string): string | null {
  const key = raw.trim();
  if (key === DEFAULT_GEOLOCATION_KEY) return key;
  if (key.toLowerCase().startsWith(CONTINENT_KEY_PREFIX)) {
    const continent = key.slice(CONTINENT_KEY_PREFIX.length).toUpperCase();
    return CONTINENTS.includes(continent) ? `${CONTINENT_KEY_PREFIX}${continent}` : null;
  }
  return /^[A-Za-z]{2}$/.test(key) ? key.toUpperCase() : null;
}
