/**
 * Location classes: one per distinct place of the geolocation database (found or not, country,
 * continent, coordinates). Every network of the database that holds the same place shares one
 * class, so what depends on the place alone (the region ranking, residency) is computed once per
 * class and shared by every client and every service.
 *
 * Contract: append-only. `intern` returns the id of an equal class or adds one; ids are dense
 * from 0 and never change while the table lives (the geo layer makes a new table per database
 * load). Class 0 is the unknown location (not found, no coordinates). Pure: no I/O.
 *
 * Memory: typed arrays only (about 30 octets a class: coordinates, codes, an open-addressing
 * index), no object per class: the bundled DB-IP city database has 420,000 places.
 */
import { isEuCountry } from '../jurisdiction';
import type { GeoLocation } from '../types';
import { tableArray } from './table-memory';

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
/** In LocationClassTable.traits: the euClass value, and whether the class has coordinates. */
export const TRAIT_EU = 3;
export const TRAIT_LOCATED = 4;

const NO_CODE = 0xffff;
const CONTINENTS = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'];
const NO_CONTINENT = 0xff;
/** Codes that are not two letters A-Z are kept as text in `odd` (no real database has them). */
const ODD_BASE = 26 * 26;

function letters(code: number): string {
  return String.fromCharCode(65 + Math.floor(code / 26), 65 + (code % 26));
}

export class LocationClassTable {
  private count = 0;
  /** Coordinates per class; NaN when the class has none. */
  latitudes = tableArray(Float64Array, 1024);
  longitudes = tableArray(Float64Array, 1024);
  /** EU_YES / EU_NO / EU_UNKNOWN per class. */
  euClass = tableArray(Uint8Array, 1024);
  /** Per class, what the router asks of every query in one octet: euClass (TRAIT_EU bits) | TRAIT_LOCATED. */
  traits = tableArray(Uint8Array, 1024);
  private found = tableArray(Uint8Array, 1024);
  private countryCodes = tableArray(Uint16Array, 1024);
  private continentCodes = tableArray(Uint8Array, 1024);
  /** Each class's hash, so that a rehash only re-probes (hashing a place is most of a rehash's time). */
  private hashes = tableArray(Uint32Array, 1024);
  /** Open addressing over class ids (-1 empty), by a hash of the place. */
  private slots = tableArray(Int32Array, 4096).fill(-1);
  /** Country texts by code: two letters are computed once; anything else is listed here. */
  private readonly countryText: (string | undefined)[] = [];
  private readonly odd = new Map<string, number>();
  private readonly scratch = new Float64Array(2);
  private readonly scratchWords = new Uint32Array(this.scratch.buffer);

  constructor() {
    this.intern({ found: false, country: null, continent: null, latitude: null, longitude: null });
  }

  get size(): number {
    return this.count;
  }

