import { EU_JURISDICTION, EU_JURISDICTION_COUNTRIES, isEuCountry, jurisdictionOf } from './jurisdiction';

describe('EU/EEA jurisdiction', () => {
  it('is exactly the 27 EU member states plus IS, LI and NO', () => {
    const eu27 = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'];
    expect(eu27).toHaveLength(27);
    expect([...EU_JURISDICTION_COUNTRIES].sort()).toEqual([...eu27, 'IS', 'LI', 'NO'].sort());
    expect(new Set(EU_JURISDICTION_COUNTRIES).size).toBe(30);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(EU_JURISDICTION_COUNTRIES)).toBe(true);
    expect(() => (EU_JURISDICTION_COUNTRIES as string[]).push('GB')).toThrow(TypeError);
    expect(isEuCountry('GB')).toBe(false);
  });

  it.each([
    ['DE', true],
    ['de', true],
    ['IE', true],
    ['GR', true],
    ['NO', true],
    ['IS', true],
    ['LI', true],
    ['EL', false], // the EU's own code for Greece is not ISO 3166
    ['GB', false],
    ['CH', false],
    ['US', false],
    ['EU', false], // a continent/jurisdiction, not a country
    ['', false],
    [null, false],
    [undefined, false],
  ])('isEuCountry(%p) is %p', (code, expected) => {
    expect(isEuCountry(code)).toBe(expected);
  });

  it.each([
    ['FR', 'EU'],
    ['no', 'EU'],
    ['US', 'US'],
    ['gb', 'GB'],
    ['CH', 'CH'],
    ['JP', 'JP'],
  ])('jurisdictionOf(%p) is %p', (code, expected) => {
    expect(jurisdictionOf(code)).toBe(expected);
  });

  it('names the EU jurisdiction "EU"', () => {
    expect(EU_JURISDICTION).toBe('EU');
  });
});
