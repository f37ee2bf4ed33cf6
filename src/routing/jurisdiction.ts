/**
 * The EU/EEA jurisdiction, defined here and nowhere else. Residency rules (DESIGN §8) compare
 * against this list: the 27 EU member states plus Iceland, Liechtenstein and Norway.
 */

/** The jurisdiction name regions in the EU/EEA carry (RegionSnap.jurisdiction). */
export const EU_JURISDICTION = 'EU';

/** ISO 3166-1 alpha-2 codes of the EU/EEA: 27 member states + IS, LI, NO (30 codes). */
export const EU_JURISDICTION_COUNTRIES: readonly string[] = Object.freeze([
  // EU member states
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
  'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  // EEA, outside the EU
  'IS', 'LI', 'NO',
]);

const EU_COUNTRY_SET: ReadonlySet<string> = new Set(EU_JURISDICTION_COUNTRIES);

/**
 * True when the ISO country code is in the EU/EEA. Case-insensitive; null, undefined and
 * unknown codes are not EU. Note: Greece is ISO "GR" (the EU's own "EL" is not an ISO code).
 */
export function isEuCountry(countryCode: string | null | undefined): boolean {
  if (!countryCode) return false;
  return EU_COUNTRY_SET.has(countryCode) || EU_COUNTRY_SET.has(countryCode.toUpperCase());
}

/** 'EU' for EU/EEA countries, else the upper-cased country code itself. */
export function jurisdictionOf(countryCode: string): string {
  return isEuCountry(countryCode) ? EU_JURISDICTION : countryCode.toUpperCase();
}
