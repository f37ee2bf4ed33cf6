import { SliceClock } from '../common/slices';
import { Injectable } from '@nestjs/common';
import { RegistryRepository } from './registry.repository';
import { DataSource, EntityManager, In } from 'typeorm';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { redactUrlCredentials } from '../common/outbound-policy';
import { normalizeName } from '../common/dns-name';
import { CONTINENT_CODES, isAssignedCountry } from '../common/countries';
import { Page, PageRequest, pageOrderedBy } from '../common/paging';
import { RegionEntity } from './region.entity';
import { RecordEntity, ZoneEntity } from './zone.entity';
import { ReplicationConfig, ServiceEntity } from './service.entity';
import {
  CreateServiceDto, ReplicationDto, ReplicationSettingsResponse, ServiceResponse, UpdateServiceDto, givenServiceSettings, serviceSettingsOf, withServiceDefaults,
} from './dto/service.dto';
import { webhookSecretProblem } from '../common/webhook-secret';
import { DEFAULT_PROMOTION, DEFAULT_PROMOTION_DELAY_SECONDS } from '../routing/replication';
import { ZonesService } from './zones.service';
import { EventBus, REGISTRY_CHANGED } from '../common/events';
import { AuditTrail, withoutSecrets } from '../common/audit';

/** Routed services: names inside a zone whose A/AAAA answers come from the routing engine. */
@Injectable()
export class ServicesService {
  constructor(
    private readonly ds: DataSource,
    private readonly zones: ZonesService,
    private readonly events: EventBus,
    private readonly audit: AuditTrail,
  ) {}

  async create(dto: CreateServiceDto, em?: EntityManager): Promise<ServiceResponse> {
    const fqdn = normalizeName(dto.fqdn);
    const run = async (m: EntityManager) => {
      const zone = await this.zones.zoneFor(m, fqdn);
      if (!zone) throw DomainError.field('fqdn', 'in-zone', `${fqdn} is not inside any zone; create the zone first`);
      await this.zones.lockZone(m, zone.name);
      if (await m.findOneBy(ServiceEntity, { fqdn })) throw DomainError.conflict(`service "${fqdn}" already exists`);
      const writer = await RegistryRepository.writerOf(m, fqdn);
      if (writer !== null) throw DomainError.conflict(`${fqdn} is the write name of service "${writer}"`);
      const clash = await m.find(RecordEntity, { where: { name: fqdn, type: In(['A', 'AAAA', 'CNAME']) } });
      if (clash.length > 0) {
        throw DomainError.conflict(`${fqdn} already has static ${clash.map((r) => r.type).join(', ')} records; delete them before routing the name`);
      }
      const service = m.create(ServiceEntity, { ...serviceFromRequest(dto), zoneName: zone.name });
      await this.checkService(m, service, replicationDtoProblems(dto.replication));
      const saved = await m.save(service);
      await this.zones.bumpSerial(m, zone.name);
      await this.audit.record(m, [{ action: 'create', kind: 'service', name: fqdn, before: null, after: saved }]);
      return saved;
    };
    const saved = em ? await run(em) : await this.ds.transaction(run);
    if (!em) this.changed(fqdn);
    return toServiceResponse(saved);
  }

  async list(page: PageRequest): Promise<Page<ServiceResponse>> {
    return pageOrderedBy(this.ds.getRepository(ServiceEntity), 'fqdn', page, toServiceResponse);
  }

  async get(fqdnIn: string): Promise<ServiceResponse> {
    const fqdn = normalizeName(fqdnIn);
    const s = await this.ds.manager.findOneBy(ServiceEntity, { fqdn });
    if (!s) throw DomainError.notFound('service', fqdn);
    return toServiceResponse(s);
  }

