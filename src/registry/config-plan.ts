/**
 * Configuration as code, the plan: what applying a validated document to the registry would do,
 * as a list of typed operations, each carrying the validated request (create) or the patch
 * (update) that the registry services take. Pure: the current registry comes in as rows.
 *
 * Order (the order `execute` runs them in, dependencies first): for each zone of the document its
 * create or update, then its records' creates and updates, then (prune) the deletes of its
 * records the document leaves out; the regions; the services; then (prune) the deletes of
 * services, regions and zones the document leaves out, in that order.
 * An update replaces every field the document can set (defaults for those it leaves out), so a
 * document is the whole truth about the objects it names. Write-only secrets are compared with
 * the stored ones and shown as '(hidden)'. Objects are matched by name; records by owner name
 * and type (one RRset).
 */
import { isDeepStrictEqual } from 'node:util';
import type { CreateRegionDto, UpdateRegionDto } from './dto/region.dto';
import type { CreateServiceDto, UpdateServiceDto } from './dto/service.dto';
import type { CreateRecordDto, CreateZoneDto, UpdateZoneDto } from './dto/zone.dto';
import {
  RecordDocument, RegionDocument, ServiceDocument, desiredRecord, recordDocument, regionDocument, serviceDocument, zoneDocument,
} from './config-document';
import type { RegionEntity } from './region.entity';
import { regionFromRequest } from './regions.service';
import type { ServiceEntity } from './service.entity';
import { serviceFromRequest } from './services.service';
import type { RecordEntity, ZoneEntity } from './zone.entity';
import { zoneFromRequest } from './zones.service';
import { runToEnd, type Steps } from '../routing/steps';

/** The registry as it is (read inside the applying transaction). */
export interface RegistryRows {
  readonly zones: readonly ZoneEntity[];
  readonly records: readonly RecordEntity[];
  readonly regions: readonly RegionEntity[];
  readonly services: readonly ServiceEntity[];
}

/** A validated document: request bodies, in document order. */
export interface DesiredRegistry {
  readonly zones: readonly { readonly zone: CreateZoneDto; readonly records: readonly CreateRecordDto[] }[];
  readonly regions: readonly CreateRegionDto[];
  readonly services: readonly CreateServiceDto[];
}

export interface FieldChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** `at`: where in the document the object is ('zones[0].records[2]'), for error messages. */
export type Operation =
  | { readonly kind: 'zone'; readonly action: 'create'; readonly name: string; readonly at: string; readonly request: CreateZoneDto; readonly after: object }
  | { readonly kind: 'zone'; readonly action: 'update'; readonly name: string; readonly at: string; readonly patch: UpdateZoneDto; readonly fields: FieldChange[] }
  | { readonly kind: 'zone'; readonly action: 'delete'; readonly name: string; readonly before: object }
  | { readonly kind: 'record'; readonly action: 'create'; readonly zone: string; readonly rrset: string; readonly at: string; readonly request: CreateRecordDto; readonly after: object }
  | {
      readonly kind: 'record'; readonly action: 'update'; readonly zone: string; readonly rrset: string; readonly at: string; readonly request: CreateRecordDto;
      /** The id of the record set it replaces. */
      readonly replaces: string;
      readonly fields: FieldChange[];
    }
  | { readonly kind: 'record'; readonly action: 'delete'; readonly zone: string; readonly rrset: string; readonly id: string; readonly before: object }
  | { readonly kind: 'region'; readonly action: 'create'; readonly name: string; readonly at: string; readonly request: CreateRegionDto; readonly after: object }
  | { readonly kind: 'region'; readonly action: 'update'; readonly name: string; readonly at: string; readonly patch: UpdateRegionDto; readonly fields: FieldChange[] }
  | { readonly kind: 'region'; readonly action: 'delete'; readonly name: string; readonly before: object }
  | { readonly kind: 'service'; readonly action: 'create'; readonly name: string; readonly at: string; readonly request: CreateServiceDto; readonly after: object }
  | { readonly kind: 'service'; readonly action: 'update'; readonly name: string; readonly at: string; readonly patch: UpdateServiceDto; readonly fields: FieldChange[] }
  | { readonly kind: 'service'; readonly action: 'delete'; readonly name: string; readonly before: object };

