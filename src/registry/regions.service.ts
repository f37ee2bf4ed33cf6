import { Injectable } from '@nestjs/common';
import { RegistryRepository } from './registry.repository';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, FieldProblem } from '../common/domain-error';
import { redactUrlCredentials } from '../common/outbound-policy';
import { canonicalIp } from '../common/ip';
import { checkDomainName, normalizeName } from '../common/dns-name';
import { Page, PageRequest, pageOrderedBy } from '../common/paging';
import { jurisdictionOf } from '../routing/jurisdiction';
import { AnycastSpec, HealthCheckSpec, RegionEntity } from './region.entity';
import { ServiceEntity } from './service.entity';
import {
  ANYCAST_DEFAULTS, AnycastDto, CreateRegionDto, EndpointsDto, HEALTH_CHECK_DEFAULTS, HealthCheckDto, REGION_DEFAULTS, RegionResponse, UpdateRegionDto,
} from './dto/region.dto';
import { EventBus, REGISTRY_CHANGED } from '../common/events';
import { webhookSecretProblem } from '../common/webhook-secret';
import { AuditTrail, withoutSecrets } from '../common/audit';

/**
 * Reads a region's current health for API responses (unknown until it reports). Implemented by
 * the health module, which sits above the registry; the application module binds it.
 */
export abstract class RegionHealthReader {
  abstract healthOf(region: string): { status: string; since: string | null; reason: string | null };
}

@Injectable()
export class RegionsService {
  constructor(
    private readonly ds: DataSource,
    private readonly events: EventBus,
    private readonly health: RegionHealthReader,
    private readonly audit: AuditTrail,
  ) {}

  async create(dto: CreateRegionDto, em?: EntityManager): Promise<RegionResponse> {
    const run = async (m: EntityManager) => {
      if (await m.findOneBy(RegionEntity, { name: dto.name })) throw DomainError.conflict(`region "${dto.name}" already exists`);
      const region = m.create(RegionEntity, regionFromRequest(dto));
      checkRegion(region);
      const saved = await m.save(region);
      await this.audit.record(m, [{ action: 'create', kind: 'region', name: saved.name, before: null, after: saved }]);
      return saved;
    };
    const saved = em ? await run(em) : await this.ds.transaction(run);
    if (!em) this.changed(saved.name);
    return this.toResponse(saved);
  }

  async list(page: PageRequest): Promise<Page<RegionResponse>> {
    return pageOrderedBy(this.ds.getRepository(RegionEntity), 'name', page, (r) => this.toResponse(r));
  }

  async get(name: string): Promise<RegionResponse> {
    return this.toResponse(await this.find(name));
  }

  async find(name: string): Promise<RegionEntity> {
    const region = await this.ds.manager.findOneBy(RegionEntity, { name });
    if (!region) throw DomainError.notFound('region', name);
    return region;
  }

  async update(name: string, dto: UpdateRegionDto, em?: EntityManager): Promise<RegionResponse> {
    const saved = await this.inTx(em, async (m) => {
      const region = await m.createQueryBuilder(RegionEntity, 'r').setLock('pessimistic_write').where('r.name = :name', { name }).getOne();
      if (!region) throw DomainError.notFound('region', name);
      const before = withoutSecrets(region);
      if (dto.countryCode !== undefined) region.countryCode = dto.countryCode;
      if (dto.location !== undefined) {
        region.latitude = dto.location.latitude;
        region.longitude = dto.location.longitude;
      }
      if (dto.endpoints !== undefined) Object.assign(region, normalizeEndpoints(dto.endpoints));
      if (dto.weight !== undefined) region.weight = dto.weight;
      if (dto.drained !== undefined) region.drained = dto.drained;
      if (dto.capacity !== undefined) region.capacity = dto.capacity ?? null;
      if (dto.healthCheck !== undefined) region.healthCheck = dto.healthCheck ? normalizeHealthCheck(dto.healthCheck) : null;
      if (dto.heartbeatTimeoutSeconds !== undefined) region.heartbeatTimeoutSeconds = dto.heartbeatTimeoutSeconds ?? null;
      if (dto.webhookSecret !== undefined) region.webhookSecret = dto.webhookSecret ?? null;
      if (dto.anycast !== undefined) region.anycast = normalizeAnycast(dto.anycast);
      checkRegion(region);
      const users = await m.createQueryBuilder(ServiceEntity, 's').where('s.regions @> :r::jsonb', { r: JSON.stringify([name]) }).getMany();
      for (const zone of new Set(users.map((s) => s.zoneName))) {
        await RegistryRepository.bumpSerial(m, zone);
      }
      const saved = await m.save(region);
      await this.audit.record(m, [{ action: 'update', kind: 'region', name, before, after: saved }]);
      return saved;
    });
    if (!em) this.changed(name);
    return this.toResponse(saved);
  }

