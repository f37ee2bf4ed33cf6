import { Injectable } from '@nestjs/common';
import { heavyWork } from '../common/heavy-work';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { checkDomainName, normalizeName } from '../common/dns-name';
import { DomainError } from '../common/domain-error';
import { EventBus, REGISTRY_CHANGED } from '../common/events';
import { AuditChange, AuditTrail, withoutSecrets } from '../common/audit';
import { relativeName } from './zones.service';
import { ServiceEntity } from './service.entity';
import { RecordEntity, ZoneEntity } from './zone.entity';
import { planZoneImport, type ImportedZoneFields, type ZoneImportPlan } from './zone-import';
import type { ZoneFileProblem } from './zone-file';

export interface ZoneImportOptions {
  /** Check and count, write nothing. */
  readonly dryRun: boolean;
  /** Leave out the lines with problems (listed in `skipped`) instead of refusing the file. */
  readonly skipInvalid: boolean;
}

export interface ZoneImportResult {
  zone: string;
  dryRun: boolean;
  /** The zone did not exist and is created from the file's SOA and apex NS. */
  zoneCreated: boolean;
  /** SOA fields or nameservers differ from the zone's. */
  zoneChanged: boolean;
  records: { created: number; updated: number; deleted: number; unchanged: number };
  /** Lines left out (only with skipInvalid; without it they make the request a 400). */
  skipped: ZoneFileProblem[];
  /** The zone's serial after the import (unchanged when nothing changed). */
  serial: number | null;
}

/**
 * POST /v1/zones/{name}/import: the file becomes the zone's static data, all or nothing, in one
 * transaction — its SOA fields and apex NS become the zone's (the zone is created when it does not
 * exist), its record sets replace the zone's (sets equal to the stored ones are left alone, so
 * importing an export changes nothing and keeps the serial). The serial is georoute's: the file's
 * is ignored and the zone's grows by one when anything changed.
 */
@Injectable()
export class ZoneImportService {
  constructor(
    private readonly ds: DataSource,
    private readonly events: EventBus,
    private readonly audit: AuditTrail,
  ) {}

  import(nameIn: string, text: string, opts: ZoneImportOptions): Promise<ZoneImportResult> {
    return heavyWork.run(opts.dryRun ? 'zone import (dry run)' : 'zone import', () => this.importNow(nameIn, text, opts));
  }

  private async importNow(nameIn: string, text: string, opts: ZoneImportOptions): Promise<ZoneImportResult> {
    const zone = normalizeName(nameIn);
    const nameProblem = checkDomainName(zone);
    if (nameProblem !== null || !zone.includes('.')) throw DomainError.field('name', 'domain-name', nameProblem ?? 'must have at least two labels (e.g. example.com)');
    if (typeof text !== 'string' || text.trim() === '') throw DomainError.field('body', 'zone-file', 'send the master file as the request body (Content-Type: text/dns or text/plain)');
    const result = await this.ds.transaction(async (m) => {
      const plan = planZoneImport(text, zone, await this.serviceNames(m));
      if (plan.problems.length > 0 && !opts.skipInvalid) {
        throw DomainError.validation(plan.problems.map((p) => ({ field: p.line > 0 ? `line ${p.line}` : 'file', rule: p.rule, message: p.message })));
      }
      return this.apply(m, zone, plan, opts);
    });
    if (!opts.dryRun && (result.zoneCreated || result.zoneChanged || result.records.created + result.records.updated + result.records.deleted > 0)) {
      this.events.emit(REGISTRY_CHANGED, { kind: 'import', name: zone });
    }
    return result;
  }

  /** Names whose A, AAAA and CNAME the routing engine owns: every service and write name. */
  private async serviceNames(m: EntityManager): Promise<Set<string>> {
    const names = new Set<string>();
    for (const s of await m.find(ServiceEntity, { select: { fqdn: true, replication: true } })) {
      names.add(s.fqdn);
      const write = s.replication?.writeFqdn;
      if (typeof write === 'string') names.add(write);
    }
    return names;
  }

  private async apply(m: EntityManager, name: string, plan: ZoneImportPlan, opts: ZoneImportOptions): Promise<ZoneImportResult> {
    let zone = await m.createQueryBuilder(ZoneEntity, 'z').setLock('pessimistic_write').where('z.name = :name', { name }).getOne();
    const zoneCreated = zone === null;
    if (zone === null && plan.zone === null) {
      throw DomainError.field('file', 'soa', `zone ${name} does not exist: the file needs its SOA and apex NS records to create it`);
    }
    const fields = plan.zone;
    const zoneChanged = zone !== null && fields !== null && !sameZoneFields(zone, fields);
    const current = zone === null ? [] : await m.find(RecordEntity, { where: { zoneName: name } });
    const byKey = new Map(current.map((r) => [`${r.name}\u0000${r.type}`, r]));
    const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const writes: RecordEntity[] = [];
    const replaced = new Map<string, RecordEntity>();
    for (const set of plan.records) {
      const key = `${set.name}\u0000${set.type}`;
      const stored = byKey.get(key);
      byKey.delete(key);
      if (stored !== undefined && stored.ttl === set.ttl && stored.values.join('\u0000') === set.values.join('\u0000')) {
        counts.unchanged++;
        continue;
      }
      if (stored !== undefined) counts.updated++;
      else counts.created++;
      const write = m.create(RecordEntity, { id: stored?.id ?? randomUUID(), zoneName: name, name: set.name, type: set.type, ttl: set.ttl, values: set.values });
      if (stored !== undefined) replaced.set(write.id, stored);
      writes.push(write);
    }
    const removed = [...byKey.values()];
    counts.deleted = removed.length;
    const changed = zoneCreated || zoneChanged || writes.length > 0 || removed.length > 0;
    let serial = zone?.serial ?? null;
    if (!opts.dryRun && changed) {
      const zoneBefore = zone === null ? null : withoutSecrets(zone);
      if (zone === null) {
        zone = m.create(ZoneEntity, { name, ...fields!, serial: 0 });
      } else if (fields !== null) {
        Object.assign(zone, fields);
      }
      zone.serial = Number(zone.serial) + 1;
      zone = await m.save(zone);
      if (removed.length > 0) await m.remove(removed);
      if (writes.length > 0) await m.save(writes);
      serial = zone.serial;
      const recordName = (r: RecordEntity) => `${relativeName(r.name, name)} ${r.type} in ${name}`;
      const changes: AuditChange[] = [];
      if (zoneCreated || zoneChanged) changes.push({ action: zoneCreated ? 'create' : 'update', kind: 'zone', name, before: zoneBefore, after: zone });
      for (const r of removed) changes.push({ action: 'delete', kind: 'record', name: recordName(r), before: r, after: null });
      for (const w of writes) changes.push({ action: replaced.has(w.id) ? 'update' : 'create', kind: 'record', name: recordName(w), before: replaced.get(w.id) ?? null, after: w });
      await this.audit.record(m, changes);
    }
    return { zone: name, dryRun: opts.dryRun, zoneCreated, zoneChanged, records: counts, skipped: opts.skipInvalid ? plan.problems : [], serial };
  }
}

function sameZoneFields(zone: ZoneEntity, f: ImportedZoneFields): boolean {
  return (
    zone.hostmaster === f.hostmaster &&
    zone.ttl === f.ttl &&
    zone.refresh === f.refresh &&
    zone.retry === f.retry &&
    zone.expire === f.expire &&
    zone.negativeTtl === f.negativeTtl &&
    zone.nameservers.join(',') === f.nameservers.join(',')
  );
}
