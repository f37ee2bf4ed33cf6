/** Response schemas and examples of the registry routes (zones, records, regions, services, config, import). */
import { anyJson, bool, int, list, mapOf, num, obj, oneOf, orNull, page, schemaRef, str, time } from '../common/openapi';
import { POLICIES } from './dto/service.dto';

const T = '2026-12-06T01:48:28.468Z';

export const ZONE = schemaRef('Zone', obj({
  name: str({ example: 'example.com' }),
  nameservers: list(str()),
  hostmaster: str(),
  ttl: int(),
  refresh: int(),
  retry: int(),
  expire: int(),
  negativeTtl: int(),
  serial: int({ description: 'SOA serial, raised on every change of the zone or its records' }),
  createdAt: time(),
  updatedAt: time(),
}));
export const ZONE_EXAMPLE = { name: 'example.com', nameservers: ['ns1.example.com', 'ns2.example.com'], hostmaster: 'hostmaster.example.com', ttl: 3600, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 300, serial: 1, createdAt: T, updatedAt: T };

export const RECORD = schemaRef('Record', obj({
  id: str({ format: 'uuid' }),
  zone: str(),
  name: str({ description: 'relative to the zone, "@" for the apex' }),
  fqdn: str(),
  type: str({ example: 'A' }),
  ttl: int(),
  values: list(str()),
}));
export const RECORD_EXAMPLE = { id: '56d31195-ad4b-4f5f-82a5-817286e37d6b', zone: 'example.com', name: 'api', fqdn: 'api.example.com', type: 'A', ttl: 300, values: ['192.0.2.7'] };

const HEALTH_STATUS = ['healthy', 'unhealthy', 'unknown'] as const;
export const HEALTH_STATUSES = HEALTH_STATUS;

export const REGION = schemaRef('Region', obj({
  name: str(),
  countryCode: str({ pattern: '^[A-Z]{2}$' }),
  jurisdiction: str({ description: '"EU" for the EU/EEA, else the country code' }),
  location: obj({ latitude: num(), longitude: num() }),
  endpoints: obj({ ipv4: list(str({ format: 'ipv4' })), ipv6: list(str({ format: 'ipv6' })), baseUrl: str({ nullable: true }) }),
  weight: int(),
  drained: bool(),
  capacity: int({ nullable: true }),
  healthCheck: orNull({ $ref: '#/components/schemas/HealthCheckDto' }),
  heartbeatTimeoutSeconds: int({ nullable: true }),
  webhookSecretSet: bool({ description: 'whether the region has its own webhook secret (the secret is never returned)' }),
  anycast: orNull(obj({ originAsn: int(), upstreams: list(int()), prepend: int() })),
  health: obj({ status: oneOf(HEALTH_STATUS), since: time({ nullable: true }), reason: str({ nullable: true }) }),
  createdAt: time(),
  updatedAt: time(),
}));
export const REGION_EXAMPLE = {
  name: 'eu-west-1', countryCode: 'IE', jurisdiction: 'EU', location: { latitude: 53.35, longitude: -6.26 },
  endpoints: { ipv4: ['198.51.100.10'], ipv6: ['2001:db8:3::10'], baseUrl: 'https://eu-west-1.app.example.com' },
  weight: 100, drained: false, capacity: null, healthCheck: null, heartbeatTimeoutSeconds: null, webhookSecretSet: false, anycast: null,
  health: { status: 'healthy', since: T, reason: 'webhook reported healthy' }, createdAt: T, updatedAt: T,
};

const REPLICATION_SETTINGS = {
  mode: oneOf(['active-passive', 'active-active']),
  primary: str({ nullable: true }),
  maxStalenessMs: int({ nullable: true }),
  promotion: oneOf(['manual', 'automatic']),
  promotionDelaySeconds: int(),
  conflictResolution: str({ nullable: true }),
  writeFqdn: str({ nullable: true }),
  notifyUrl: str({ nullable: true }),
  notifySecretSet: bool(),
};
/** A service's replication as returned (notifySecret write-only). */
export const REPLICATION_SETTINGS_SCHEMA = schemaRef('ReplicationSettings', {
  oneOf: [obj({ mode: oneOf(['none']) }), obj(REPLICATION_SETTINGS)],
});
export { REPLICATION_SETTINGS };

export const SERVICE = schemaRef('Service', obj({
  fqdn: str(),
  zone: str(),
  policy: oneOf(POLICIES),
  regions: list(str()),
  geolocation: mapOf(list(str()), { nullable: true }),
  ttl: int(),
  residency: oneOf(['gdpr', 'none']),
  unknownLocation: oneOf(['route', 'treat-as-eu']),
  whenAllUnhealthy: oneOf(['fail-open', 'fail-closed']),
  answerCount: int(),
  replication: REPLICATION_SETTINGS_SCHEMA,
  createdAt: time(),
  updatedAt: time(),
}));
export const SERVICE_EXAMPLE = {
  fqdn: 'app.example.com', zone: 'example.com', policy: 'proximity', regions: ['eu-west-1', 'us-east-1'], geolocation: null, ttl: 30, residency: 'gdpr',
  unknownLocation: 'route', whenAllUnhealthy: 'fail-open', answerCount: 1, replication: { mode: 'none' }, createdAt: T, updatedAt: T,
};

export const ZONES_PAGE = page(ZONE);
export const RECORDS_PAGE = page(RECORD);
export const REGIONS_PAGE = page(REGION);
export const SERVICES_PAGE = page(SERVICE);

/**
 * The configuration document (config/demo.yaml, `georoute export`, the body of `georoute apply`):
 * zones with their records, regions and services, in the fields of the create requests.
 */
