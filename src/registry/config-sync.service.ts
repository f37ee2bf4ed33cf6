import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { isDeepStrictEqual } from 'node:util';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, FieldProblem } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { canonicalIp } from '../common/ip';
import { flattenValidationErrors } from '../common/validation';
import { CreateRecordDto, CreateZoneDto } from './dto/zone.dto';
import { CreateRegionDto } from './dto/region.dto';
import { CreateServiceDto } from './dto/service.dto';
import { RecordEntity, ZoneEntity } from './zone.entity';
import { RegionEntity } from './region.entity';
import { ReplicationConfig, ServiceEntity } from './service.entity';
import { ZONE_DEFAULTS, ZonesService, relativeName, resolveRecordName } from './zones.service';
import { RegionsService, normalizeHealthCheck } from './regions.service';
import { SERVICE_DEFAULTS, ServicesService, normalizeReplication } from './services.service';
import { normalizeRecordValues } from './record-values';
import type { ConfigDocument } from './config-loader.service';
import { EventBus, REGISTRY_CHANGED } from '../common/events';

export interface Change {
  action: 'create' | 'update' | 'delete';
  kind: 'zone' | 'record' | 'region' | 'service';
  name: string;
  /** For updates: the fields that differ, with their current and desired values. */
  fields?: { field: string; from: unknown; to: unknown }[];
}

type Doc = Record<string, unknown>;

/**
 * Configuration as code. `exportDocument` writes the registry in the format of config/demo.yaml;
 * `apply` compares a document with the registry and makes the difference in ONE transaction
 * (all or nothing), through the same services and validation as the REST API. Objects missing
 * from the document are left alone unless `prune` is set. Region webhook secrets and service
 * replication notifySecrets are write-only: never exported; applied when a document names one.
 * A document naming another primary for an active-passive service is refused (409): primaries
 * change only by promotion.
 */
@Injectable()
export class ConfigSyncService {
  constructor(
    private readonly ds: DataSource,
    private readonly zones: ZonesService,
    private readonly regions: RegionsService,
    private readonly services: ServicesService,
    private readonly events: EventBus,
  ) {}

  async exportDocument(m: EntityManager = this.ds.manager): Promise<ConfigDocument> {
    const [zones, records, regions, services] = await Promise.all([
      m.find(ZoneEntity, { order: { name: 'ASC' } }),
      m.find(RecordEntity, { order: { name: 'ASC', type: 'ASC' } }),
      m.find(RegionEntity, { order: { name: 'ASC' } }),
      m.find(ServiceEntity, { order: { fqdn: 'ASC' } }),
    ]);
    return {
      zones: zones.map((z) => ({
        ...zoneDoc(z),
        records: records.filter((r) => r.zoneName === z.name).map((r) => ({ name: relativeName(r.name, r.zoneName), type: r.type, ttl: r.ttl, values: r.values })),
      })),
      regions: regions.map(regionDoc),
      services: services.map(serviceDoc),
    };
  }

  async apply(input: unknown, opts: { dryRun: boolean; prune: boolean }): Promise<{ dryRun: boolean; applied: boolean; changes: Change[] }> {
    const doc = await this.validateDocument(input);
    const result = await this.ds.transaction(async (m) => {
      const changes = await this.plan(m, doc, opts.prune);
      if (!opts.dryRun && changes.length > 0) await this.execute(m, doc, changes);
      return changes;
    });
    if (!opts.dryRun && result.length > 0) this.events.emit(REGISTRY_CHANGED, { kind: 'import', name: 'config apply' });
    return { dryRun: opts.dryRun, applied: !opts.dryRun && result.length > 0, changes: result };
  }

