/** Great-circle distance on a spherical Earth (haversine). */

/** Mean Earth radius (IUGG), in kilometres. */
export const EARTH_RADIUS_KM = 6371.0088;

const DEG_TO_RAD = Math.PI / 180;

/**
 * Great-circle distance in km between two points given in decimal degrees.
 * Symmetric, 0 for identical points, at most half the Earth's circumference.
 */
export function greatCircleDistanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const phi1 = lat1 * DEG_TO_RAD;
  const phi2 = lat2 * DEG_TO_RAD;
  const sinHalfDPhi = Math.sin((phi2 - phi1) / 2);
  const sinHalfDLambda = Math.sin(((lon2 - lon1) * DEG_TO_RAD) / 2);
  const a = sinHalfDPhi * sinHalfDPhi + Math.cos(phi1) * Math.cos(phi2) * sinHalfDLambda * sinHalfDLambda;
  // Rounding can push `a` a hair outside [0, 1] for antipodal or identical points.
  const clamped = a < 0 ? 0 : a > 1 ? 1 : a;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(clamped));
}
