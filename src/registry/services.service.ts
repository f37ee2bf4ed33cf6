import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource, EntityManager, In } from 'typeorm';
import { DomainError, FieldProblem } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { CONTINENT_CODES, isAssignedCountry } from '../common/countries';
import { Page, PageRequest, toPage } from '../common/paging';
import { RegionEntity } from './region.entity';
import { RecordEntity } from './zone.entity';
import { ServiceEntity } from './service.entity';
import { CreateServiceDto, ServiceView, UpdateServiceDto } from './dto/service.dto';
import { ZonesService } from './zones.service';
import { REGISTRY_CHANGED, RegistryChangedEvent } from './registry-events';

export const SERVICE_DEFAULTS = {
  policy: 'proximity',
  ttl: 30,
  residency: 'gdpr',
  unknownLocation: 'route',
  whenAllUnhealthy: 'fail-open',
  answerCount: 1,
} as const;

/** Routed services: names inside a zone whose A/AAAA answers come from the routing engine. */
@Injectable()
export class ServicesService {
  constructor(
    private readonly ds: DataSource,
    private readonly zones: ZonesService,
    private readonly events: EventEmitter2,
  ) {}

  async create(dto: CreateServiceDto, em?: EntityManager): Promise<ServiceView> {
    const fqdn = normalizeName(dto.fqdn);
    const run = async (m: EntityManager) => {
      const zone = await this.zones.zoneFor(m, fqdn);
      if (!zone) throw DomainError.field('fqdn', 'in-zone', `${fqdn} is not inside any zone; create the zone first`);
      await this.zones.lockZone(m, zone.name);
      if (await m.findOneBy(ServiceEntity, { fqdn })) throw DomainError.conflict(`service "${fqdn}" already exists`);
      const clash = await m.find(RecordEntity, { where: { name: fqdn, type: In(['A', 'AAAA', 'CNAME']) } });
      if (clash.length > 0) {
        throw DomainError.conflict(`${fqdn} already has static ${clash.map((r) => r.type).join(', ')} records; delete them before routing the name`);
      }
      const service = m.create(ServiceEntity, {
        fqdn,
        zoneName: zone.name,
        policy: dto.policy ?? SERVICE_DEFAULTS.policy,
        regions: dto.regions,
        geolocation: dto.geolocation ?? null,
        ttl: dto.ttl ?? SERVICE_DEFAULTS.ttl,
        residency: dto.residency ?? SERVICE_DEFAULTS.residency,
        unknownLocation: dto.unknownLocation ?? SERVICE_DEFAULTS.unknownLocation,
        whenAllUnhealthy: dto.whenAllUnhealthy ?? SERVICE_DEFAULTS.whenAllUnhealthy,
        answerCount: dto.answerCount ?? SERVICE_DEFAULTS.answerCount,
      });
      await this.checkService(m, service);
      const saved = await m.save(service);
      await this.zones.bumpSerial(m, zone.name);
      return saved;
    };
    const saved = em ? await run(em) : await this.ds.transaction(run);
    if (!em) this.changed(fqdn);
    return toServiceView(saved);
  }

  async list(page: PageRequest): Promise<Page<ServiceView>> {
    const qb = this.ds.getRepository(ServiceEntity).createQueryBuilder('s').orderBy('s.fqdn', 'ASC').limit(page.limit + 1);
    if (page.after !== null) qb.where('s.fqdn > :after', { after: page.after });
    return toPage(await qb.getMany(), page, (s) => s.fqdn, toServiceView);
  }

  async get(fqdnIn: string): Promise<ServiceView> {
    const fqdn = normalizeName(fqdnIn);
    const s = await this.ds.manager.findOneBy(ServiceEntity, { fqdn });
    if (!s) throw DomainError.notFound('service', fqdn);
    return toServiceView(s);
  }

  async update(fqdnIn: string, dto: UpdateServiceDto, em?: EntityManager): Promise<ServiceView> {
    const fqdn = normalizeName(fqdnIn);
    const saved = await this.inTx(em, async (m) => {
      const s = await m.createQueryBuilder(ServiceEntity, 's').setLock('pessimistic_write').where('s.fqdn = :fqdn', { fqdn }).getOne();
      if (!s) throw DomainError.notFound('service', fqdn);
      if (dto.policy !== undefined) s.policy = dto.policy;
      if (dto.regions !== undefined) s.regions = dto.regions;
      if (dto.geolocation !== undefined) s.geolocation = dto.geolocation ?? null;
      if (dto.ttl !== undefined) s.ttl = dto.ttl;
      if (dto.residency !== undefined) s.residency = dto.residency;
      if (dto.unknownLocation !== undefined) s.unknownLocation = dto.unknownLocation;
      if (dto.whenAllUnhealthy !== undefined) s.whenAllUnhealthy = dto.whenAllUnhealthy;
      if (dto.answerCount !== undefined) s.answerCount = dto.answerCount;
      await this.checkService(m, s);
      const out = await m.save(s);
      await this.zones.bumpSerial(m, s.zoneName);
      return out;
    });
    this.changed(fqdn);
    return toServiceView(saved);
  }

  async remove(fqdnIn: string, em?: EntityManager): Promise<void> {
    const fqdn = normalizeName(fqdnIn);
    await this.inTx(em, async (m) => {
      const s = await m.findOneBy(ServiceEntity, { fqdn });
      if (!s) throw DomainError.notFound('service', fqdn);
      await m.delete(ServiceEntity, { fqdn });
      await this.zones.bumpSerial(m, s.zoneName);
    });
    this.changed(fqdn);
  }

  /** Cross-field and cross-entity rules; regions are share-locked so they cannot vanish before commit. */
  private async checkService(m: EntityManager, s: ServiceEntity): Promise<void> {
    const problems: FieldProblem[] = [];
    const found = await m
      .createQueryBuilder(RegionEntity, 'r')
      .setLock('pessimistic_read')
      .where('r.name IN (:...names)', { names: s.regions })
      .getMany();
    const known = new Set(found.map((r) => r.name));
    s.regions.forEach((name, i) => {
      if (!known.has(name)) problems.push({ field: `regions[${i}]`, rule: 'exists', message: `region "${name}" does not exist` });
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
    if (problems.length > 0) throw DomainError.validation(problems);
  }

  /** Runs in the caller's transaction when given one (config apply), else in a new one. */
  private inTx<T>(em: EntityManager | undefined, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return em ? fn(em) : this.ds.transaction(fn);
  }

  private changed(name: string): void {
    this.events.emit(REGISTRY_CHANGED, { kind: 'service', name } satisfies RegistryChangedEvent);
  }
}

export function toServiceView(s: ServiceEntity): ServiceView {
  return {
    fqdn: s.fqdn,
    zone: s.zoneName,
    policy: s.policy,
    regions: s.regions,
    geolocation: s.geolocation,
    ttl: s.ttl,
    residency: s.residency,
    unknownLocation: s.unknownLocation,
    whenAllUnhealthy: s.whenAllUnhealthy,
    answerCount: s.answerCount,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}