  async update(fqdnIn: string, dto: UpdateServiceDto, em?: EntityManager): Promise<ServiceResponse> {
    const fqdn = normalizeName(fqdnIn);
    const saved = await this.inTx(em, async (m) => {
      const s = await m.createQueryBuilder(ServiceEntity, 's').setLock('pessimistic_write').where('s.fqdn = :fqdn', { fqdn }).getOne();
      if (!s) throw DomainError.notFound('service', fqdn);
      const before = withoutSecrets(s);
      Object.assign(s, givenServiceSettings(dto));
      const problems: FieldProblem[] = [];
      if (dto.replication !== undefined) {
        problems.push(...replicationDtoProblems(dto.replication));
        const next = normalizeReplication(dto.replication, s.replication);
        checkPrimaryChange(fqdn, s.replication, next);
        s.replication = next;
        if (next?.writeFqdn) await this.zones.lockZone(m, s.zoneName);
      }
      await this.checkService(m, s, problems);
      // An UPDATE of the row locked above (save() would read it again first to diff it).
      const { fqdn: _key, zoneName: _zone, createdAt: _created, updatedAt: _updated, ...fields } = s;
      const written = await m.createQueryBuilder().update(ServiceEntity).set(fields).where('fqdn = :fqdn', { fqdn }).returning('updated_at').execute();
      const out = Object.assign(s, { updatedAt: new Date((written.raw as { updated_at: Date | string }[])[0].updated_at) });
      await this.zones.bumpSerial(m, s.zoneName);
      await this.audit.record(m, [{ action: 'update', kind: 'service', name: fqdn, before, after: out }]);
      return out;
    });
    if (!em) this.changed(fqdn);
    return toServiceResponse(saved);
  }

  async remove(fqdnIn: string, em?: EntityManager): Promise<void> {
    const fqdn = normalizeName(fqdnIn);
    await this.inTx(em, async (m) => {
      const s = await m.findOneBy(ServiceEntity, { fqdn });
      if (!s) throw DomainError.notFound('service', fqdn);
      await m.delete(ServiceEntity, { fqdn });
      await this.zones.bumpSerial(m, s.zoneName);
      await this.audit.record(m, [{ action: 'delete', kind: 'service', name: fqdn, before: s, after: null }]);
    });
    if (!em) this.changed(fqdn);
  }

  /** Cross-field and cross-entity rules; regions are share-locked so they cannot vanish before commit. */
  private async checkService(m: EntityManager, s: ServiceEntity, earlier: FieldProblem[] = []): Promise<void> {
    const found = await m
      .createQueryBuilder(RegionEntity, 'r')
      .setLock('pessimistic_read')
      .where('r.name IN (:...names)', { names: s.regions })
      .getMany();
    const problems = serviceProblems(s, new Set(found.map((r) => r.name)), earlier);
    if (s.replication !== null) problems.push(...(await this.checkReplication(m, s, s.replication)));
    if (problems.length > 0) throw DomainError.validation(problems);
  }