  async remove(name: string, em?: EntityManager): Promise<void> {
    await this.inTx(em, async (m) => {
      const region = await m.createQueryBuilder(RegionEntity, 'r').setLock('pessimistic_write').where('r.name = :name', { name }).getOne();
      if (!region) throw DomainError.notFound('region', name);
      const users = await m
        .createQueryBuilder(ServiceEntity, 's')
        .where('s.regions @> :r::jsonb', { r: JSON.stringify([name]) })
        .orderBy('s.fqdn', 'ASC')
        .getMany();
      if (users.length > 0) {
        throw DomainError.inUse(`region "${name}" is still used by services: ${users.map((s) => s.fqdn).join(', ')}; remove it from them first`);
      }
      await m.delete(RegionEntity, { name });
      await this.audit.record(m, [{ action: 'delete', kind: 'region', name, before: region, after: null }]);
    });
    if (!em) this.changed(name);
  }

  toResponse(r: RegionEntity): RegionResponse {
    return {
      name: r.name,
      countryCode: r.countryCode,
      jurisdiction: jurisdictionOf(r.countryCode),
      location: { latitude: r.latitude, longitude: r.longitude },
      endpoints: { ipv4: r.ipv4, ipv6: r.ipv6, baseUrl: r.baseUrl },
      weight: r.weight,
      drained: r.drained,
      capacity: r.capacity,
      healthCheck: r.healthCheck ? { ...r.healthCheck, target: redactUrlCredentials(r.healthCheck.target) } : null,
      heartbeatTimeoutSeconds: r.heartbeatTimeoutSeconds,
      webhookSecretSet: r.webhookSecret !== null,
      anycast: r.anycast,
      health: this.health.healthOf(r.name),
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    };
  }

  /** Runs in the caller's transaction when given one (config apply), else in a new one. */
  private inTx<T>(em: EntityManager | undefined, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return em ? fn(em) : this.ds.transaction(fn);
  }

  private changed(name: string): void {
    this.events.emit(REGISTRY_CHANGED, { kind: 'region', name });
  }
}

/** A region's stored fields (all but the timestamps). */
export type RegionFields = Omit<RegionEntity, 'createdAt' | 'updatedAt'>;

/** The region a create request makes, as stored: defaults filled, addresses canonical (checkRegion not yet applied). */
export function regionFromRequest(dto: CreateRegionDto): RegionFields {
  return {
    name: dto.name,
    countryCode: dto.countryCode,
    latitude: dto.location.latitude,
    longitude: dto.location.longitude,
    ...normalizeEndpoints(dto.endpoints),
    weight: dto.weight ?? REGION_DEFAULTS.weight,
    drained: dto.drained ?? REGION_DEFAULTS.drained,
    capacity: dto.capacity ?? null,
    healthCheck: dto.healthCheck ? normalizeHealthCheck(dto.healthCheck) : null,
    heartbeatTimeoutSeconds: dto.heartbeatTimeoutSeconds ?? null,
    webhookSecret: dto.webhookSecret ?? null,
    anycast: normalizeAnycast(dto.anycast),
  };
}

/** Endpoints as stored: addresses canonical and unique, the base URL without trailing slashes. */
export function normalizeEndpoints(e: EndpointsDto): Pick<RegionEntity, 'ipv4' | 'ipv6' | 'baseUrl'> {
  return {
    ipv4: [...new Set((e.ipv4 ?? []).map(canonicalIp))],
    ipv6: [...new Set((e.ipv6 ?? []).map(canonicalIp))],
    baseUrl: e.baseUrl ? e.baseUrl.replace(/\/+$/, '') : null,
  };
}

/** A dns check names a valid question and pattern; the dns fields belong to dns checks only. */
function dnsCheckProblems(hc: NonNullable<RegionEntity['healthCheck']>): FieldProblem[] {
  if (hc.type !== 'dns') return [];
  const problems: FieldProblem[] = [];
  const nameProblem = hc.queryName === undefined ? 'is required for a dns check' : checkDomainName(hc.queryName, { allowUnderscore: true });
  if (nameProblem !== null) problems.push({ field: 'healthCheck.queryName', rule: 'domain-name', message: nameProblem });
  if (hc.answerPattern !== undefined) {
    try {
      new RegExp(hc.answerPattern);
    } catch (error) {
      problems.push({ field: 'healthCheck.answerPattern', rule: 'regexp', message: `is not a regular expression: ${(error as Error).message}` });
    }
  }
  return problems;
}

