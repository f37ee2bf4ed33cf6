import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
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
import type { EnableDnssecDto, RolloverDto } from './dto/dnssec.dto';

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
  /** The next step of the schedule for this key, if one is pending: 'active' or 'removed', and when. */
  readonly next: { readonly state: 'active' | 'removed'; readonly at: string } | null;
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
  /** The CDS records published now (RFC 7344; the delete form while unsigning, RFC 8078). */
  readonly cds: readonly string[];
}

/** Rollover waits in seconds before DNSSEC_TIMING_DIVISOR (RFC 6781 §4.1, RFC 7583). */
export interface RolloverTimings {
  /** Publication of a new key to its use: DNSKEY TTL (and the parent's DS TTL for SEP keys) + propagation. */
  readonly publish: (role: DnssecKeyRole) => number;
  /** Retirement of an old key to its removal: what still validates with it must have left every cache. */
  readonly retire: (role: DnssecKeyRole) => number;
}

/** Time for a change to reach every nameserver of the zone (and a margin). */
const PROPAGATION_SECONDS = 300;

/**
 * DNSSEC per zone: enabling (new keys, sealed), the state shown to operators (DNSKEY, DS, key
 * states and timings), and the way back to unsigned. Private keys never leave this service
 * unsealed and are never returned.
 */
