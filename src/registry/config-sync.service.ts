import { Injectable } from '@nestjs/common';
import { heavyWork } from '../common/heavy-work';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { EventBus, REGISTRY_CHANGED } from '../common/events';
import { AuditTrail } from '../common/audit';
import { flattenValidationErrors } from '../common/validation';
import { ExportedDocument, recordDocument, regionDocument, serviceDocument, zoneDocument } from './config-document';
import { Change, DesiredRegistry, Operation, RegistryRows, changeOf, destructiveReason, planOperationsSteps } from './config-plan';
import { SliceClock, runInSlices } from '../common/slices';
import { CreateRegionDto } from './dto/region.dto';
import { CreateServiceDto } from './dto/service.dto';
import { CreateRecordDto, CreateZoneDto } from './dto/zone.dto';
import { RegionEntity } from './region.entity';
import { RegionsService } from './regions.service';
import { RegistryRepository } from './registry.repository';
import { ServicesService } from './services.service';
import { RecordEntity, ZoneEntity } from './zone.entity';
import { ZonesService } from './zones.service';

/**
 * Configuration as code. `exportDocument` writes the registry in the format of config/demo.yaml;
 * `apply` validates a document (every problem at once, with its place in the document), plans
 * the difference with the registry (config-plan.ts) and executes the plan in ONE transaction (all
 * or nothing) through the same services and validation as the REST API. Objects missing from the
 * document are left alone unless `prune` is set. Region webhook secrets and service replication
 * notifySecrets are write-only: never exported; applied when a document names one. A document
 * naming another primary for an active-passive service is refused (409): primaries change only
 * by promotion.
 */
@Injectable()
export class ConfigSyncService {
  constructor(
    private readonly ds: DataSource,
    private readonly zones: ZonesService,
    private readonly regions: RegionsService,
    private readonly services: ServicesService,
    private readonly events: EventBus,
    private readonly audit: AuditTrail,
  ) {}

  async exportDocument(m: EntityManager = this.ds.manager): Promise<ExportedDocument> {
    const rows = await this.read(m);
    return {
      zones: rows.zones.map((z) => ({ ...zoneDocument(z), records: rows.records.filter((r) => r.zoneName === z.name).map(recordDocument) })),
      regions: rows.regions.map(regionDocument),
      services: rows.services.map(serviceDocument),
    };
  }

  /**
   * A dry run is the apply itself, rolled back: the same plan, the same statements and rules in
   * the same transaction, so it refuses exactly what the apply would (400, 404, 409, with the
   * same body) and reports the same changes; then the transaction is rolled back.
   */
  apply(input: unknown, opts: ApplyOptions): Promise<{ dryRun: boolean; applied: boolean; changes: Change[] }> {
    // Heavy admin work: one at a time, two waiting, then 429 (common/heavy-work.ts).
    return heavyWork.run(opts.dryRun ? 'config apply (dry run)' : 'config apply', () => this.applyNow(input, opts));
  }

  private async applyNow(input: unknown, opts: ApplyOptions): Promise<{ dryRun: boolean; applied: boolean; changes: Change[] }> {
    const desired = await validateConfigDocument(input);
    let ops: Operation[];
    try {
      ops = await this.ds.transaction(async (m) => {
        const current = await this.read(m);
        // In slices: DNS answers between them (common/slices.ts).
        const planned = await runInSlices(planOperationsSteps(current, desired, opts.prune));
        const destructive = opts.prune && !opts.allowDestroy ? destructiveReason(current, planned) : null;
        if (destructive !== null) {
          throw new DomainError(ErrorCode.Conflict, `the prune is refused because ${destructive}; repeat with allowDestroy=true (georoute apply --allow-destroy) if that is meant`, [], { reason: 'destroy-not-allowed' });
        }
        await this.executeAll(m, planned);
        if (opts.dryRun) throw new DryRunRollback(planned);
        return planned;
      });
    } catch (err) {
      if (!(err instanceof DryRunRollback)) throw err;
      this.audit.discardPending(); // rolled back: no log lines for changes that were not made
      ops = err.ops;
    }
    const applied = !opts.dryRun && ops.length > 0;
    if (applied) this.events.emit(REGISTRY_CHANGED, { kind: 'import', name: 'config apply' });
    return { dryRun: opts.dryRun, applied, changes: ops.map(changeOf) };
  }

  /** The whole registry, in export order. */
  private async read(m: EntityManager): Promise<RegistryRows> {
    // One after another: `m` may be a transaction, one connection, where pg refuses overlapping queries (pg 9).
    const zones = await m.find(ZoneEntity, { order: { name: 'ASC' } });
    const records = await m.find(RecordEntity, { order: { name: 'ASC', type: 'ASC' } });
    const regions = await m.find(RegionEntity, { order: { name: 'ASC' } });
    const services = await RegistryRepository.servicesInPages(m);
    return { zones, records, regions, services };
  }