  /**
   * Creates many services in the caller's transaction with the rules of create(), in a few
   * queries for the whole list instead of eight per service (a registry of 10,000 services as one
   * config/apply document). Services with replication settings, whose rules read more of the
   * registry, go through create() one by one. The first refusal is thrown through `refuse`, which
   * names the request's place in the document; nothing is written then (the transaction rolls back).
   */
  async createMany(items: readonly { request: CreateServiceDto; at: string }[], m: EntityManager, refuse: (err: unknown, at: string) => unknown): Promise<void> {
    const plain = items.filter((i) => !i.request.replication);
    for (const item of items) {
      if (!item.request.replication) continue;
      try {
        await this.create(item.request, m);
      } catch (err) {
        throw refuse(err, item.at);
      }
    }
    if (plain.length === 0) return;
    const names = plain.map((i) => normalizeName(i.request.fqdn));
    const zones = await m.find(ZoneEntity);
    const zoneNames = new Set(zones.map((z) => z.name));
    const zoneOf = (fqdn: string): string | null => {
      for (let name = fqdn; ; ) {
        if (zoneNames.has(name)) return name;
        const dot = name.indexOf('.');
        if (dot < 0) return null;
        name = name.slice(dot + 1);
      }
    };
    const zoneOfService = names.map(zoneOf);
    for (const zone of new Set(zoneOfService)) if (zone !== null) await this.zones.lockZone(m, zone);
    const existing = new Set<string>();
    const writers = new Map<string, string>();
    const clashes = new Map<string, string[]>();
    for (let i = 0; i < names.length; i += CHUNK) {
      const chunk = names.slice(i, i + CHUNK);
      for (const row of await m.find(ServiceEntity, { select: { fqdn: true }, where: { fqdn: In(chunk) } })) existing.add(row.fqdn);
      for (const [w, fqdn] of await RegistryRepository.writersOf(m, chunk)) writers.set(w, fqdn);
      for (const r of await m.find(RecordEntity, { where: { name: In(chunk), type: In(['A', 'AAAA', 'CNAME']) } })) clashes.set(r.name, [...(clashes.get(r.name) ?? []), r.type]);
    }
    const knownRegions = new Set((await m.createQueryBuilder(RegionEntity, 'r').setLock('pessimistic_read').getMany()).map((r) => r.name));
    const entities: ServiceEntity[] = [];
    const clock = new SliceClock(); // 10,000 services take a fifth of a second: DNS answers between slices
    for (const [k, item] of plain.entries()) {
      await clock.turn();
      const fqdn = names[k];
      const zone = zoneOfService[k];
      try {
        if (zone === null) throw DomainError.field('fqdn', 'in-zone', `${fqdn} is not inside any zone; create the zone first`);
        if (existing.has(fqdn)) throw DomainError.conflict(`service "${fqdn}" already exists`);
        if (writers.has(fqdn)) throw DomainError.conflict(`${fqdn} is the write name of service "${writers.get(fqdn)}"`);
        const clash = clashes.get(fqdn);
        if (clash) throw DomainError.conflict(`${fqdn} already has static ${clash.join(', ')} records; delete them before routing the name`);
        const service = m.create(ServiceEntity, { ...serviceFromRequest(item.request), zoneName: zone });
        const problems = serviceProblems(service, knownRegions);
        if (problems.length > 0) throw DomainError.validation(problems);
        entities.push(service);
      } catch (err) {
        throw refuse(err, item.at);
      }
    }
    await RegistryRepository.insertServices(m, entities);
    for (const zone of new Set(zoneOfService)) if (zone !== null) await this.zones.bumpSerial(m, zone);
    await this.audit.record(m, entities.map((s) => ({ action: 'create' as const, kind: 'service' as const, name: s.fqdn, before: null, after: s })));
  }

