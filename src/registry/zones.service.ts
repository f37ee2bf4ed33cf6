import { Injectable } from '@nestjs/common';
import { RegistryRepository } from './registry.repository';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { isInZone, normalizeName, checkDomainName } from '../common/dns-name';
import { Page, PageRequest, pageOrderedBy, toPage } from '../common/paging';
import { RecordEntity, ZoneEntity } from './zone.entity';
import { ServiceEntity } from './service.entity';
import { CreateRecordDto, CreateZoneDto, RECORD_DEFAULTS, RecordResponse, UpdateZoneDto, ZONE_DEFAULTS, ZoneResponse } from './dto/zone.dto';
import { normalizeRecordValues } from './record-values';
import { placementProblem } from './modern-record-values';
import { cnameLoop } from './cname-loop';
import { EventBus, REGISTRY_CHANGED, RegistryChangedEvent } from '../common/events';
import { AuditTrail, withoutSecrets } from '../common/audit';

/** Zones and their static records. Every change in a zone increases its SOA serial in the same transaction. */
@Injectable()
export class ZonesService {
  constructor(
    private readonly ds: DataSource,
    private readonly events: EventBus,
    private readonly audit: AuditTrail,
  ) {}

  async create(dto: CreateZoneDto, em?: EntityManager): Promise<ZoneResponse> {
    const name = normalizeName(dto.name);
    if (!name.includes('.')) throw DomainError.field('name', 'domain-name', 'must have at least two labels (e.g. example.com)');
    const run = async (m: EntityManager) => {
      if (await m.findOneBy(ZoneEntity, { name })) throw DomainError.conflict(`zone "${name}" already exists`);
      const zone = await m.save(m.create(ZoneEntity, { ...zoneFromRequest(dto), serial: 1 }));
      await this.audit.record(m, [{ action: 'create', kind: 'zone', name, before: null, after: zone }]);
      return zone;
    };
    const saved = em ? await run(em) : await this.ds.transaction(run);
    if (!em) this.changed('zone', name);
    return toZoneResponse(saved);
  }

  async list(page: PageRequest): Promise<Page<ZoneResponse>> {
    return pageOrderedBy(this.ds.getRepository(ZoneEntity), 'name', page, toZoneResponse);
  }

  async get(name: string): Promise<ZoneResponse> {
    return toZoneResponse(await this.mustFind(this.ds.manager, normalizeName(name)));
  }

  async update(nameIn: string, dto: UpdateZoneDto, em?: EntityManager): Promise<ZoneResponse> {
    const name = normalizeName(nameIn);
    const saved = await this.inTx(em, async (m) => {
      const zone = await this.lockZone(m, name);
      const before = withoutSecrets(zone);
      if (dto.nameservers !== undefined) zone.nameservers = dto.nameservers.map(normalizeName);
      if (dto.hostmaster !== undefined) zone.hostmaster = normalizeName(dto.hostmaster);
      for (const k of ['ttl', 'refresh', 'retry', 'expire', 'negativeTtl'] as const) {
        if (dto[k] !== undefined && dto[k] !== null) zone[k] = dto[k] as number;
      }
      zone.serial = zone.serial + 1;
      const saved = await m.save(zone);
      await this.audit.record(m, [{ action: 'update', kind: 'zone', name, before, after: saved }]);
      return saved;
    });
    if (!em) this.changed('zone', name);
    return toZoneResponse(saved);
  }

  async remove(nameIn: string, em?: EntityManager): Promise<void> {
    const name = normalizeName(nameIn);
    await this.inTx(em, async (m) => {
      const zone = await this.lockZone(m, name);
      const services = await m.find(ServiceEntity, { where: { zoneName: name }, order: { fqdn: 'ASC' }, take: 10 });
      if (services.length > 0) {
        throw DomainError.inUse(`zone "${name}" is still used by services: ${services.map((s) => s.fqdn).join(', ')}; delete them first`);
      }
      const records = await m.find(RecordEntity, { where: { zoneName: name }, order: { name: 'ASC', type: 'ASC' } });
      await m.delete(RecordEntity, { zoneName: name });
      await m.delete(ZoneEntity, { name });
      await this.audit.record(m, [
        ...records.map((r) => ({ action: 'delete' as const, kind: 'record' as const, name: recordName(r), before: r, after: null })),
        { action: 'delete', kind: 'zone', name, before: zone, after: null },
      ]);
    });
    if (!em) this.changed('zone', name);
  }

