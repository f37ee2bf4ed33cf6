/**
 * Location classes: one per distinct place of the geolocation database (found or not, country,
 * continent, coordinates). Every network of the database that holds the same place shares one
 * class, so what depends on the place alone (the region ranking, residency) is computed once per
 * class and shared by every client and every service.
 *
 * Contract: append-only. `intern` returns the id of an equal class or adds one; ids are dense
 * from 0 and never change while the table lives (the geo layer makes a new table per database
 * load). Class 0 is the unknown location (not found, no coordinates). Pure: no I/O.
 */
import { isEuCountry } from '../jurisdiction';
import type { GeoLocation } from '../types';

/** The place part of a GeoLocation (the prefix length belongs to the network, not the place). */
export interface Place {
  readonly found: boolean;
  readonly country: string | null;
  readonly continent: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
}

export const UNKNOWN_CLASS = 0;
/** euClass values: in the EU jurisdiction, outside it, or no country (the service decides). */
export const EU_YES = 1;
export const EU_NO = 0;
export const EU_UNKNOWN = 2;

export class LocationClassTable {
  private readonly ids = new Map<string, number>();
  private readonly places: Place[] = [];
  /** Coordinates per class; NaN when the class has none. */
  latitudes = new Float64Array(1024);
  longitudes = new Float64Array(1024);
  /** EU_YES / EU_NO / EU_UNKNOWN per class. */
  euClass = new Uint8Array(1024);

  constructor() {
    this.intern({ found: false, country: null, continent: null, latitude: null, longitude: null });
  }

  get size(): number {
    return this.places.length;
  }

  /** The id of the class of `place`, adding it when new. */
  intern(place: Place): number {
    const key = `${place.found ? 1 : 0}|${place.country}|${place.continent}|${place.latitude}|${place.longitude}`;
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const id = this.places.length;
    if (id === this.latitudes.length) this.grow();
    this.places.push(
      Object.freeze({ found: place.found, country: place.country, continent: place.continent, latitude: place.latitude, longitude: place.longitude }),
    );
    const located = place.latitude !== null && place.longitude !== null && Number.isFinite(place.latitude) && Number.isFinite(place.longitude);
    this.latitudes[id] = located ? (place.latitude as number) : NaN;
    this.longitudes[id] = located ? (place.longitude as number) : NaN;
    this.euClass[id] = place.country ? (isEuCountry(place.country) ? EU_YES : EU_NO) : EU_UNKNOWN;
    this.ids.set(key, id);
    return id;
  }

  place(id: number): Place {
    return this.places[id] ?? this.places[UNKNOWN_CLASS];
  }

  /** The GeoLocation the engine's explain path sees for this class and network prefix. */
  location(id: number, prefixLength: number): GeoLocation {
    const p = this.place(id);
    return { found: p.found, country: p.country, continent: p.continent, latitude: p.latitude, longitude: p.longitude, prefixLength };
  }

  hasCoordinates(id: number): boolean {
    return !Number.isNaN(this.latitudes[id]);
  }

  private grow(): void {
    const n = this.latitudes.length * 2;
    const lat = new Float64Array(n);
    lat.set(this.latitudes);
    const lon = new Float64Array(n);
    lon.set(this.longitudes);
    const eu = new Uint8Array(n);
    eu.set(this.euClass);
    this.latitudes = lat;
    this.longitudes = lon;
    this.euClass = eu;
  }
}