/** Rules that span fields (class-validator checks each field alone). */
function checkRegion(r: RegionEntity): void {
  const problems: FieldProblem[] = [];
  if (r.ipv4.length === 0 && r.ipv6.length === 0 && r.baseUrl === null) {
    problems.push({ field: 'endpoints', rule: 'required', message: 'must have at least one of ipv4, ipv6 or baseUrl' });
  }
  if (r.baseUrl !== null) {
    const u = new URL(r.baseUrl);
    if (u.search || u.hash || u.username || u.password) {
      problems.push({ field: 'endpoints.baseUrl', rule: 'base-url', message: 'must be scheme://host[:port][/path] without credentials, query or fragment' });
    }
  }
  const hc = r.healthCheck;
  if (hc) {
    if (hc.type === 'tcp' || hc.type === 'dns') {
      if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(hc.target) || Number(hc.target.split(':').pop()) > 65535) {
        problems.push({ field: 'healthCheck.target', rule: 'host-port', message: `must be host:port for a ${hc.type} check (e.g. 192.0.2.10:${hc.type === 'dns' ? 53 : 443})` });
      }
      problems.push(...dnsCheckProblems(hc));
    } else {
      let url: URL | null;
      try {
        url = new URL(hc.target);
      } catch {
        url = null;
      }
      if (!url || url.protocol !== `${hc.type}:`) {
        problems.push({ field: 'healthCheck.target', rule: 'url', message: `must be an ${hc.type}:// URL for an ${hc.type} check` });
      }
    }
    if (hc.timeoutMs >= hc.intervalSeconds * 1000) {
      problems.push({ field: 'healthCheck.timeoutMs', rule: 'less-than-interval', message: 'must be shorter than intervalSeconds, so probes never overlap' });
    }
    if (hc.insecureSkipVerify && hc.type !== 'https') {
      problems.push({ field: 'healthCheck.insecureSkipVerify', rule: 'https-only', message: 'only applies to https checks' });
    }
    for (const part of hc.expectedStatus.split(',')) {
      const [lo, hi] = part.split('-').map(Number);
      if (lo < 100 || lo > 599 || (hi !== undefined && (hi < lo || hi > 599))) {
        problems.push({ field: 'healthCheck.expectedStatus', rule: 'status-range', message: `"${part}" is not a status code or range within 100-599` });
      }
    }
  }
  if (r.webhookSecret !== null) {
    const problem = webhookSecretProblem(r.webhookSecret);
    if (problem) problems.push({ field: 'webhookSecret', rule: 'webhook-secret', message: problem });
  }
  if (r.anycast && new Set(r.anycast.upstreams).size !== r.anycast.upstreams.length) {
    problems.push({ field: 'anycast.upstreams', rule: 'unique', message: 'must not repeat an ASN' });
  }
  if (r.anycast && r.anycast.upstreams.includes(r.anycast.originAsn)) {
    problems.push({ field: 'anycast.upstreams', rule: 'not-origin', message: 'must not contain the origin ASN' });
  }
  if (problems.length > 0) throw DomainError.validation(problems);
}

/** What a health check stores: defaults filled (HEALTH_CHECK_DEFAULTS). */
export function normalizeHealthCheck(d: HealthCheckDto): HealthCheckSpec {
  if (d.type !== 'dns') {
    const stray = (['queryName', 'queryType', 'transport', 'expectRcode', 'answerPattern'] as const).find((k) => d[k] !== undefined);
    if (stray !== undefined) throw DomainError.field(`healthCheck.${stray}`, 'dns-only', 'only applies to dns checks');
  }
  const intervalSeconds = d.intervalSeconds ?? HEALTH_CHECK_DEFAULTS.intervalSeconds;
  return {
    type: d.type,
    target: d.target,
    intervalSeconds,
    timeoutMs: d.timeoutMs ?? Math.min(HEALTH_CHECK_DEFAULTS.maxTimeoutMs, Math.floor((intervalSeconds * 1000) / 2)),
    healthyThreshold: d.healthyThreshold ?? HEALTH_CHECK_DEFAULTS.healthyThreshold,
    unhealthyThreshold: d.unhealthyThreshold ?? HEALTH_CHECK_DEFAULTS.unhealthyThreshold,
    expectedStatus: d.expectedStatus ?? HEALTH_CHECK_DEFAULTS.expectedStatus,
    ...(d.bodyContains !== undefined ? { bodyContains: d.bodyContains } : {}),
    ...(d.insecureSkipVerify !== undefined ? { insecureSkipVerify: d.insecureSkipVerify } : {}),
    ...(d.type === 'dns'
      ? {
          queryName: d.queryName === undefined ? undefined : normalizeName(d.queryName),
          queryType: d.queryType ?? 'A',
          transport: d.transport ?? 'udp',
          expectRcode: d.expectRcode ?? 'NOERROR',
          ...(d.answerPattern !== undefined ? { answerPattern: d.answerPattern } : {}),
        }
      : {}),
  };
}

/** What an anycast setting stores (null: none): defaults filled (ANYCAST_DEFAULTS). */
export function normalizeAnycast(d: AnycastDto | null | undefined): AnycastSpec | null {
  return d ? { originAsn: d.originAsn, upstreams: d.upstreams, prepend: d.prepend ?? ANYCAST_DEFAULTS.prepend } : null;
}
