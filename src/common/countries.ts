import { countries } from 'countries-list';

/** Assigned ISO 3166-1 alpha-2 codes and their continents, from the maintained `countries-list` package. */
export function isAssignedCountry(code: unknown): boolean {
  return typeof code === 'string' && /^[A-Z]{2}$/.test(code) && Object.prototype.hasOwnProperty.call(countries, code);
}

export function continentOf(code: string): string | null {
  return (countries as Record<string, { continent: string }>)[code]?.continent ?? null;
}

export const CONTINENT_CODES = Object.freeze(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);
