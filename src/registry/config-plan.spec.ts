import { plainToInstance } from 'class-transformer';
import { changeOf, destructiveReason, planOperations, type DesiredRegistry, type Operation, type RegistryRows } from './config-plan';
import { CreateRegionDto } from './dto/region.dto';
import { CreateServiceDto } from './dto/service.dto';
import { CreateRecordDto, CreateZoneDto } from './dto/zone.dto';
import type { RegionEntity } from './region.entity';
import type { ServiceEntity } from './service.entity';
import type { RecordEntity, ZoneEntity } from './zone.entity';

const AT = new Date('2025-01-01T00:00:00Z');

/** The registry after creating ZONE_BODY, its two records, REGION_BODY and SERVICE_BODY through the API. */
const STORED: RegistryRows = {
  zones: [{ name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com', ttl: 3600, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 300, serial: 4, createdAt: AT, updatedAt: AT } as ZoneEntity],
  records: [
    { id: 'id-www', zoneName: 'example.com', name: 'www.example.com', type: 'CNAME', ttl: 300, values: ['app.example.com'], createdAt: AT } as RecordEntity,
    { id: 'id-txt', zoneName: 'example.com', name: 'example.com', type: 'TXT', ttl: 300, values: ['"v=spf1 -all"'], createdAt: AT } as RecordEntity,
  ],
  regions: [
    {
      name: 'eu-west-1', countryCode: 'IE', latitude: 53.35, longitude: -6.26, ipv4: ['198.51.100.10'], ipv6: [], baseUrl: null, weight: 100, drained: false,
      capacity: null, healthCheck: null, heartbeatTimeoutSeconds: null, webhookSecret: 'region-secret-0123456789abcdef', anycast: null, createdAt: AT, updatedAt: AT,
    } as RegionEntity,
  ],
  services: [
    {
      fqdn: 'app.example.com', zoneName: 'example.com', policy: 'proximity', regions: ['eu-west-1'], geolocation: null, ttl: 30, residency: 'gdpr',
      unknownLocation: 'route', whenAllUnhealthy: 'fail-open', answerCount: 1, replication: null, createdAt: AT, updatedAt: AT,
    } as ServiceEntity,
  ],
};

const ZONE_BODY = { name: 'Example.com.', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' };
const RECORD_BODIES = [{ name: 'www', type: 'CNAME', values: ['app.example.com.'] }, { name: '@', type: 'TXT', values: ['"v=spf1 -all"'] }];
const REGION_BODY = { name: 'eu-west-1', countryCode: 'IE', location: { latitude: 53.35, longitude: -6.26 }, endpoints: { ipv4: ['198.51.100.10'] } };
const SERVICE_BODY = { fqdn: 'app.example.com', regions: ['eu-west-1'] };

/** A validated document from plain request bodies. */
function desired(doc: { zones?: { zone: object; records?: object[] }[]; regions?: object[]; services?: object[] }): DesiredRegistry {
  return {
    zones: (doc.zones ?? []).map((z) => ({ zone: plainToInstance(CreateZoneDto, z.zone), records: (z.records ?? []).map((r) => plainToInstance(CreateRecordDto, r)) })),
    regions: (doc.regions ?? []).map((r) => plainToInstance(CreateRegionDto, r)),
    services: (doc.services ?? []).map((s) => plainToInstance(CreateServiceDto, s)),
  };
}

const SAME = desired({ zones: [{ zone: ZONE_BODY, records: RECORD_BODIES }], regions: [REGION_BODY], services: [SERVICE_BODY] });
const EMPTY: RegistryRows = { zones: [], records: [], regions: [], services: [] };
const lines = (ops: Operation[]) => ops.map((op) => `${op.action} ${changeOf(op).name}`);

describe('planOperations: what a document changes, as typed operations', () => {
  it.each<[string, RegistryRows, DesiredRegistry, boolean, string[]]>([
    ['into an empty registry: every object created, dependencies first', EMPTY, SAME, false,
      ['create example.com', 'create www CNAME in example.com', 'create @ TXT in example.com', 'create eu-west-1', 'create app.example.com']],
    ['the registry as stored, defaults left out: nothing', STORED, SAME, false, []],
    ['the same, with prune: nothing', STORED, SAME, true, []],
    ['objects the document leaves out stay without prune', STORED, desired({}), false, []],
    ['with prune they go: records of named zones, then services, regions, zones', STORED,
      desired({ zones: [{ zone: ZONE_BODY, records: [RECORD_BODIES[0]] }], regions: [REGION_BODY] }), true,
      ['delete @ TXT in example.com', 'delete app.example.com']],
    ['an empty document with prune empties the registry in dependency order', STORED, desired({}), true,
      ['delete app.example.com', 'delete eu-west-1', 'delete example.com']],
  ])('%s', (_name, current, doc, prune, expected) => {
    expect(lines(planOperations(current, doc, prune))).toEqual(expected);
  });

  it('carries the validated request of a create', () => {
    const [zone, www] = planOperations(EMPTY, SAME, false);
    expect(zone).toMatchObject({ kind: 'zone', action: 'create', at: 'zones[0]' });
    expect(zone.action === 'create' && zone.request).toBeInstanceOf(CreateZoneDto);
    expect(www).toMatchObject({ kind: 'record', action: 'create', zone: 'example.com', rrset: 'www CNAME', at: 'zones[0].records[0]', request: RECORD_BODIES[0] });
  });

  it('an update names the fields that differ and patches every field the document can set', () => {
    const doc = desired({ services: [{ ...SERVICE_BODY, ttl: 20, answerCount: 2 }] });
    const [op] = planOperations(STORED, doc, false);
    expect(changeOf(op)).toEqual({ action: 'update', kind: 'service', name: 'app.example.com', fields: [{ field: 'ttl', from: 30, to: 20 }, { field: 'answerCount', from: 1, to: 2 }] });
    expect(op).toMatchObject({
      at: 'services[0]',
      patch: { policy: 'proximity', regions: ['eu-west-1'], geolocation: null, ttl: 20, residency: 'gdpr', unknownLocation: 'route', whenAllUnhealthy: 'fail-open', answerCount: 2, replication: null },
    });
  });

  it('a changed record set replaces the stored one', () => {
    const doc = desired({ zones: [{ zone: ZONE_BODY, records: [{ ...RECORD_BODIES[0], ttl: 60 }, RECORD_BODIES[1]] }] });
    const [op] = planOperations(STORED, doc, false);
    expect(op).toMatchObject({ kind: 'record', action: 'update', zone: 'example.com', replaces: 'id-www', at: 'zones[0].records[0]' });
    expect(changeOf(op).fields).toEqual([{ field: 'rrset', from: { name: 'www', type: 'CNAME', ttl: 300, values: ['app.example.com'] }, to: { name: 'www', type: 'CNAME', ttl: 60, values: ['app.example.com'] } }]);
  });

  it('a region update clears what the document leaves out, and normalises what it names', () => {
    const doc = desired({ regions: [{ ...REGION_BODY, endpoints: { ipv4: ['198.51.100.10'], baseUrl: 'https://eu.example.com/' }, weight: 50 }] });
    const [op] = planOperations(STORED, doc, false);
    expect(changeOf(op).fields).toEqual([
      { field: 'endpoints', from: { ipv4: ['198.51.100.10'], ipv6: [] }, to: { ipv4: ['198.51.100.10'], ipv6: [], baseUrl: 'https://eu.example.com' } },
      { field: 'weight', from: 100, to: 50 },
    ]);
    expect(op).toMatchObject({ patch: { capacity: null, healthCheck: null, heartbeatTimeoutSeconds: null, anycast: null, weight: 50, drained: false } });
    expect(op.kind === 'region' && op.action === 'update' ? Object.keys(op.patch) : null).not.toContain('name');
  });

  it.each<[string, object, string[]]>([
    ['the stored secret: no change', { webhookSecret: 'region-secret-0123456789abcdef' }, []],
    ['another secret: an update that hides both values', { webhookSecret: 'another-secret-0123456789abcdef' }, ['webhookSecret']],
    ['null clears it', { webhookSecret: null }, ['webhookSecret']],
    ['no secret named: the stored one stays', {}, []],
  ])('region webhook secrets are write-only: %s', (_name, secret, fields) => {
    const ops = planOperations(STORED, desired({ regions: [{ ...REGION_BODY, ...secret }] }), false);
    expect(ops.flatMap((op) => (op.action === 'update' ? op.fields.map((f) => f.field) : []))).toEqual(fields);
    for (const op of ops) {
      expect(changeOf(op).fields).toEqual([{ field: 'webhookSecret', from: '(hidden)', to: '(hidden)' }]);
      expect(op).toMatchObject({ patch: secret });
    }
  });

  it('a replication notifySecret is compared and passed on, never shown', () => {
    const replication = { mode: 'active-passive', primary: 'eu-west-1', notifyUrl: 'https://ops.example.com/hook', notifySecret: 'notify-secret-0123456789abcdef' };
    const [op] = planOperations(STORED, desired({ services: [{ ...SERVICE_BODY, replication }] }), false);
    expect(changeOf(op).fields?.map((f) => f.field)).toEqual(['replication', 'replication.notifySecret']);
    expect(JSON.stringify(changeOf(op))).not.toContain('notify-secret');
    expect(op).toMatchObject({ patch: { replication: { mode: 'active-passive', primary: 'eu-west-1', promotion: 'manual', promotionDelaySeconds: 30, notifySecret: replication.notifySecret } } });
  });

  it('a create shows the object after, a delete the object before, secrets left out', () => {
    const created = planOperations(EMPTY, desired({ regions: [{ ...REGION_BODY, webhookSecret: 'region-secret-0123456789abcdef' }] }), false).map(changeOf);
    expect(created).toEqual([{ action: 'create', kind: 'region', name: 'eu-west-1', after: { name: 'eu-west-1', countryCode: 'IE', location: { latitude: 53.35, longitude: -6.26 }, endpoints: { ipv4: ['198.51.100.10'], ipv6: [] }, weight: 100, drained: false } }]);
    const deleted = planOperations(STORED, desired({}), true).map(changeOf);
    expect(deleted.map((c) => [c.name, c.before !== undefined, c.after])).toEqual([['app.example.com', true, undefined], ['eu-west-1', true, undefined], ['example.com', true, undefined]]);
    expect(deleted[1].before).toMatchObject({ name: 'eu-west-1', countryCode: 'IE' });
    expect(JSON.stringify(deleted)).not.toContain('region-secret');
  });
});

/** STORED with `n` regions and `n` services (region-0.., svc-0..). */
function registryOf(n: number): RegistryRows {
  const regions = Array.from({ length: n }, (_, i) => ({ ...STORED.regions[0], name: `region-${i}` }) as RegionEntity);
  const services = Array.from({ length: n }, (_, i) => ({ ...STORED.services[0], fqdn: `svc-${i}.example.com`, regions: [`region-${i}`] }) as ServiceEntity);
  return { ...STORED, regions, services };
}

/** A document keeping the zone, the first `regions` regions and the first `services` services of registryOf(n). */
function keeping(regions: number, services: number, zone = true): DesiredRegistry {
  return desired({
    zones: zone ? [{ zone: ZONE_BODY, records: RECORD_BODIES }] : [],
    regions: Array.from({ length: regions }, (_, i) => ({ ...REGION_BODY, name: `region-${i}` })),
    services: Array.from({ length: services }, (_, i) => ({ fqdn: `svc-${i}.example.com`, regions: [`region-${i}`] })),
  });
}

describe('destructiveReason: which prunes need allowDestroy', () => {
  it.each<[string, RegistryRows, DesiredRegistry, string | null]>([
    ['nothing deleted', registryOf(4), keeping(4, 4), null],
    ['half of the regions and services', registryOf(4), keeping(4, 2), null],
    ['half of the regions (their services first)', registryOf(4), keeping(2, 2), null],
    ['more than half of the services', registryOf(4), keeping(4, 1), 'it deletes 3 of 4 services'],
    ['more than half of the regions', registryOf(4), keeping(1, 1), 'it deletes 3 of 4 regions'],
    ['the only service', registryOf(1), keeping(1, 0), 'it deletes 1 of 1 services'],
    ['a zone', registryOf(2), keeping(2, 2, false), 'it deletes the zone example.com'],
    ['an empty document', registryOf(4), desired({}), 'it deletes the zone example.com'],
  ])('%s', (_name, current, doc, reason) => {
    expect(destructiveReason(current, planOperations(current, doc, true))).toBe(reason);
  });
});
