import { EARTH_RADIUS_KM, greatCircleDistanceKm } from './geo-distance';

describe('greatCircleDistanceKm', () => {
  it('uses the IUGG mean Earth radius', () => {
    expect(EARTH_RADIUS_KM).toBe(6371.0088);
  });

  it.each([
    // [from, to, expected km, tolerance km]
    ['identical points', [50.11, 8.68], [50.11, 8.68], 0, 1e-9],
    ['a quarter of the equator', [0, 0], [0, 90], (Math.PI * 6371.0088) / 2, 1e-6],
    ['pole to pole', [90, 0], [-90, 0], Math.PI * 6371.0088, 1e-6],
    ['antipodes', [0, 0], [0, 180], Math.PI * 6371.0088, 1e-6],
    ['across the antimeridian', [0, 179.5], [0, -179.5], (Math.PI * 6371.0088) / 180, 1e-6],
    ['London to Paris', [51.5074, -0.1278], [48.8566, 2.3522], 343.6, 0.5],
    ['Dublin to Frankfurt', [53.35, -6.26], [50.11, 8.68], 1088, 3],
    ['New York to Ashburn', [40.71, -74.01], [39.04, -77.49], 351, 3],
  ])('%s', (_name, from, to, expected, tolerance) => {
    const [lat1, lon1] = from as number[];
    const [lat2, lon2] = to as number[];
    const km = greatCircleDistanceKm(lat1, lon1, lat2, lon2);
    expect(Math.abs(km - (expected as number))).toBeLessThanOrEqual(tolerance as number);
    expect(greatCircleDistanceKm(lat2, lon2, lat1, lon1)).toBeCloseTo(km, 9);
  });
});
