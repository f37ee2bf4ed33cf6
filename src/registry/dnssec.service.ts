import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { EventBus, REGISTRY_CHANGED } from '../common/events';
import { AuditTrail } from '../common/audit';
import {
  ALGORITHM_NAMES,
  FLAGS_KSK,
  FLAGS_ZSK,
  dnskeyRdata,
  dnskeyText,
  dsText,
  generateDnssecKey,
  keyTag,
  sealSecret,
  type DnssecAlgorithm,
} from '../common/dnssec-keys';
import { ZoneEntity } from './zone.entity';
import { RegistryRepository } from './registry.repository';
import { DnssecRepository, type DnssecKeyRole, type DnssecKeyRow, type DnssecZoneRow } from './dnssec.repository';
import type { EnableDnssecDto } from './dto/dnssec.dto';

export interface DnssecKeyView {
  readonly id: string;
  readonly role: DnssecKeyRole;
  readonly algorithm: number;
  readonly algorithmName: string;
  readonly flags: number;
  readonly keyTag: number;
  readonly state: DnssecKeyRow['state'];
  /** The DNSKEY RDATA in presentation form. */
  readonly dnskey: string;
  /** The DS (SHA-256) for the registrar: SEP keys (CSK, KSK) only. */
  readonly ds: string | null;
  readonly createdAt: string;
  readonly publishedAt: string;
  readonly activeAt: string | null;
  readonly retiredAt: string | null;
}

export interface DnssecView {
  readonly zone: string;
  /** 'unsigned': no keys; 'signed'; 'unsigning': still signed, CDS/CDNSKEY delete published (RFC 8078). */
  readonly status: 'unsigned' | 'signed' | 'unsigning';
  readonly keys: readonly DnssecKeyView[];
  /** DS records to give the registrar (presentation form, without owner, class and TTL). */
  readonly ds: readonly string[];
  /** The same as full zone-file lines. */
  readonly dsRecords: readonly string[];
  readonly dnskeyRecords: readonly string[];
}

/**
 * DNSSEC per zone: enabling (new keys, sealed), the state shown to operators (DNSKEY, DS, key
 * states and timings), and the way back to unsigned. Private keys never leave this service
 * unsealed and are never returned.
 */
@Injectable()
export class DnssecService {
  private readonly logger = new Logger('dnssec');

