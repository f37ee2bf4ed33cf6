/**
 * Region ranking: for every location class, all regions of a snapshot ordered by great-circle
 * distance (rounded to 0.1 km, as the proximity policy rounds), equal distances by region id and
 * marked as ties so a service can order them by its own region order.
 *
 * Memory is classes x regions (two octets each: the region id and a tie mark), whatever the
 * number of services: a service reads the ranking through its plan's positionOf mask. A ranking belongs to one
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
import { tableArray } from './table-memory';

/**
 * In a ranking cell: the region id + 1 (`(cell & RANK_ID) - 1`), and the mark of a region as far
 * as the one before it. 0 is no cell: a row not computed yet (new arrays are zeroed, nothing to fill).
 */
export const RANK_ID = 0x7fff;
export const RANK_TIE = 0x8000;
const NOT_COMPUTED = 0;

export class RegionRanking {
  readonly regionCount: number;
  readonly geometryKey: string;
  private readonly latitudes: Float64Array;
  private readonly longitudes: Float64Array;
  /**
   * table[c * R + k] (`cells`): the region id + 1 at rank k for class c, with RANK_TIE set when
   * that region is as far as the one at rank k - 1. A row not computed yet starts with
   * NOT_COMPUTED. One array, so a class's row is one read of memory (a query for a class not
   * asked lately pays one cache miss here, not three).
   */
  private table: Uint16Array;
  private capacity: number;
  private readonly distances: Float64Array;
  private readonly scratch: number[];
  private filled = 0;
  private computed = 0;

  constructor(
    snapshot: RoutingSnapshot,
    readonly classes: LocationClassTable,
  ) {
    const regions = [...snapshot.regions.values()];
    this.regionCount = regions.length;
    this.geometryKey = geometryKeyOf(snapshot);
    this.latitudes = Float64Array.from(regions, (r) => r.latitude);
    this.longitudes = Float64Array.from(regions, (r) => r.longitude);
    if (this.regionCount >= RANK_ID) throw new Error(`a region ranking holds at most ${RANK_ID - 1} regions`);
    this.capacity = Math.max(1024, classes.size);
    this.table = tableArray(Uint16Array, this.capacity * this.regionCount);
    this.distances = new Float64Array(this.regionCount);
    this.scratch = new Array<number>(this.regionCount);
  }

  /** Offset of class `c`'s row in `cells` (computing it first when needed). Requires coordinates. */
  row(c: number): number {
    if (c >= this.capacity) this.grow(c + 1);
    const base = c * this.regionCount;
    if (this.table[base] === NOT_COMPUTED) this.compute(c);
    return base;
  }

  /** Ranks of every class: `(cells[row(c) + k] & RANK_ID) - 1` is a region id, `& RANK_TIE` the tie mark. */
  get cells(): Uint16Array {
    return this.table;
  }

  /** Rows computed so far (of classes.size). */
  get computedRows(): number {
    return this.computed;
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
    for (let k = 0; k < n; k++) this.table[base + k] = (ids[k] + 1) | (k > 0 && d[ids[k]] === d[ids[k - 1]] ? RANK_TIE : 0);
    this.computed++;
  }

  private grow(minimum: number): void {
    const capacity = Math.max(minimum, this.capacity * 2);
    const cells = tableArray(Uint16Array, capacity * this.regionCount);
    cells.set(this.table);
    this.table = cells;
    this.capacity = capacity;
  }
}

/** What a ranking depends on: every region's name and coordinates, in id order. */
export function geometryKeyOf(snapshot: RoutingSnapshot): string {
  let key = '';
  for (const r of snapshot.regions.values()) key += `${r.name}@${r.latitude},${r.longitude};`;
  return key;
}