  /**
   * Runs the planned operations in order in the transaction. Consecutive service creations go
   * together (ServicesService.createMany: a few queries for all of them, with the same rules).
   */
  private async executeAll(m: EntityManager, ops: readonly Operation[]): Promise<void> {
    let batch: { request: CreateServiceDto; at: string }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await this.services.createMany(batch, m, placed);
      batch = [];
    };
    for (const op of ops) {
      if (op.kind === 'service' && op.action === 'create') {
        batch.push({ request: op.request, at: op.at });
        continue;
      }
      await flush();
      await this.execute(m, op);
    }
    await flush();
  }

  /** Runs one planned operation in the transaction; a refusal names the object's place in the document. */
  private async execute(m: EntityManager, op: Operation): Promise<void> {
    try {
      await this.run(m, op);
    } catch (err) {
      if (!('at' in op)) throw err;
      throw placed(err, op.at);
    }
  }

  private async run(m: EntityManager, op: Operation): Promise<void> {
    switch (op.kind) {
      case 'zone':
        return applyTo(this.zones, op, m);
      case 'region':
        return applyTo(this.regions, op, m);
      case 'service':
        return applyTo(this.services, op, m);
      case 'record':
        if (op.action === 'delete') return this.zones.removeRecord(op.zone, op.id, m);
        if (op.action === 'update') await this.zones.removeRecord(op.zone, op.replaces, m);
        await this.zones.addRecord(op.zone, op.request, m);
        return;
    }
  }
}

export interface ApplyOptions {
  /** Run everything, then roll back. */
  readonly dryRun: boolean;
  /** Also delete what the document leaves out. */
  readonly prune: boolean;
  /** Let a prune delete a zone, or more than half of the regions or services (`destructiveReason`). */
  readonly allowDestroy: boolean;
}

/** Thrown out of a dry run's transaction to roll it back, carrying the plan it ran. */
class DryRunRollback extends Error {
  constructor(readonly ops: Operation[]) {
    super('dry run: rolled back');
  }
}

/** The registry services' create, update and remove (zones, regions, services alike), inside the caller's transaction. */
interface RegistryWriter<C, P> {
  create(request: C, m: EntityManager): Promise<unknown>;
  update(name: string, patch: P, m: EntityManager): Promise<unknown>;
  remove(name: string, m: EntityManager): Promise<void>;
}

type NamedOperation<C, P> = { action: 'create'; request: C } | { action: 'update'; name: string; patch: P } | { action: 'delete'; name: string };

async function applyTo<C, P>(writer: RegistryWriter<C, P>, op: NamedOperation<C, P>, m: EntityManager): Promise<void> {
  if (op.action === 'create') await writer.create(op.request, m);
  else if (op.action === 'update') await writer.update(op.name, op.patch, m);
  else await writer.remove(op.name, m);
}

/** A refusal of the object at `at` in the document ("services[12]"), its fields named from there. */
function placed(err: unknown, at: string): unknown {
  if (!(err instanceof DomainError)) return err;
  if (err.fields.length > 0) {
    const fields = err.fields.map((f) => ({ ...f, field: `${at}.${f.field}` }));
    return new DomainError(err.code, fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields);
  }
  return new DomainError(err.code, `${at}: ${err.message}`);
}

/**
 * The document's objects as validated request bodies; every problem at once (400), named by its
 * place. Pure of the database: start-up's preflight checks CONFIG_FILE with it before any starts.
 */
export async function validateConfigDocument(input: unknown): Promise<DesiredRegistry> {
  const problems: FieldProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw DomainError.field('body', 'object', 'must be a configuration document { zones, regions, services }');
  const doc = input as Record<string, unknown>;
  for (const key of Object.keys(doc)) if (!['zones', 'regions', 'services'].includes(key)) problems.push({ field: key, rule: 'unknown-field', message: 'is not a known section (zones, regions, services)' });
  const list = (value: unknown, field: string): unknown[] => {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    problems.push({ field, rule: 'array', message: 'must be a list' });
    return [];
  };
  const check = async <T extends object>(cls: new () => T, plain: unknown, where: string): Promise<T> => {
    const request = plainToInstance(cls, plain ?? {});
    const errors = await validate(request, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    problems.push(...flattenValidationErrors(errors).map((p) => ({ ...p, field: `${where}.${p.field}` })));
    return request;
  };
  const checkEach = async <T extends object>(cls: new () => T, plains: unknown[], section: string): Promise<T[]> => {
    const out: T[] = [];
    const clock = new SliceClock();
    for (const [i, plain] of plains.entries()) {
      out.push(await check(cls, plain, `${section}[${i}]`));
      // class-validator's promises are microtasks: without a macrotask turn now and then, a
      // 10,000-service document would hold every DNS datagram until it is all validated.
      await clock.turn();
    }
    return out;
  };
  const [zoneDocs, regionDocs, serviceDocs] = [list(doc.zones, 'zones'), list(doc.regions, 'regions'), list(doc.services, 'services')];
  const zones: DesiredRegistry['zones'][number][] = [];
  for (const [i, z] of zoneDocs.entries()) {
    const { records, ...zone } = (z ?? {}) as Record<string, unknown>;
    const request = await check(CreateZoneDto, zone, `zones[${i}]`);
    zones.push({ zone: request, records: await checkEach(CreateRecordDto, list(records, `zones[${i}].records`), `zones[${i}].records`) });
  }
  const regions = await checkEach(CreateRegionDto, regionDocs, 'regions');
  const services = await checkEach(CreateServiceDto, serviceDocs, 'services');
  const unique = (names: unknown[], key: string, section: string) => {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      const n = normalizeName(String(name ?? ''));
      if (seen.has(n)) problems.push({ field: `${section}[${i}].${key}`, rule: 'unique', message: `"${n}" appears twice` });
      seen.add(n);
    });
  };
  unique(zones.map((z) => z.zone.name), 'name', 'zones');
  unique(regions.map((r) => r.name), 'name', 'regions');
  unique(services.map((s) => s.fqdn), 'fqdn', 'services');
  if (problems.length > 0) throw DomainError.validation(problems);
  return { zones, regions, services };
}