  async addRecord(zoneNameIn: string, dto: CreateRecordDto, em?: EntityManager): Promise<RecordResponse> {
    const zoneName = normalizeName(zoneNameIn);
    const run = async (m: EntityManager) => {
      const zone = await this.lockZone(m, zoneName);
      const fqdn = resolveRecordName(dto.name, zoneName);
      const { values, problems } = normalizeRecordValues(dto.type, dto.values);
      if (problems.length > 0) throw DomainError.validation(problems);
      const atName = await m.find(RecordEntity, { where: { zoneName, name: fqdn } });
      if (dto.type === 'CNAME') {
        if (fqdn === zoneName) throw DomainError.field('type', 'cname-apex', 'a CNAME cannot be at the zone apex (RFC 1034 §3.6.2)');
        if (atName.length > 0) {
          throw DomainError.field('type', 'cname-exclusive', `${fqdn} already has ${atName.map((r) => r.type).join(', ')} data; a CNAME cannot stand beside other data (RFC 2181 §10.1)`);
        }
        await refuseCnameLoop(m, zoneName, fqdn, values[0]);
      } else if (atName.some((r) => r.type === 'CNAME')) {
        throw DomainError.field('type', 'cname-exclusive', `${fqdn} has a CNAME; no other data may stand beside it (RFC 2181 §10.1)`);
      }
      const placement = placementProblem(dto.type, fqdn, zoneName, atName.map((r) => r.type));
      if (placement !== null) throw DomainError.validation([placement]);
      if (atName.some((r) => r.type === dto.type)) {
        throw DomainError.conflict(`${fqdn} already has a ${dto.type} record set; delete it first to replace it`);
      }
      if (['A', 'AAAA', 'CNAME'].includes(dto.type) && (await m.findOneBy(ServiceEntity, { fqdn }))) {
        throw DomainError.conflict(`${fqdn} is a routed service; its A and AAAA answers come from the routing engine`);
      }
      if (['A', 'AAAA', 'CNAME'].includes(dto.type)) {
        const writer = await RegistryRepository.writerOf(m, fqdn);
        if (writer !== null) throw DomainError.conflict(`${fqdn} is the write name of service ${writer}; its answers come from the routing engine`);
      }
      const rec = m.create(RecordEntity, { id: randomUUID(), zoneName, name: fqdn, type: dto.type, ttl: dto.ttl ?? RECORD_DEFAULTS.ttl, values });
      const saved = await m.save(rec);
      zone.serial += 1;
      await m.save(zone);
      await this.audit.record(m, [{ action: 'create', kind: 'record', name: recordName(saved), before: null, after: saved }]);
      return saved;
    };
    const saved = em ? await run(em) : await this.ds.transaction(run);
    if (!em) this.changed('record', zoneName);
    return toRecordResponse(saved);
  }

  async listRecords(zoneNameIn: string, page: PageRequest): Promise<Page<RecordResponse>> {
    const zoneName = normalizeName(zoneNameIn);
    await this.mustFind(this.ds.manager, zoneName);
    // Stable order: by owner name, then type, then id; the cursor carries all three.
    const qb = this.ds
      .getRepository(RecordEntity)
      .createQueryBuilder('r')
      .where('r.zone_name = :zoneName', { zoneName })
      .orderBy('r.name', 'ASC')
      .addOrderBy('r.type', 'ASC')
      .addOrderBy('r.id', 'ASC')
      .limit(page.limit + 1);
    if (page.after !== null) {
      const [n, t, id] = page.after.split('\u0000');
      qb.andWhere('(r.name, r.type, r.id) > (:n, :t, :id)', { n, t, id });
    }
    return toPage(await qb.getMany(), page, (r) => `${r.name}\u0000${r.type}\u0000${r.id}`, toRecordResponse);
  }

  async removeRecord(zoneNameIn: string, id: string, em?: EntityManager): Promise<void> {
    const zoneName = normalizeName(zoneNameIn);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw DomainError.notFound('record', id);
    await this.inTx(em, async (m) => {
      const zone = await this.lockZone(m, zoneName);
      const old = await m.findOneBy(RecordEntity, { id, zoneName });
      if (!old) throw DomainError.notFound('record', id);
      await m.delete(RecordEntity, { id, zoneName });
      zone.serial += 1;
      await m.save(zone);
      await this.audit.record(m, [{ action: 'delete', kind: 'record', name: recordName(old), before: old, after: null }]);
    });
    if (!em) this.changed('record', zoneName);
  }

  /** The zone a name belongs to: the longest zone name that is a suffix of it. */
  async zoneFor(m: EntityManager, fqdn: string): Promise<ZoneEntity | null> {
    const labels = fqdn.split('.');
    const candidates = labels.map((_, i) => labels.slice(i).join('.'));
    const zones = await m.createQueryBuilder(ZoneEntity, 'z').where('z.name IN (:...c)', { c: candidates }).getMany();
    zones.sort((a, b) => b.name.length - a.name.length);
    return zones[0] ?? null;
  }