/** One line of the plan as the API returns it. */
export interface Change {
  action: Operation['action'];
  kind: Operation['kind'];
  /** Zones, regions, services: the name; records: "<owner> <type> in <zone>". */
  name: string;
  /** Updates: the fields that differ, with their current and desired values. */
  fields?: FieldChange[];
  /** Deletes: the object as it is (export form, secrets left out). */
  before?: object;
  /** Creates: the object as it will be (export form, secrets left out). */
  after?: object;
}

const HIDDEN = '(hidden)';

export function planOperations(current: RegistryRows, desired: DesiredRegistry, prune: boolean): Operation[] {
  return runToEnd(planOperationsSteps(current, desired, prune));
}

/**
 * planOperations as steps (routing/steps.ts), yielding between objects: comparing 10,000
 * services with their rows takes a quarter of a second, which the applying request runs in
 * slices (common/slices.ts) so that DNS keeps answering.
 */
export function* planOperationsSteps(current: RegistryRows, desired: DesiredRegistry, prune: boolean): Steps<Operation[]> {
  const ops: Operation[] = [];

  const zones = new Map(current.zones.map((z) => [z.name, z]));
  const wantedZones = new Set<string>();
  for (const [i, { zone: request, records }] of desired.zones.entries()) {
    const at = `zones[${i}]`;
    const { name, ...patch } = zoneFromRequest(request);
    wantedZones.add(name);
    const have = zones.get(name);
    const step = createOrUpdate(have && zoneDocument(have), zoneDocument({ name, ...patch }), null, request, () => patch);
    if (step) ops.push({ kind: 'zone', name, at, ...step });
    const haveRecords = new Map(current.records.filter((r) => r.zoneName === name).map((r) => [rrsetOf(recordDocument(r)), r]));
    for (const [j, record] of records.entries()) {
      yield;
      const want = desiredRecord(record, name);
      const rrset = rrsetOf(want);
      const old = haveRecords.get(rrset);
      const where = { zone: name, rrset, at: `${at}.records[${j}]`, request: record };
      if (!old) ops.push({ kind: 'record', action: 'create', ...where, after: want });
      else if (!isDeepStrictEqual(recordDocument(old), want)) {
        ops.push({ kind: 'record', action: 'update', ...where, replaces: old.id, fields: [{ field: 'rrset', from: recordDocument(old), to: want }] });
      }
      haveRecords.delete(rrset);
    }
    if (have && prune) for (const [rrset, old] of haveRecords) ops.push({ kind: 'record', action: 'delete', zone: name, rrset, id: old.id, before: recordDocument(old) });
  }

  const regions = new Map(current.regions.map((r) => [r.name, r]));
  const wantedRegions = new Set<string>();
  for (const [i, request] of desired.regions.entries()) {
    yield;
    const at = `regions[${i}]`;
    const want = regionDocument(regionFromRequest(request));
    wantedRegions.add(want.name);
    const have = regions.get(want.name);
    const secret = request.webhookSecret;
    const hidden = have && secret !== undefined && have.webhookSecret !== secret ? 'webhookSecret' : null;
    const step = createOrUpdate(have && regionDocument(have), want, hidden, request, () => regionPatch(want, secret));
    if (step) ops.push({ kind: 'region', name: want.name, at, ...step });
  }

  const services = new Map(current.services.map((s) => [s.fqdn, s]));
  const wantedServices = new Set<string>();
  for (const [i, request] of desired.services.entries()) {
    yield;
    const at = `services[${i}]`;
    const want = serviceDocument(serviceFromRequest(request));
    wantedServices.add(want.fqdn);
    const have = services.get(want.fqdn);
    const secret = request.replication?.notifySecret;
    const hidden = have && secret !== undefined && (have.replication?.notifySecret ?? null) !== secret ? 'replication.notifySecret' : null;
    const step = createOrUpdate(have && serviceDocument(have), want, hidden, request, () => servicePatch(want, secret));
    if (step) ops.push({ kind: 'service', name: want.fqdn, at, ...step });
  }

  if (prune) {
    for (const [name, s] of services) {
      if (!wantedServices.has(name)) ops.push({ kind: 'service', action: 'delete', name, before: serviceDocument(s) });
      yield;
    }
    for (const [name, r] of regions) if (!wantedRegions.has(name)) ops.push({ kind: 'region', action: 'delete', name, before: regionDocument(r) });
    for (const [name, z] of zones) if (!wantedZones.has(name)) ops.push({ kind: 'zone', action: 'delete', name, before: zoneDocument(z) });
  }
  return ops;
}