  private async validateDocument(input: unknown): Promise<Required<ConfigDocument>> {
    const problems: FieldProblem[] = [];
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw DomainError.field('body', 'object', 'must be a configuration document { zones, regions, services }');
    const d = input as Doc;
    for (const key of Object.keys(d)) if (!['zones', 'regions', 'services'].includes(key)) problems.push({ field: key, rule: 'unknown-field', message: 'is not a known section (zones, regions, services)' });
    const list = (key: string): Doc[] => {
      const v = d[key] ?? [];
      if (!Array.isArray(v)) {
        problems.push({ field: key, rule: 'array', message: 'must be a list' });
        return [];
      }
      return v as Doc[];
    };
    const zones = list('zones');
    const regions = list('regions');
    const services = list('services');
    const check = async (cls: new () => object, plain: unknown, where: string) => {
      const errors = await validate(plainToInstance(cls, plain ?? {}), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
      problems.push(...flattenValidationErrors(errors).map((p) => ({ ...p, field: `${where}.${p.field}` })));
    };
    for (const [i, z] of zones.entries()) {
      const { records, ...zone } = z ?? {};
      await check(CreateZoneDto, zone, `zones[${i}]`);
      if (records !== undefined && !Array.isArray(records)) problems.push({ field: `zones[${i}].records`, rule: 'array', message: 'must be a list' });
      for (const [j, r] of ((records as Doc[]) ?? []).entries()) await check(CreateRecordDto, r, `zones[${i}].records[${j}]`);
    }
    for (const [i, r] of regions.entries()) await check(CreateRegionDto, r, `regions[${i}]`);
    for (const [i, s] of services.entries()) await check(CreateServiceDto, s, `services[${i}]`);
    const dupes = (items: Doc[], key: string, section: string) => {
      const seen = new Set<string>();
      items.forEach((it, i) => {
        const n = normalizeName(String(it?.[key] ?? ''));
        if (seen.has(n)) problems.push({ field: `${section}[${i}].${key}`, rule: 'unique', message: `"${n}" appears twice` });
        seen.add(n);
      });
    };
    dupes(zones, 'name', 'zones');
    dupes(regions, 'name', 'regions');
    dupes(services, 'fqdn', 'services');
    if (problems.length > 0) throw DomainError.validation(problems);
    return { zones, regions, services };
  }

  /** What would change, compared in the export format with the API's defaults applied. */
  private async plan(m: EntityManager, doc: Required<ConfigDocument>, prune: boolean): Promise<Change[]> {
    const current = await this.exportDocument(m);
    const secrets = new Map((await m.find(RegionEntity)).map((r) => [r.name, r.webhookSecret]));
    const notifySecrets = new Map((await m.find(ServiceEntity)).map((x) => [x.fqdn, x.replication?.notifySecret ?? null]));
    const changes: Change[] = [];
    const diff = (kind: Change['kind'], name: string, from: Doc | undefined, to: Doc) => {
      if (!from) return changes.push({ action: 'create', kind, name });
      const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].filter((k) => k !== 'records');
      const fields = keys.filter((k) => !isDeepStrictEqual(from[k], to[k])).map((k) => ({ field: k, from: from[k] ?? null, to: to[k] ?? null }));
      if (fields.length > 0) changes.push({ action: 'update', kind, name, fields });
      return undefined;
    };

    const curZones = new Map((current.zones ?? []).map((z) => [z.name as string, z]));
    const wantZones = new Set<string>();
    for (const z of doc.zones) {
      const want = normalizeZone(z);
      wantZones.add(want.name as string);
      const have = curZones.get(want.name as string);
      diff('zone', want.name as string, have, want);
      const haveRecords = new Map(((have?.records as Doc[]) ?? []).map((r) => [`${r.name} ${r.type}`, r]));
      const wantRecords = ((z.records as Doc[]) ?? []).map((r) => normalizeRecord(r, want.name as string));
      for (const r of wantRecords) {
        const key = `${r.name} ${r.type}`;
        const h = haveRecords.get(key);
        if (!h) changes.push({ action: 'create', kind: 'record', name: `${key} in ${want.name}` });
        else if (!isDeepStrictEqual(h, r)) changes.push({ action: 'update', kind: 'record', name: `${key} in ${want.name}`, fields: [{ field: 'rrset', from: h, to: r }] });
        haveRecords.delete(key);
      }
      if (have && prune) for (const key of haveRecords.keys()) changes.push({ action: 'delete', kind: 'record', name: `${key} in ${want.name}` });
    }
    const curRegions = new Map((current.regions ?? []).map((r) => [r.name as string, r]));
    const wantRegions = new Set<string>();
    for (const r of doc.regions) {
      const want = normalizeRegion(r);
      wantRegions.add(want.name as string);
      const before = changes.length;
      diff('region', want.name as string, curRegions.get(want.name as string), want);
      const secret = r.webhookSecret as string | undefined;
      if (secret !== undefined && curRegions.has(want.name as string) && secrets.get(want.name as string) !== secret) {
        if (changes.length === before) changes.push({ action: 'update', kind: 'region', name: want.name as string, fields: [] });
        changes[changes.length - 1].fields!.push({ field: 'webhookSecret', from: '(hidden)', to: '(hidden)' });
      }
    }
    const curServices = new Map((current.services ?? []).map((s) => [s.fqdn as string, s]));
    const wantServices = new Set<string>();
    for (const s of doc.services) {
      const want = normalizeService(s);
      wantServices.add(want.fqdn as string);
      const before = changes.length;
      diff('service', want.fqdn as string, curServices.get(want.fqdn as string), want);
      const secret = (s.replication as Doc | undefined)?.notifySecret as string | undefined;
      if (secret !== undefined && curServices.has(want.fqdn as string) && notifySecrets.get(want.fqdn as string) !== secret) {
        if (changes.length === before) changes.push({ action: 'update', kind: 'service', name: want.fqdn as string, fields: [] });
        changes[changes.length - 1].fields!.push({ field: 'replication.notifySecret', from: '(hidden)', to: '(hidden)' });
      }
    }
    if (prune) {
      for (const name of curServices.keys()) if (!wantServices.has(name)) changes.push({ action: 'delete', kind: 'service', name });
      for (const name of curRegions.keys()) if (!wantRegions.has(name)) changes.push({ action: 'delete', kind: 'region', name });
      for (const name of curZones.keys()) if (!wantZones.has(name)) changes.push({ action: 'delete', kind: 'zone', name });
    }
    return changes;
  }