@Injectable()
export class DnssecService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('dnssec');
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

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
    return this.view(name, await DnssecRepository.zone(m, name), await DnssecRepository.keys(m, name), await this.timings(m, name));
  }

  onApplicationBootstrap(): void {
    // The schedule: rollover steps and periodic rollovers. Every instance ticks; the zone row lock
    // and the state checks inside the transaction make a step happen once.
    const every = Math.max(200, Math.min(30_000, Math.floor(30_000 / this.config.dnssec.timingDivisor)));
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Starts a rollover of the zone's KSK, ZSK or CSK (default: the CSK, or the ZSK of a KSK+ZSK
   * zone). A new key of the same algorithm is published at once; the schedule (`tick`) makes it
   * active once the DNSKEY RRset (and, for SEP keys, the parent's DS via CDS) had time to
   * propagate, retires the old one, and removes it when nothing cached can still need it.
   */
  async rollover(nameIn: string, dto: RolloverDto): Promise<DnssecView> {
    const name = normalizeName(nameIn);
    const result = await this.ds.transaction(async (m) => {
      await this.lockZone(m, name);
      const zone = await DnssecRepository.zone(m, name);
      if (zone === null) throw DomainError.notFound('DNSSEC of zone', name);
      if (zone.status !== 'signed') throw DomainError.conflict(`zone "${name}" is on its way to unsigned; no rollover`);
      const keys = await DnssecRepository.keys(m, name);
      const role: DnssecKeyRole = dto.key ?? (keys.some((k) => k.role === 'csk') ? 'csk' : 'zsk');
      const current = keys.find((k) => k.role === role && k.state === 'active');
      if (current === undefined) throw DomainError.field('key', 'no-such-key', `zone "${name}" has no active ${role.toUpperCase()}`);
      if (keys.some((k) => k.role === role && k.state !== 'active')) {
        throw DomainError.conflict(`a ${role.toUpperCase()} rollover of zone "${name}" is under way; wait for it to finish`);
      }
      const before = this.view(name, zone, keys, null);
      await this.addKey(m, name, role, current.algorithm as DnssecAlgorithm, 'published');
      await RegistryRepository.bumpSerial(m, name);
      const after = this.view(name, zone, await DnssecRepository.keys(m, name), await this.timings(m, name));
      await this.audit.record(m, [{ action: 'update', kind: 'dnssec', name, before, after }]);
      return after;
    });
    this.changed(name);
    return result;
  }

  /**
   * One pass of the schedule over every signed zone: a published key whose wait is over becomes
   * active (the active key of its role is retired); a retired key whose wait is over is removed;
   * with DNSSEC_ROLLOVER_INTERVAL, a zone-signing key older than that starts a rollover.
   */
  async tick(now: number = Date.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const zone of await DnssecRepository.zones(this.ds.manager)) {
        if (zone.status !== 'signed') continue;
        try {
          await this.step(zone.zoneName, now);
        } catch (err) {
          this.logger.error(`DNSSEC schedule for ${zone.zoneName} failed: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      this.logger.warn(`DNSSEC schedule skipped: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async step(name: string, now: number): Promise<void> {
    const changed = await this.ds.transaction(async (m) => {
      const keys = await DnssecRepository.keys(m, name);
      const timings = await this.timings(m, name);
      const due = keys.filter((k) => {
        const next = nextStep(k, timings, this.config.dnssec.timingDivisor);
        return next !== null && next.at <= now;
      });
      const interval = this.config.dnssec.rolloverIntervalSeconds;
      const stale =
        interval > 0 && !keys.some((k) => k.state !== 'active' && k.role !== 'ksk')
          ? keys.find((k) => k.role !== 'ksk' && k.state === 'active' && k.activeAt !== null && now - new Date(k.activeAt).getTime() >= interval * 1000)
          : undefined;
      if (due.length === 0 && stale === undefined) return false;
      await this.lockZone(m, name);
      const zone = await DnssecRepository.zone(m, name);
      if (zone === null || zone.status !== 'signed') return false;
      const fresh = await DnssecRepository.keys(m, name);
      const before = this.view(name, zone, fresh, null);
      let acted = false;
      for (const k of fresh) {
        const next = nextStep(k, timings, this.config.dnssec.timingDivisor);
        if (next === null || next.at > now) continue;
        if (next.state === 'active') {
          for (const old of fresh) if (old.role === k.role && old.state === 'active') await DnssecRepository.setKeyState(m, old.id, 'retired');
          await DnssecRepository.setKeyState(m, k.id, 'active');
        } else {
          await DnssecRepository.deleteKey(m, k.id);
        }
        acted = true;
      }
      if (!acted && stale !== undefined) {
        await this.addKey(m, name, stale.role, stale.algorithm as DnssecAlgorithm, 'published');
        acted = true;
      }
      if (!acted) return false;
      await RegistryRepository.bumpSerial(m, name);
      const after = this.view(name, zone, await DnssecRepository.keys(m, name), timings);
      await this.audit.record(m, [{ action: 'transition', kind: 'dnssec', name, before, after }]);
      return true;
    });
    if (changed) {
      this.logger.log(`DNSSEC keys of ${name}: rollover step done`);
      this.changed(name);
    }
  }

  private async timings(m: EntityManager, name: string): Promise<RolloverTimings> {
    const { zoneTtl, maxTtl } = await DnssecRepository.ttls(m, name);
    const ds = this.config.dnssec.parentDsTtlSeconds;
    return {
      publish: (role) => (role === 'zsk' ? zoneTtl : Math.max(zoneTtl, ds)) + PROPAGATION_SECONDS,
      retire: (role) => (role === 'zsk' ? maxTtl : role === 'ksk' ? ds + zoneTtl : ds + maxTtl) + PROPAGATION_SECONDS,
    };
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
      const view = this.view(name, await DnssecRepository.zone(m, name), await DnssecRepository.keys(m, name), null);
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
      const before = this.view(name, zone, await DnssecRepository.keys(m, name), null);
      if (zone.status === 'signed') await DnssecRepository.setStatus(m, name, 'unsigning');
      else await DnssecRepository.deleteZone(m, name);
      await RegistryRepository.bumpSerial(m, name);
      const after = this.view(name, await DnssecRepository.zone(m, name), await DnssecRepository.keys(m, name), null);
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

  private view(name: string, zone: DnssecZoneRow | null, keys: readonly DnssecKeyRow[], timings: RolloverTimings | null): DnssecView {
    const views = keys.map((k): DnssecKeyView => {
      const next = timings === null ? null : nextStep(k, timings, this.config.dnssec.timingDivisor);
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
        next: next === null ? null : { state: next.state, at: new Date(next.at).toISOString() },
      };
    });
    const ds = views.filter((k) => k.ds !== null && k.state !== 'retired').map((k) => k.ds!);
    const signed = zone?.status === 'signed';
    return {
      zone: name,
      status: zone === null ? 'unsigned' : zone.status,
      keys: views,
      ds,
      dsRecords: ds.map((d) => `${name}. IN DS ${d}`),
      dnskeyRecords: views.map((k) => `${name}. IN DNSKEY ${k.dnskey}`),
      cds: zone === null ? [] : signed ? ds : ['0 0 0 00'],
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

/** The key's next scheduled step (ms epoch), from its state's timestamp and the waits. */
function nextStep(k: DnssecKeyRow, timings: RolloverTimings, divisor: number): { state: 'active' | 'removed'; at: number } | null {
  if (k.state === 'published') return { state: 'active', at: new Date(k.publishedAt).getTime() + (timings.publish(k.role) * 1000) / divisor };
  if (k.state === 'retired' && k.retiredAt !== null) return { state: 'removed', at: new Date(k.retiredAt).getTime() + (timings.retire(k.role) * 1000) / divisor };
  return null;
}

function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}
