/** Response schema of the routing explanation (GET /v1/route). */
import { bool, int, list, num, obj, oneOf, schemaRef, str, time } from '../common/openapi';
import { REASONS } from '../routing/types';

const ROLE = oneOf(['primary', 'replica', 'peer']);

export const EXPLANATION = schemaRef('RouteExplanation', obj({
  fqdn: str(),
  type: oneOf(['A', 'AAAA']),
  snapshotVersion: int(),
  client: obj({
    ip: str({ description: 'the client address truncated as the DNS server sees an ECS subnet (e.g. /24)' }),
    country: str({ nullable: true }),
    continent: str({ nullable: true }),
    jurisdiction: str({ nullable: true }),
    latitude: num({ nullable: true }),
    longitude: num({ nullable: true }),
    source: oneOf(['ecs', 'socket', 'forwarded', 'explicit']),
  }),
  answer: obj({
    rcode: oneOf(['NOERROR', 'SERVFAIL']),
    region: str({ nullable: true }),
    regions: list(str()),
    addresses: list(str()),
    ttl: int(),
    ecsScope: int({ description: 'ECS scope prefix length of the answer' }),
  }),
  reason: oneOf(REASONS),
  detail: str(),
  access: oneOf(['read', 'write']),
  replication: obj({
    mode: oneOf(['active-passive', 'active-active']),
    writeOf: str({ nullable: true }),
    primary: str({ nullable: true }),
    conflictResolution: str({ nullable: true }),
    maxStalenessMs: int({ nullable: true }),
    writeFqdn: str({ nullable: true }),
    members: list(obj({
      region: str(),
      role: ROLE,
      lagMs: int({ nullable: true }),
      reportedAt: time({ nullable: true }),
      maxReportAgeMs: int(),
      stale: oneOf(['lag-exceeds-bound', 'report-too-old', 'no-report'], { nullable: true }),
    })),
  }, [], { nullable: true }),
  candidates: list(obj({
    region: str(),
    distanceKm: num({ nullable: true }),
    healthy: bool(),
    allowed: bool({ description: 'allowed by residency' }),
    chosen: bool(),
    role: ROLE,
    lagMs: int({ nullable: true }),
    excludedBecause: oneOf(['drained', 'unhealthy', 'residency', 'not-primary', 'replica-stale', 'no-address', 'not-in-geolocation-entry']),
    latency: obj({
      level: oneOf(['/24', '/20', '/16', '/48', '/40', '/32', 'class', 'country', 'distance-fallback'], { description: 'the evidence level the RTT came from, or distance-fallback (too little trusted evidence)' }),
      rttMs: num({ description: 'median of the decaying window' }),
      samples: int(),
      sources: int(),
    }, ['rttMs', 'samples', 'sources'], { description: 'latency services only' }),
  }, ['role', 'lagMs', 'excludedBecause', 'latency'])),
}));

export const EXPLANATION_EXAMPLE = {
  fqdn: 'app.example.com', type: 'A', snapshotVersion: 12,
  client: { ip: '81.2.69.0/24', country: 'GB', continent: 'EU', jurisdiction: 'GB', latitude: 51.5143, longitude: -0.0912, source: 'explicit' },
  answer: { rcode: 'NOERROR', region: 'eu-west-1', regions: ['eu-west-1'], addresses: ['198.51.100.10'], ttl: 30, ecsScope: 24 },
  reason: 'nearest-healthy', detail: 'eu-west-1 is the nearest routable region (465.2 km)', access: 'read', replication: null,
  candidates: [
    { region: 'eu-west-1', distanceKm: 465.2, healthy: true, allowed: true, chosen: true },
    { region: 'us-east-1', distanceKm: 5919.9, healthy: true, allowed: true, chosen: false },
  ],
};