  /** Makes the planned changes inside the transaction, in dependency order; any failure rolls all back. */
  private async execute(m: EntityManager, doc: Required<ConfigDocument>, changes: Change[]): Promise<void> {
    const has = (action: Change['action'], kind: Change['kind'], name: string) => changes.some((c) => c.action === action && c.kind === kind && c.name === name);
    const at = (section: string, i: number) => async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof DomainError && err.fields.length > 0) {
          throw new DomainError(err.code, err.fields.map((f) => `${section}[${i}].${f.field}: ${f.message}`).join('; '), err.fields.map((f) => ({ ...f, field: `${section}[${i}].${f.field}` })));
        }
        if (err instanceof DomainError) throw new DomainError(err.code, `${section}[${i}]: ${err.message}`);
        throw err;
      }
    };
    const dto = <T extends object>(cls: new () => T, plain: unknown) => plainToInstance(cls, plain);

    for (const [i, z] of doc.zones.entries()) {
      const { records, ...zone } = z;
      const name = normalizeName(String(zone.name));
      const guard = at('zones', i);
      if (has('create', 'zone', name)) await guard(() => this.zones.create(dto(CreateZoneDto, zone), m));
      else if (has('update', 'zone', name)) {
        const { name: _n, ...patch } = normalizeZone(zone);
        await guard(() => this.zones.update(name, patch as never, m));
      }
      const current = await m.find(RecordEntity, { where: { zoneName: name } });
      for (const [j, r] of ((records as Doc[]) ?? []).entries()) {
        const want = normalizeRecord(r, name);
        const key = `${want.name} ${want.type} in ${name}`;
        const rguard = at(`zones[${i}].records`, j);
        if (has('update', 'record', key)) {
          const fqdn = resolveRecordName(String(r.name), name);
          const old = current.find((c) => c.name === fqdn && c.type === want.type);
          if (old) await rguard(() => this.zones.removeRecord(name, old.id, m));
        }
        if (has('create', 'record', key) || has('update', 'record', key)) await rguard(() => this.zones.addRecord(name, dto(CreateRecordDto, r), m));
      }
      for (const c of current) {
        if (has('delete', 'record', `${relativeName(c.name, name)} ${c.type} in ${name}`)) await this.zones.removeRecord(name, c.id, m);
      }
    }
    for (const [i, r] of doc.regions.entries()) {
      const name = String(r.name);
      const guard = at('regions', i);
      if (has('create', 'region', name)) await guard(() => this.regions.create(dto(CreateRegionDto, r), m));
      else if (has('update', 'region', name)) {
        const { name: _n, ...patch } = normalizeRegion(r);
        const full = { capacity: null, healthCheck: null, heartbeatTimeoutSeconds: null, anycast: null, ...patch, ...(r.webhookSecret !== undefined ? { webhookSecret: r.webhookSecret } : {}) };
        await guard(() => this.regions.update(name, plainToInstance(CreateRegionDto, full) as never, m));
      }
    }
    for (const [i, s] of doc.services.entries()) {
      const fqdn = normalizeName(String(s.fqdn));
      const guard = at('services', i);
      if (has('create', 'service', fqdn)) await guard(() => this.services.create(dto(CreateServiceDto, s), m));
      else if (has('update', 'service', fqdn)) {
        const { fqdn: _f, ...patch } = normalizeService(s);
        const secret = (s.replication as Doc | undefined)?.notifySecret;
        if (patch.replication && secret !== undefined) patch.replication = { ...(patch.replication as Doc), notifySecret: secret };
        await guard(() => this.services.update(fqdn, { geolocation: null, replication: null, ...patch } as never, m));
      }
    }
    for (const c of changes.filter((x) => x.action === 'delete' && x.kind === 'service')) await this.services.remove(c.name, m);
    for (const c of changes.filter((x) => x.action === 'delete' && x.kind === 'region')) await this.regions.remove(c.name, m);
    for (const c of changes.filter((x) => x.action === 'delete' && x.kind === 'zone')) await this.zones.remove(c.name, m);
  }
}

