import { LocationClassTable, UNKNOWN_CLASS } from './location-classes';

describe('LocationClassTable', () => {
  const placeOf = (i: number) => ({
    found: true,
    country: ['DE', 'JP', 'US', 'BR', 'ZZ-odd'][i % 5],
    continent: ['EU', 'AS', 'NA', 'SA', 'OC'][i % 5],
    latitude: ((i * 7919) % 18000) / 100 - 90,
    longitude: ((i * 104729) % 36000) / 100 - 180,
  });

  it('gives every distinct place one id, the same one again after the table grew and rehashed', () => {
    const table = new LocationClassTable();
    const n = 20_000; // past several doublings of the 1,024 / 4,096 starting sizes
    const ids = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const place = placeOf(i);
      const id = table.intern(place);
      const key = JSON.stringify(place);
      if (ids.has(key)) expect(id).toBe(ids.get(key));
      else ids.set(key, id);
    }
    expect(table.size).toBe(ids.size + 1); // + the unknown class made at construction
    for (let i = 0; i < n; i++) {
      const place = placeOf(i);
      const id = table.intern(place);
      expect(id).toBe(ids.get(JSON.stringify(place)));
      expect(table.place(id)).toEqual(place);
    }
    expect(table.size).toBe(ids.size + 1);
  });

  it.each([
    [{ found: false, country: null, continent: null, latitude: null, longitude: null }, UNKNOWN_CLASS],
  ])('keeps %j as the unknown class', (place, expected) => {
    expect(new LocationClassTable().intern(place)).toBe(expected);
  });

  it('tells places apart by coordinates, country, continent and whether they were found', () => {
    const table = new LocationClassTable();
    const base = { found: true, country: 'DE', continent: 'EU', latitude: 50.1, longitude: 8.7 };
    const variants = [base, { ...base, latitude: 50.2 }, { ...base, longitude: -8.7 }, { ...base, country: 'FR' }, { ...base, continent: 'AS' }, { ...base, found: false }, { ...base, latitude: null, longitude: null }];
    const ids = variants.map((p) => table.intern(p));
    expect(new Set(ids).size).toBe(variants.length);
    expect(variants.map((p) => table.intern(p))).toEqual(ids);
  });
});