  async bumpSerial(m: EntityManager, zoneName: string): Promise<void> {
    await RegistryRepository.bumpSerial(m, zoneName);
  }

  async lockZone(m: EntityManager, name: string): Promise<ZoneEntity> {
    const zone = await m.createQueryBuilder(ZoneEntity, 'z').setLock('pessimistic_write').where('z.name = :name', { name }).getOne();
    if (!zone) throw DomainError.notFound('zone', name);
    return zone;
  }

  private async mustFind(m: EntityManager, name: string): Promise<ZoneEntity> {
    const zone = await m.findOneBy(ZoneEntity, { name });
    if (!zone) throw DomainError.notFound('zone', name);
    return zone;
  }

  /** Runs in the caller's transaction when given one (config apply), else in a new one. */
  private inTx<T>(em: EntityManager | undefined, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return em ? fn(em) : this.ds.transaction(fn);
  }

  private changed(kind: RegistryChangedEvent['kind'], name: string): void {
    this.events.emit(REGISTRY_CHANGED, { kind, name });
  }
}

/** A zone's stored fields (all but the serial and the timestamps). */
export type ZoneFields = Omit<ZoneEntity, 'serial' | 'createdAt' | 'updatedAt'>;

/** The zone a create request makes, as stored: names normalised, defaults filled. */
export function zoneFromRequest(dto: CreateZoneDto): ZoneFields {
  return {
    name: normalizeName(dto.name),
    nameservers: dto.nameservers.map(normalizeName),
    hostmaster: normalizeName(dto.hostmaster),
    ttl: dto.ttl ?? ZONE_DEFAULTS.ttl,
    refresh: dto.refresh ?? ZONE_DEFAULTS.refresh,
    retry: dto.retry ?? ZONE_DEFAULTS.retry,
    expire: dto.expire ?? ZONE_DEFAULTS.expire,
    negativeTtl: dto.negativeTtl ?? ZONE_DEFAULTS.negativeTtl,
  };
}

/** "@" is the apex; a name ending in the zone (with or without the final dot) is fully qualified; else relative. */
export function resolveRecordName(nameIn: string, zone: string): string {
  const raw = nameIn.trim().toLowerCase();
  let fqdn: string;
  if (raw === '@' || raw === '') fqdn = zone;
  else if (raw.endsWith('.')) fqdn = normalizeName(raw);
  else if (isInZone(raw, zone)) fqdn = raw;
  else fqdn = `${raw}.${zone}`;
  const problem = checkDomainName(fqdn, { allowWildcard: true, allowUnderscore: true });
  if (problem) throw DomainError.field('name', 'domain-name', problem);
  if (!isInZone(fqdn, zone)) throw DomainError.field('name', 'in-zone', `${fqdn} is outside the zone ${zone}`);
  return fqdn;
}

/** A record set as the audit trail and plans name it: "<owner> <type> in <zone>". */
function recordName(r: RecordEntity): string {
  return `${relativeName(r.name, r.zoneName)} ${r.type} in ${r.zoneName}`;
}

export function relativeName(fqdn: string, zone: string): string {
  return fqdn === zone ? '@' : fqdn.slice(0, fqdn.length - zone.length - 1);
}

/** A zone's own fields (what a document and a response show of it). */
export function zoneFieldsOf(z: ZoneFields): ZoneFields {
  return { name: z.name, nameservers: z.nameservers, hostmaster: z.hostmaster, ttl: z.ttl, refresh: z.refresh, retry: z.retry, expire: z.expire, negativeTtl: z.negativeTtl };
}

export function toZoneResponse(z: ZoneEntity): ZoneResponse {
  return { ...zoneFieldsOf(z), serial: z.serial, createdAt: z.createdAt.toISOString(), updatedAt: z.updatedAt.toISOString() };
}

export function toRecordResponse(r: RecordEntity): RecordResponse {
  return { id: r.id, zone: r.zoneName, name: relativeName(r.name, r.zoneName), fqdn: r.name, type: r.type, ttl: r.ttl, values: r.values };
}

/** A CNAME that points at itself, or closes a chain of the zone's CNAMEs into a loop, is refused (400). */
async function refuseCnameLoop(m: EntityManager, zoneName: string, owner: string, target: string): Promise<void> {
  const existing = new Map<string, string>();
  if (target !== owner) {
    for (const r of await m.find(RecordEntity, { where: { zoneName, type: 'CNAME' } })) existing.set(r.name, r.values[0]);
  }
  const loop = cnameLoop(owner, target, existing);
  if (loop !== null) {
    throw DomainError.field('values', 'cname-loop', `a CNAME to ${target} would loop: ${loop.join(' -> ')} (RFC 1034 §3.6.2)`);
  }
}