function omitNull(o: Doc): Doc {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

function zoneDoc(z: ZoneEntity): Doc {
  return { name: z.name, nameservers: z.nameservers, hostmaster: z.hostmaster, ttl: z.ttl, refresh: z.refresh, retry: z.retry, expire: z.expire, negativeTtl: z.negativeTtl };
}

function regionDoc(r: RegionEntity): Doc {
  return omitNull({
    name: r.name,
    countryCode: r.countryCode,
    location: { latitude: r.latitude, longitude: r.longitude },
    endpoints: omitNull({ ipv4: r.ipv4, ipv6: r.ipv6, baseUrl: r.baseUrl }),
    weight: r.weight,
    drained: r.drained,
    capacity: r.capacity,
    healthCheck: r.healthCheck,
    heartbeatTimeoutSeconds: r.heartbeatTimeoutSeconds,
    anycast: r.anycast,
  });
}

function serviceDoc(s: ServiceEntity): Doc {
  return omitNull({
    fqdn: s.fqdn, policy: s.policy, regions: s.regions, geolocation: s.geolocation, ttl: s.ttl, residency: s.residency,
    unknownLocation: s.unknownLocation, whenAllUnhealthy: s.whenAllUnhealthy, answerCount: s.answerCount,
    replication: replicationDoc(s.replication),
  });
}

/** A replication object in document form: the fields of its mode, never the secret; null when not replicated. */
function replicationDoc(r: ReplicationConfig | null): Doc | null {
  if (r === null) return null;
  return r.mode === 'active-passive'
    ? omitNull({
        mode: r.mode, primary: r.primary, maxStalenessMs: r.maxStalenessMs, promotion: r.promotion,
        promotionDelaySeconds: r.promotionDelaySeconds, writeFqdn: r.writeFqdn, notifyUrl: r.notifyUrl,
      })
    : omitNull({ mode: r.mode, conflictResolution: r.conflictResolution, writeFqdn: r.writeFqdn });
}

/** A document zone in export form, defaults applied (as the API would store it). */
function normalizeZone(z: Doc): Doc {
  return {
    name: normalizeName(String(z.name)),
    nameservers: (z.nameservers as string[]).map(normalizeName),
    hostmaster: normalizeName(String(z.hostmaster)),
    ttl: z.ttl ?? ZONE_DEFAULTS.ttl,
    refresh: z.refresh ?? ZONE_DEFAULTS.refresh,
    retry: z.retry ?? ZONE_DEFAULTS.retry,
    expire: z.expire ?? ZONE_DEFAULTS.expire,
    negativeTtl: z.negativeTtl ?? ZONE_DEFAULTS.negativeTtl,
  };
}

function normalizeRecord(r: Doc, zone: string): Doc {
  const fqdn = resolveRecordName(String(r.name), zone);
  const { values } = normalizeRecordValues(String(r.type), r.values as string[]);
  return { name: relativeName(fqdn, zone), type: r.type, ttl: r.ttl ?? 300, values };
}

function normalizeRegion(r: Doc): Doc {
  const e = (r.endpoints ?? {}) as Doc;
  const a = r.anycast as Doc | undefined;
  return omitNull({
    name: r.name,
    countryCode: r.countryCode,
    location: { latitude: (r.location as Doc).latitude, longitude: (r.location as Doc).longitude },
    endpoints: omitNull({
      ipv4: [...new Set(((e.ipv4 as string[]) ?? []).map(canonicalIp))],
      ipv6: [...new Set(((e.ipv6 as string[]) ?? []).map(canonicalIp))],
      baseUrl: e.baseUrl ? String(e.baseUrl).replace(/\/+$/, '') : null,
    }),
    weight: r.weight ?? 100,
    drained: r.drained ?? false,
    capacity: r.capacity ?? null,
    healthCheck: r.healthCheck ? normalizeHealthCheck(r.healthCheck as never) : null,
    heartbeatTimeoutSeconds: r.heartbeatTimeoutSeconds ?? null,
    anycast: a ? { originAsn: a.originAsn, upstreams: a.upstreams, prepend: a.prepend ?? 0 } : null,
  });
}

function normalizeService(s: Doc): Doc {
  return omitNull({
    fqdn: normalizeName(String(s.fqdn)),
    policy: s.policy ?? SERVICE_DEFAULTS.policy,
    regions: s.regions,
    geolocation: s.geolocation ?? null,
    ttl: s.ttl ?? SERVICE_DEFAULTS.ttl,
    residency: s.residency ?? SERVICE_DEFAULTS.residency,
    unknownLocation: s.unknownLocation ?? SERVICE_DEFAULTS.unknownLocation,
    whenAllUnhealthy: s.whenAllUnhealthy ?? SERVICE_DEFAULTS.whenAllUnhealthy,
    answerCount: s.answerCount ?? SERVICE_DEFAULTS.answerCount,
    replication: replicationDoc(normalizeReplication(s.replication as never, null)),
  });
}