  constructor(
    private readonly ds: DataSource,
    private readonly events: EventBus,
    private readonly audit: AuditTrail,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async get(nameIn: string): Promise<DnssecView> {
    const name = normalizeName(nameIn);
    const m = this.ds.manager;
    await this.mustFindZone(m, name);
    return this.view(name, await DnssecRepository.zone(m, name), await DnssecRepository.keys(m, name));
  }

  /** Signs a zone: a CSK (or KSK + ZSK) of the algorithm, active at once. 409 when it is signed already. */
  async enable(nameIn: string, dto: EnableDnssecDto): Promise<DnssecView> {
    const name = normalizeName(nameIn);
    const algorithm: DnssecAlgorithm = dto.algorithm ?? 13;
    const layout = dto.keys ?? 'csk';
    const result = await this.ds.transaction(async (m) => {
      await this.lockZone(m, name);
      const existing = await DnssecRepository.zone(m, name);
      if (existing !== null) {
        throw DomainError.conflict(
          existing.status === 'unsigning'
            ? `zone "${name}" is on its way to unsigned; finish that (DELETE again) before signing it anew`
            : `zone "${name}" is signed already; use POST /v1/zones/${name}/dnssec/rollover for new keys`,
        );
      }
      await DnssecRepository.insertZone(m, name);
      const roles: DnssecKeyRole[] = layout === 'csk' ? ['csk'] : ['ksk', 'zsk'];
      for (const role of roles) await this.addKey(m, name, role, algorithm, 'active');
      await RegistryRepository.bumpSerial(m, name);
      const view = this.view(name, await DnssecRepository.zone(m, name), await DnssecRepository.keys(m, name));
      await this.audit.record(m, [{ action: 'create', kind: 'dnssec', name, before: null, after: view }]);
      return view;
    });
    if (this.config.dnssec.kekFile !== null) {
      this.logger.warn(
        `zone ${name} signed with keys sealed by the generated key in ${this.config.dnssec.kekFile}: ` +
          'set DNSSEC_KEY_ENCRYPTION_KEY (the same on every instance) for production',
      );
    }
    this.changed(name);
    return result;
  }

  /**
   * The way back to unsigned (RFC 8078 §4): the first call keeps signing and publishes CDS and
   * CDNSKEY delete records, so a parent that scans them (or the operator at the registrar)
   * removes the DS; a second call, once the DS is gone from the parent, removes the keys.
   */
  async disable(nameIn: string): Promise<DnssecView> {
    const name = normalizeName(nameIn);
    const result = await this.ds.transaction(async (m) => {
      await this.lockZone(m, name);
      const zone = await DnssecRepository.zone(m, name);
      if (zone === null) throw DomainError.notFound('DNSSEC of zone', name);
      const before = this.view(name, zone, await DnssecRepository.keys(m, name));
      if (zone.status === 'signed') await DnssecRepository.setStatus(m, name, 'unsigning');
      else await DnssecRepository.deleteZone(m, name);
      await RegistryRepository.bumpSerial(m, name);
      const after = this.view(name, await DnssecRepository.zone(m, name), await DnssecRepository.keys(m, name));
      await this.audit.record(m, [{ action: zone.status === 'signed' ? 'update' : 'delete', kind: 'dnssec', name, before, after }]);
      return after;
    });
    this.changed(name);
    return result;
  }

  private async addKey(m: EntityManager, zoneName: string, role: DnssecKeyRole, algorithm: DnssecAlgorithm, state: DnssecKeyRow['state']): Promise<void> {
    const key = generateDnssecKey(algorithm);
    const flags = role === 'zsk' ? FLAGS_ZSK : FLAGS_KSK;
    const id = randomUUID();
    await DnssecRepository.insertKey(m, {
      id,
      zoneName,
      role,
      algorithm,
      flags,
      keyTag: keyTag(dnskeyRdata(flags, algorithm, key.publicKey)),
      publicKey: key.publicKey.toString('base64'),
      privateKeySealed: sealSecret(this.config.dnssec.kek, key.privateKeyDer, id),
      state,
    });
  }

  private view(name: string, zone: DnssecZoneRow | null, keys: readonly DnssecKeyRow[]): DnssecView {
    const views = keys.map((k): DnssecKeyView => {
      const pub = Buffer.from(k.publicKey, 'base64');
      return {
        id: k.id,
        role: k.role,
        algorithm: k.algorithm,
        algorithmName: ALGORITHM_NAMES[k.algorithm as DnssecAlgorithm] ?? String(k.algorithm),
        flags: k.flags,
        keyTag: k.keyTag,
        state: k.state,
        dnskey: dnskeyText(k.flags, k.algorithm, pub),
        ds: k.flags === FLAGS_KSK ? dsText(name, k.flags, k.algorithm, pub) : null,
        createdAt: iso(k.createdAt)!,
        publishedAt: iso(k.publishedAt)!,
        activeAt: iso(k.activeAt),
        retiredAt: iso(k.retiredAt),
      };
    });
    const ds = views.filter((k) => k.ds !== null && k.state !== 'retired').map((k) => k.ds!);
    return {
      zone: name,
      status: zone === null ? 'unsigned' : zone.status,
      keys: views,
      ds,
      dsRecords: ds.map((d) => `${name}. IN DS ${d}`),
      dnskeyRecords: views.map((k) => `${name}. IN DNSKEY ${k.dnskey}`),
    };
  }

  private async mustFindZone(m: EntityManager, name: string): Promise<ZoneEntity> {
    const zone = await m.findOneBy(ZoneEntity, { name });
    if (zone === null) throw DomainError.notFound('zone', name);
    return zone;
  }

  private async lockZone(m: EntityManager, name: string): Promise<ZoneEntity> {
    const zone = await m.createQueryBuilder(ZoneEntity, 'z').setLock('pessimistic_write').where('z.name = :name', { name }).getOne();
    if (zone === null) throw DomainError.notFound('zone', name);
    return zone;
  }

  private changed(name: string): void {
    this.events.emit(REGISTRY_CHANGED, { kind: 'dnssec', name });
  }
}

function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}
