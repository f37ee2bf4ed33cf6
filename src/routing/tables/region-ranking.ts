/**
 * Region ranking: for every location class, all regions of a snapshot ordered by great-circle
 * distance (rounded to 0.1 km, as the proximity policy rounds), equal distances by region id and
 * marked as ties so a service can order them by its own region order.
 *
 * Memory is classes x regions (two octets and one flag each), whatever the number of services:
 * a service reads the ranking through its plan's positionOf mask. A ranking belongs to one
 * region geometry (names and coordinates in id order, `geometryKey`): a snapshot that moves, adds
 * or removes a region needs a new ranking, one that changes anything else (health, drain,
 * services, records) keeps it.
 *
 * Filling: a class's row is computed the first time it is asked for (R distances and a sort of R
 * entries, about a microsecond for 20 regions), or ahead of time by `fill(budget)`, which the
 * owner calls off the hot path in small steps after a new ranking or a new database. Rows never
 * change once computed, so there is nothing to invalidate.
 */
import { greatCircleDistanceKm } from '../geo-distance';
import type { RoutingSnapshot } from '../types';
import type { LocationClassTable } from './location-classes';

export class RegionRanking {
  readonly regionCount: number;
  readonly geometryKey: string;
  private readonly latitudes: Float64Array;
  private readonly longitudes: Float64Array;
  /** orders[c * R + k]: the region id at rank k for class c. */
  private orders: Uint16Array;
  /** ties[c * R + k] = 1: the region at rank k is as far as the one at rank k - 1. */
  private ties: Uint8Array;
  private computed: Uint8Array;
  private readonly distances: Float64Array;
  private readonly scratch: number[];
  private filled = 0;

  constructor(
    snapshot: RoutingSnapshot,
    readonly classes: LocationClassTable,
  ) {
    const regions = [...snapshot.regions.values()];
    this.regionCount = regions.length;
    this.geometryKey = geometryKeyOf(snapshot);
    this.latitudes = Float64Array.from(regions, (r) => r.latitude);
    this.longitudes = Float64Array.from(regions, (r) => r.longitude);
    const capacity = Math.max(1024, classes.size);
    this.orders = new Uint16Array(capacity * this.regionCount);
    this.ties = new Uint8Array(capacity * this.regionCount);
    this.computed = new Uint8Array(capacity);
    this.distances = new Float64Array(this.regionCount);
    this.scratch = new Array<number>(this.regionCount);
  }

  /** Offset of class `c`'s row in `orderRow` / `tieRow` (computing it first when needed). Requires coordinates. */
  row(c: number): number {
    if (c >= this.computed.length) this.grow(c + 1);
    if (this.computed[c] === 0) this.compute(c);
    return c * this.regionCount;
  }

  get orderRow(): Uint16Array {
    return this.orders;
  }

  get tieRow(): Uint8Array {
    return this.ties;
  }

  /** Rows computed so far (of classes.size). */
  get computedRows(): number {
    let n = 0;
    for (let c = 0; c < this.computed.length; c++) n += this.computed[c];
    return n;
  }

  /** Computes up to `budget` rows not yet computed; returns whether every class known now has its row. */
  fill(budget: number): boolean {
    const classes = this.classes;
    let done = 0;
    while (this.filled < classes.size && done < budget) {
      const c = this.filled++;
      if (!classes.hasCoordinates(c)) continue;
      this.row(c);
      done++;
    }
    return this.filled >= classes.size;
  }

  private compute(c: number): void {
    const n = this.regionCount;
    const lat = this.classes.latitudes[c];
    const lon = this.classes.longitudes[c];
    const d = this.distances;
    const ids = this.scratch;
    for (let id = 0; id < n; id++) {
      d[id] = Math.round(greatCircleDistanceKm(lat, lon, this.latitudes[id], this.longitudes[id]) * 10) / 10;
      ids[id] = id;
    }
    ids.sort((a, b) => d[a] - d[b] || a - b);
    const base = c * n;
    for (let k = 0; k < n; k++) {
      this.orders[base + k] = ids[k];
      this.ties[base + k] = k > 0 && d[ids[k]] === d[ids[k - 1]] ? 1 : 0;
    }
    this.computed[c] = 1;
  }

  private grow(minimum: number): void {
    const capacity = Math.max(minimum, this.computed.length * 2);
    const orders = new Uint16Array(capacity * this.regionCount);
    orders.set(this.orders);
    const ties = new Uint8Array(capacity * this.regionCount);
    ties.set(this.ties);
    const computed = new Uint8Array(capacity);
    computed.set(this.computed);
    this.orders = orders;
    this.ties = ties;
    this.computed = computed;
  }
}

/** What a ranking depends on: every region's name and coordinates, in id order. */
export function geometryKeyOf(snapshot: RoutingSnapshot): string {
  let key = '';
  for (const r of snapshot.regions.values()) key += `${r.name}@${r.latitude},${r.longitude};`;
  return key;
}