  /** Rules of a stored replication object that depend on the service and the registry. */
  private async checkReplication(m: EntityManager, s: ServiceEntity, r: ReplicationConfig): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    if (r.mode === 'active-passive') {
      if (r.primary === null) problems.push({ field: 'replication.primary', rule: 'required', message: 'is required for active-passive (the region that takes every write)' });
      else if (!s.regions.includes(r.primary)) {
        problems.push({ field: 'replication.primary', rule: 'service-region', message: `region "${r.primary}" is not one of the service's regions` });
      }
    }
    if (r.mode === 'active-active' && r.conflictResolution === null) {
      problems.push({ field: 'replication.conflictResolution', rule: 'required', message: 'is required for active-active (last-write-wins, vector-clocks, crdt or application)' });
    }
    if (r.notifyUrl !== null && r.notifySecret === null) {
      problems.push({ field: 'replication.notifySecret', rule: 'required', message: 'is required with notifyUrl: promotion notifications are always signed' });
    }
    if (r.notifySecret !== null) {
      const problem = webhookSecretProblem(r.notifySecret);
      if (problem) problems.push({ field: 'replication.notifySecret', rule: 'webhook-secret', message: problem });
    }
    const w = r.writeFqdn;
    if (w !== null) {
      const field = 'replication.writeFqdn';
      const zone = await this.zones.zoneFor(m, w);
      if (w === s.fqdn) problems.push({ field, rule: 'distinct', message: "must differ from the service's own name" });
      else if (zone?.name !== s.zoneName) problems.push({ field, rule: 'in-zone', message: `${w} must be inside the service's zone ${s.zoneName}` });
      else {
        // One after the other: these run on the transaction's single connection.
        const service = await m.findOneBy(ServiceEntity, { fqdn: w });
        const writer = await RegistryRepository.writerOf(m, w, s.fqdn);
        const records = await m.find(RecordEntity, { where: { name: w, type: In(['A', 'AAAA', 'CNAME']) } });
        if (service) problems.push({ field, rule: 'unique', message: `${w} is already a service` });
        else if (writer !== null) problems.push({ field, rule: 'unique', message: `${w} is already the write name of service "${writer}"` });
        else if (records.length > 0) {
          problems.push({ field, rule: 'unique', message: `${w} has static ${records.map((x) => x.type).join(', ')} records; delete them first` });
        }
      }
    }
    return problems;
  }

  /** Runs in the caller's transaction when given one (config apply), else in a new one. */
  private inTx<T>(em: EntityManager | undefined, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return em ? fn(em) : this.ds.transaction(fn);
  }

  private changed(name: string): void {
    this.events.emit(REGISTRY_CHANGED, { kind: 'service', name });
  }
}

/** A service's stored fields but its zone (found in the registry) and the timestamps. */
export type ServiceFields = Omit<ServiceEntity, 'zoneName' | 'createdAt' | 'updatedAt'>;

/** The service a create request makes, as stored: name normalised, defaults filled. */
export function serviceFromRequest(dto: CreateServiceDto): ServiceFields {
  return { fqdn: normalizeName(dto.fqdn), ...withServiceDefaults(dto), replication: normalizeReplication(dto.replication, null) };
}