  /** The id of the class of `place`, adding it when new. */
  intern(place: Place): number {
    const located = place.latitude !== null && place.longitude !== null && Number.isFinite(place.latitude) && Number.isFinite(place.longitude);
    const lat = located ? (place.latitude as number) : NaN;
    const lon = located ? (place.longitude as number) : NaN;
    const found = place.found ? 1 : 0;
    const country = this.countryCode(place.country);
    const continent = place.continent === null ? NO_CONTINENT : CONTINENTS.indexOf(place.continent) < 0 ? NO_CONTINENT - 1 : CONTINENTS.indexOf(place.continent);
    const mask = this.slots.length - 1;
    const hash = this.hash(found, country, continent, lat, lon);
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot];
      if (id < 0) return this.add(slot, hash, found, country, continent, lat, lon, place);
      if (
        this.found[id] === found &&
        this.countryCodes[id] === country &&
        this.continentCodes[id] === continent &&
        Object.is(this.latitudes[id], lat) &&
        Object.is(this.longitudes[id], lon)
      ) {
        return id;
      }
    }
  }

  /** The class's place (allocates: for explain and tests, not for the hot path). */
  place(id: number): Place {
    const c = id >= 0 && id < this.count ? id : UNKNOWN_CLASS;
    const located = !Number.isNaN(this.latitudes[c]);
    return {
      found: this.found[c] === 1,
      country: this.country(c),
      continent: this.continent(c),
      latitude: located ? this.latitudes[c] : null,
      longitude: located ? this.longitudes[c] : null,
    };
  }

  /** The class's country code (upper case), or null; never allocates after the first use of a code. */
  country(id: number): string | null {
    const code = this.countryCodes[id];
    if (code === NO_CODE) return null;
    let text = this.countryText[code];
    if (text === undefined) {
      text = letters(code);
      this.countryText[code] = text;
    }
    return text;
  }

  /** The class's continent code, or null. */
  continent(id: number): string | null {
    const code = this.continentCodes[id];
    return code < CONTINENTS.length ? CONTINENTS[code] : null;
  }

  /** The GeoLocation the engine's explain path sees for this class and network prefix. */
  location(id: number, prefixLength: number): GeoLocation {
    return { ...this.place(id), prefixLength };
  }

  hasCoordinates(id: number): boolean {
    return !Number.isNaN(this.latitudes[id]);
  }

  private countryCode(country: string | null): number {
    if (country === null) return NO_CODE;
    if (country.length === 2) {
      const a = country.charCodeAt(0) - 65;
      const b = country.charCodeAt(1) - 65;
      if (a >= 0 && a < 26 && b >= 0 && b < 26) return a * 26 + b;
    }
    let code = this.odd.get(country);
    if (code === undefined) {
      code = ODD_BASE + this.odd.size;
      this.odd.set(country, code);
      this.countryText[code] = country;
    }
    return code;
  }

  private hash(found: number, country: number, continent: number, lat: number, lon: number): number {
    this.scratch[0] = lat;
    this.scratch[1] = lon;
    const w = this.scratchWords;
    let h = Math.imul(found + 1, 0x9e3779b1) ^ Math.imul(country + 7, 0x85ebca6b) ^ Math.imul(continent + 3, 0xc2b2ae35);
    for (let i = 0; i < 4; i++) {
      h = Math.imul(h ^ w[i], 0x01000193);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) >>> 0;
  }

  private add(slot: number, hash: number, found: number, country: number, continent: number, lat: number, lon: number, place: Place): number {
    const id = this.count;
    if (id === this.latitudes.length) this.grow();
    this.latitudes[id] = lat;
    this.longitudes[id] = lon;
    this.found[id] = found;
    this.countryCodes[id] = country;
    this.continentCodes[id] = continent;
    this.hashes[id] = hash;
    this.euClass[id] = place.country ? (isEuCountry(place.country) ? EU_YES : EU_NO) : EU_UNKNOWN;
    this.traits[id] = this.euClass[id] | (Number.isNaN(lat) ? 0 : TRAIT_LOCATED);
    this.slots[slot] = id;
    this.count++;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = tableArray(Int32Array, this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes[id] & mask;
      while (slots[slot] >= 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }

  private grow(): void {
    const n = this.latitudes.length * 2;
    const copy = <T extends Float64Array | Uint8Array | Uint16Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.latitudes = copy(this.latitudes, (k) => tableArray(Float64Array, k));
    this.longitudes = copy(this.longitudes, (k) => tableArray(Float64Array, k));
    this.euClass = copy(this.euClass, (k) => tableArray(Uint8Array, k));
    this.traits = copy(this.traits, (k) => tableArray(Uint8Array, k));
    this.found = copy(this.found, (k) => tableArray(Uint8Array, k));
    this.countryCodes = copy(this.countryCodes, (k) => tableArray(Uint16Array, k));
    this.continentCodes = copy(this.continentCodes, (k) => tableArray(Uint8Array, k));
    this.hashes = copy(this.hashes, (k) => tableArray(Uint32Array, k));
  }
}