/** The operation as the API reports it. */
export function changeOf(op: Operation): Change {
  const name = op.kind === 'record' ? `${op.rrset} in ${op.zone}` : op.name;
  if (op.action === 'update') return { action: op.action, kind: op.kind, name, fields: op.fields };
  if (op.action === 'create') return { action: op.action, kind: op.kind, name, after: op.after };
  return { action: op.action, kind: op.kind, name, before: op.before };
}

/** A region update: the document's fields, null for the optional ones it leaves out, the secret when it names one. */
function regionPatch(want: RegionDocument, secret: string | null | undefined): UpdateRegionDto {
  const { name: _name, ...given } = want;
  return { capacity: null, healthCheck: null, heartbeatTimeoutSeconds: null, anycast: null, ...given, ...(secret !== undefined ? { webhookSecret: secret } : {}) };
}

/** A service update: the document's fields, null for the optional ones it leaves out, the notify secret when it names one. */
function servicePatch(want: ServiceDocument, secret: string | null | undefined): UpdateServiceDto {
  const { fqdn: _fqdn, replication, ...given } = want;
  return { geolocation: null, ...given, replication: replication && secret !== undefined ? { ...replication, notifySecret: secret } : (replication ?? null) };
}

/**
 * The create of an object the registry lacks (`have` undefined), else the update of the fields
 * that differ (`hidden`: a write-only field that differs too, shown hidden), else nothing.
 */
function createOrUpdate<C, P>(
  have: object | undefined,
  want: object,
  hidden: string | null,
  request: C,
  patch: () => P,
): { action: 'create'; request: C; after: object } | { action: 'update'; patch: P; fields: FieldChange[] } | null {
  if (have === undefined) return { action: 'create', request, after: want };
  const fields = differences(have, want);
  if (hidden !== null) fields.push({ field: hidden, from: HIDDEN, to: HIDDEN });
  return fields.length > 0 ? { action: 'update', patch: patch(), fields } : null;
}

/** "<owner> <type>": one record set of a zone. */
function rrsetOf(r: RecordDocument): string {
  return `${r.name} ${r.type}`;
}

/** The fields whose values differ (deep equality), in the order they first appear. */
function differences(from: object, to: object): FieldChange[] {
  const a = from as Record<string, unknown>;
  const b = to as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => !isDeepStrictEqual(a[k], b[k])).map((k) => ({ field: k, from: a[k] ?? null, to: b[k] ?? null }));
}

/**
 * Why a pruning plan is destructive enough to need `allowDestroy`, or null: it deletes a zone
 * (and with it every record and service answered in it), or more than half of the registry's
 * regions, or more than half of its services. A document cut short, or `{}` by mistake, plans
 * exactly such deletions.
 */
export function destructiveReason(current: Pick<RegistryRows, 'regions' | 'services'>, ops: readonly Operation[]): string | null {
  const deleted = (kind: Operation['kind']) => ops.filter((op) => op.kind === kind && op.action === 'delete').map((op) => changeOf(op).name);
  const zones = deleted('zone');
  if (zones.length > 0) return `it deletes the zone${zones.length > 1 ? 's' : ''} ${zones.join(', ')}`;
  const regions = deleted('region');
  if (regions.length * 2 > current.regions.length) return `it deletes ${regions.length} of ${current.regions.length} regions`;
  const services = deleted('service');
  if (services.length * 2 > current.services.length) return `it deletes ${services.length} of ${current.services.length} services`;
  return null;
}