export function toServiceResponse(s: ServiceEntity): ServiceResponse {
  return {
    fqdn: s.fqdn,
    zone: s.zoneName,
    ...serviceSettingsOf(s),
    replication: toReplicationSettingsResponse(s.replication),
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** What a replication object stores: null for none; defaults filled; the write-only secret kept when omitted. */
export function normalizeReplication(dto: ReplicationDto | null | undefined, existing: ReplicationConfig | null): ReplicationConfig | null {
  if (dto === null || dto === undefined || dto.mode === 'none') return null;
  return {
    mode: dto.mode,
    primary: dto.primary ?? null,
    maxStalenessMs: dto.maxStalenessMs ?? null,
    promotion: dto.promotion ?? DEFAULT_PROMOTION,
    promotionDelaySeconds: dto.promotionDelaySeconds ?? DEFAULT_PROMOTION_DELAY_SECONDS,
    conflictResolution: dto.conflictResolution ?? null,
    writeFqdn: dto.writeFqdn === null || dto.writeFqdn === undefined ? null : normalizeName(dto.writeFqdn),
    notifyUrl: dto.notifyUrl ?? null,
    notifySecret: dto.notifySecret !== undefined ? dto.notifySecret : (existing?.notifySecret ?? null),
  };
}

/** Fields that make no sense for the chosen mode (the object as sent, before defaults). */
export function replicationDtoProblems(dto: ReplicationDto | null | undefined): FieldProblem[] {
  if (dto === null || dto === undefined || typeof dto !== 'object') return [];
  const set = (k: keyof ReplicationDto) => dto[k] !== undefined && dto[k] !== null;
  const only = (keys: (keyof ReplicationDto)[], mode: string): FieldProblem[] =>
    keys.filter(set).map((k) => ({ field: `replication.${k}`, rule: 'mode', message: `applies to ${mode} only` }));
  if (dto.mode === 'none') {
    return (Object.keys(dto) as (keyof ReplicationDto)[])
      .filter((k) => k !== 'mode' && set(k))
      .map((k) => ({ field: `replication.${k}`, rule: 'mode', message: 'must be absent when mode is none' }));
  }
  if (dto.mode === 'active-passive') return only(['conflictResolution'], 'active-active');
  if (dto.mode === 'active-active') {
    return only(['primary', 'maxStalenessMs', 'promotion', 'promotionDelaySeconds', 'notifyUrl', 'notifySecret'], 'active-passive');
  }
  return [];
}

/**
 * The primary of an active-passive service changes only through a promotion (which checks the
 * target's lag and records the event): a PATCH or a configuration apply naming another primary is
 * refused, so that an old document never silently makes the old primary the primary again.
 */
function checkPrimaryChange(fqdn: string, before: ReplicationConfig | null, after: ReplicationConfig | null): void {
  if (before?.mode !== 'active-passive' || after?.mode !== 'active-passive' || before.primary === after.primary) return;
  const message = `the primary is ${before.primary}; change it with POST /v1/services/${fqdn}/promote {"region":"${after.primary}"}, which checks the replica's lag and records the promotion`;
  throw new DomainError(ErrorCode.Conflict, `replication.primary: ${message}`, [{ field: 'replication.primary', rule: 'promote', message }]);
}

export function toReplicationSettingsResponse(r: ReplicationConfig | null): ReplicationSettingsResponse {
  if (r === null) return { mode: 'none' };
  const { mode, primary, maxStalenessMs, promotion, promotionDelaySeconds, conflictResolution, writeFqdn, notifyUrl } = r;
  return {
    mode, primary, maxStalenessMs, promotion, promotionDelaySeconds, conflictResolution, writeFqdn,
    // Credentials in the URL are secrets like notifySecret: never shown.
    notifyUrl: notifyUrl === null ? null : redactUrlCredentials(notifyUrl),
    notifySecretSet: r.notifySecret !== null,
  };
}

/** Entity rows written per INSERT and names per look-up in createMany. */
const CHUNK = 500;

/** The rules of a service that need only the names of the existing regions (no replication). */
function serviceProblems(s: ServiceEntity, knownRegions: ReadonlySet<string>, earlier: readonly FieldProblem[] = []): FieldProblem[] {
  const problems: FieldProblem[] = [...earlier];
  s.regions.forEach((name, i) => {
    if (!knownRegions.has(name)) problems.push({ field: `regions[${i}]`, rule: 'exists', message: `region "${name}" does not exist` });
  });
  if (s.policy === 'geolocation' && (s.geolocation === null || Object.keys(s.geolocation).length === 0)) {
    problems.push({ field: 'geolocation', rule: 'required', message: 'is required for the geolocation policy (a map of location to regions)' });
  }
  if (s.geolocation !== null) {
    const inService = new Set(s.regions);
    const keys = Object.keys(s.geolocation);
    if (keys.length > 300) problems.push({ field: 'geolocation', rule: 'max-size', message: 'must have at most 300 entries' });
    for (const key of keys) {
      const field = `geolocation.${key}`;
      const isContinent = key.startsWith('continent:') && CONTINENT_CODES.includes(key.slice(10));
      if (key !== '*' && !isContinent && !isAssignedCountry(key)) {
        problems.push({ field, rule: 'location-key', message: 'keys must be an ISO country code (e.g. DE), "continent:XX" (AF AN AS EU NA OC SA) or "*"' });
        continue;
      }
      const list = s.geolocation[key];
      if (!Array.isArray(list) || list.length === 0 || !list.every((r) => typeof r === 'string')) {
        problems.push({ field, rule: 'region-list', message: 'must be a non-empty list of region names' });
        continue;
      }
      list.forEach((r, i) => {
        if (!inService.has(r)) problems.push({ field: `${field}[${i}]`, rule: 'service-region', message: `region "${r}" is not one of the service's regions` });
      });
    }
  }
  return problems;
}