export const CONFIG_DOCUMENT = schemaRef('ConfigDocument', {
  type: 'object',
  additionalProperties: false,
  properties: {
    zones: list({
      allOf: [{ $ref: '#/components/schemas/CreateZoneDto' }],
      type: 'object',
      properties: { records: list({ $ref: '#/components/schemas/CreateRecordDto' }) },
    }),
    regions: list({ $ref: '#/components/schemas/CreateRegionDto' }),
    services: list({ $ref: '#/components/schemas/CreateServiceDto' }),
  },
});
export const CONFIG_EXAMPLE = {
  zones: [{ name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com', records: [{ name: 'ns1', type: 'A', ttl: 3600, values: ['192.0.2.53'] }] }],
  regions: [{ name: 'eu-west-1', countryCode: 'IE', location: { latitude: 53.35, longitude: -6.26 }, endpoints: { ipv4: ['198.51.100.10'] } }],
  services: [{ fqdn: 'app.example.com', policy: 'proximity', regions: ['eu-west-1'] }],
};

const FIELD_CHANGE = obj({ field: str(), from: anyJson('the current value'), to: anyJson('the desired value') }, ['from', 'to']);
export const APPLY_RESULT = schemaRef('ApplyResult', obj({
  dryRun: bool(),
  applied: bool({ description: 'false for a dry run or when nothing differs' }),
  changes: list(obj({
    action: oneOf(['create', 'update', 'delete']),
    kind: oneOf(['zone', 'record', 'region', 'service']),
    name: str({ description: 'records: "<owner> <type> in <zone>"' }),
    fields: list(FIELD_CHANGE),
    before: anyJson('deletes: the object as it is'),
    after: anyJson('creates: the object as it will be'),
  }, ['fields', 'before', 'after'])),
}));
export const APPLY_EXAMPLE = { dryRun: true, applied: false, changes: [{ action: 'update', kind: 'region', name: 'eu-west-1', fields: [{ field: 'weight', from: 100, to: 50 }] }] };

export const IMPORT_RESULT = schemaRef('ZoneImportResult', obj({
  zone: str(),
  dryRun: bool(),
  zoneCreated: bool(),
  zoneChanged: bool(),
  records: obj({ created: int(), updated: int(), deleted: int(), unchanged: int() }),
  skipped: list(obj({ line: int(), rule: str(), message: str() }), { description: 'lines left out (skipInvalid=true only)' }),
  serial: int({ nullable: true }),
}));
export const IMPORT_EXAMPLE = { zone: 'example.com', dryRun: false, zoneCreated: false, zoneChanged: false, records: { created: 2, updated: 0, deleted: 1, unchanged: 0 }, skipped: [], serial: 4 };

const DNSSEC_KEY = obj({
  id: str({ format: 'uuid' }),
  role: oneOf(['csk', 'ksk', 'zsk']),
  algorithm: int({ description: '13 = ECDSAP256SHA256, 15 = ED25519' }),
  algorithmName: str(),
  flags: int({ description: '257 = SEP (CSK, KSK), 256 = ZSK' }),
  keyTag: int(),
  state: oneOf(['published', 'active', 'retired'], { description: 'published: in DNSKEY only; active: signing; retired: in DNSKEY, no longer signing' }),
  dnskey: str({ description: 'DNSKEY RDATA in presentation form' }),
  ds: str({ nullable: true, description: 'DS RDATA (SHA-256) for the registrar; SEP keys only' }),
  createdAt: time(),
  publishedAt: time(),
  activeAt: time({ nullable: true }),
  retiredAt: time({ nullable: true }),
  next: orNull(obj({ state: oneOf(['active', 'removed']), at: time() })),
});
export const DNSSEC = schemaRef('ZoneDnssec', obj({
  zone: str(),
  status: oneOf(['unsigned', 'signed', 'unsigning']),
  keys: list(DNSSEC_KEY),
  ds: list(str(), { description: 'the DS records to give the registrar' }),
  dsRecords: list(str()),
  dnskeyRecords: list(str()),
  cds: list(str(), { description: 'CDS records published now (RFC 7344), "0 0 0 00" while unsigning (RFC 8078)' }),
}));
const DNSKEY_EXAMPLE = '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==';
export const DNSSEC_EXAMPLE = {
  zone: 'example.com', status: 'signed',
  keys: [{ id: '0b7f6c1e-8a52-4d3f-9b8e-3f2a1c4d5e6f', role: 'csk', algorithm: 13, algorithmName: 'ECDSAP256SHA256', flags: 257, keyTag: 2371, state: 'active', dnskey: DNSKEY_EXAMPLE, ds: '2371 13 2 1F987CC6583E92DF0890718C42A3C3F0A36D5A2DB6E5C4C17C2C3E3B1F0E1D2C', createdAt: T, publishedAt: T, activeAt: T, retiredAt: null, next: null }],
  ds: ['2371 13 2 1F987CC6583E92DF0890718C42A3C3F0A36D5A2DB6E5C4C17C2C3E3B1F0E1D2C'],
  dsRecords: ['example.com. IN DS 2371 13 2 1F987CC6583E92DF0890718C42A3C3F0A36D5A2DB6E5C4C17C2C3E3B1F0E1D2C'],
  dnskeyRecords: [`example.com. IN DNSKEY ${DNSKEY_EXAMPLE}`],
  cds: ['2371 13 2 1F987CC6583E92DF0890718C42A3C3F0A36D5A2DB6E5C4C17C2C3E3B1F0E1D2C'],
};
