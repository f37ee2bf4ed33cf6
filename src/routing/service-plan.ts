/**
 * A service resolved against one snapshot: everything a query needs that does not depend on
 * the client, computed once per snapshot (buildSnapshot registers them) so that decide() does
 * map look-ups only. Plans of snapshots not made by buildSnapshot are computed per call.
 */
import { EU_JURISDICTION } from './jurisdiction';
import type { RegionSnap, RoutingSnapshot, ServiceSnap } from './types';

/** Prefix of continent keys in ServiceSnap.geolocation ("continent:EU"). */
export const CONTINENT_KEY_PREFIX = 'continent:';
/** The catch-all key in ServiceSnap.geolocation. */
export const DEFAULT_GEOLOCATION_KEY = '*';

export interface ServicePlan {
  readonly service: ServiceSnap;
  /** The service's regions in service (failover) order; names missing from the snapshot are skipped. */
  readonly regions: readonly RegionSnap[];
  /** isEu[i]: regions[i] is in the EU jurisdiction. */
  readonly isEu: readonly boolean[];
  readonly hasEuRegion: boolean;
  readonly hasNonEuRegion: boolean;
  /** Geolocation entries as positions in `regions`, by upper-case country code. */
  readonly byCountry: ReadonlyMap<string, readonly number[]>;
  /** Geolocation entries as positions in `regions`, by upper-case continent code. */
  readonly byContinent: ReadonlyMap<string, readonly number[]>;
  /** The "*" entry as positions in `regions`, or null. */
  readonly byDefault: readonly number[] | null;
  /** regionIds[i]: the snapshot id of regions[i] (index of RegionState.flags), -1 when unknown. */
  readonly regionIds: Int32Array;
  /** positionOf[id]: the position in `regions` of region id `id`, -1 when the service does not use it. */
  readonly positionOf: Int16Array;
  /** Whether regions[i] has an endpoint of each answer family. */
  readonly hasIpv4: readonly boolean[];
  readonly hasIpv6: readonly boolean[];
  readonly hasHttp: readonly boolean[];
}

const registeredPlans = new WeakMap<RoutingSnapshot, ReadonlyMap<string, ServicePlan>>();

/** Resolves one service against a region table. Pure; tolerant of dangling names (skips them). */
export function planService(
  service: ServiceSnap,
  regionTable: ReadonlyMap<string, RegionSnap>,
  regionIds?: ReadonlyMap<string, number>,
): ServicePlan {
  const regions: RegionSnap[] = [];
  const positionByName = new Map<string, number>();
  for (const name of service.regions) {
    const region = regionTable.get(name);
    if (region && !positionByName.has(region.name)) {
      positionByName.set(region.name, regions.length);
      regions.push(region);
    }
  }
  const isEu = regions.map((r) => r.jurisdiction === EU_JURISDICTION);
  const byCountry = new Map<string, readonly number[]>();
  const byContinent = new Map<string, readonly number[]>();
  let byDefault: readonly number[] | null = null;
  for (const [key, names] of Object.entries(service.geolocation ?? {})) {
    const positions: number[] = [];
    for (const name of names) {
      const position = positionByName.get(name);
      if (position !== undefined && !positions.includes(position)) positions.push(position);
    }
    Object.freeze(positions);
    if (key === DEFAULT_GEOLOCATION_KEY) byDefault = positions;
    else if (key.toLowerCase().startsWith(CONTINENT_KEY_PREFIX)) {
      byContinent.set(key.slice(CONTINENT_KEY_PREFIX.length).toUpperCase(), positions);
    } else byCountry.set(key.toUpperCase(), positions);
  }
  const ids = new Int32Array(regions.length);
  let maxId = -1;
  for (let i = 0; i < regions.length; i++) {
    ids[i] = regionIds?.get(regions[i].name) ?? -1;
    if (ids[i] > maxId) maxId = ids[i];
  }
  const positionOf = new Int16Array(Math.max(regionIds?.size ?? 0, maxId + 1)).fill(-1);
  for (let i = 0; i < regions.length; i++) if (ids[i] >= 0) positionOf[ids[i]] = i;
  return Object.freeze({
    service,
    regions: Object.freeze(regions),
    regionIds: ids,
    positionOf,
    hasIpv4: Object.freeze(regions.map((r) => r.ipv4.length > 0)),
    hasIpv6: Object.freeze(regions.map((r) => r.ipv6.length > 0)),
    hasHttp: Object.freeze(regions.map((r) => r.baseUrl !== null)),
    isEu: Object.freeze(isEu),
    hasEuRegion: isEu.includes(true),
    hasNonEuRegion: isEu.includes(false),
    byCountry,
    byContinent,
    byDefault,
  });
}

/** The plans attached to a snapshot by buildSnapshot (undefined for hand-made snapshots). */
export function registeredPlansOf(snapshot: RoutingSnapshot): ReadonlyMap<string, ServicePlan> | undefined {
  return registeredPlans.get(snapshot);
}

/** Attaches the plans of an immutable snapshot (called by buildSnapshot, once). */
export function registerPlans(snapshot: RoutingSnapshot, plans: ReadonlyMap<string, ServicePlan>): void {
  registeredPlans.set(snapshot, plans);
}

/** The plan of `service` in `snapshot`: precomputed when the snapshot came from buildSnapshot. */
export function planFor(snapshot: RoutingSnapshot, service: ServiceSnap): ServicePlan {
  const plan = registeredPlans.get(snapshot)?.get(service.fqdn);
  return plan !== undefined && plan.service === service ? plan : planService(service, snapshot.regions, snapshot.regionIds);
}
