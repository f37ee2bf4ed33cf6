/**
 * The configuration document: the format of config/demo.yaml, `georoute export` and `georoute
 * apply`: zones (each with its records), regions and services, as API request bodies.
 *
 * The registry and a desired document are compared in one form, the export form: what the
 * registry stores, with values that are null left out. `*Document(fields)` writes stored fields in
 * that form; a desired object goes through the same builder the create endpoint uses
 * (`zoneFromRequest`, `regionFromRequest`, `serviceFromRequest`: defaults filled, names and
 * addresses normalised) and then through the same `*Document`, so defaults live in one place and
 * a document that only leaves defaults out plans no change. Write-only secrets are never written.
 */
import { normalizeRecordValues } from './record-values';
import type { AnycastSpec, HealthCheckSpec } from './region.entity';
import type { RecordEntity } from './zone.entity';
import type { ReplicationConfig } from './service.entity';
import { RECORD_DEFAULTS, type CreateRecordDto } from './dto/zone.dto';
import { serviceSettingsOf, type ServiceSettings } from './dto/service.dto';
import type { RegionFields } from './regions.service';
import type { ServiceFields } from './services.service';
import { relativeName, resolveRecordName, zoneFieldsOf, type ZoneFields } from './zones.service';

/** A document as read from a file or a request body, before validation. */
export interface ConfigDocument {
  zones?: (Record<string, unknown> & { records?: Record<string, unknown>[] })[];
  regions?: Record<string, unknown>[];
  services?: Record<string, unknown>[];
}

/** The keys of T whose values may be null become optional and never null: what `present` returns. */
type Present<T> = { [K in keyof T as null extends T[K] ? never : K]: T[K] } & { [K in keyof T as null extends T[K] ? K : never]?: NonNullable<T[K]> };

/** Leaves out the null values: a document names only what is set. */
function present<T extends object>(o: T): Present<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Present<T>;
}

export type ZoneDocument = ZoneFields;

export interface RecordDocument {
  /** Relative to the zone ("@" for the apex). */
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

export type RegionDocument = Present<{
  name: string;
  countryCode: string;
  location: { latitude: number; longitude: number };
  endpoints: Present<{ ipv4: string[]; ipv6: string[]; baseUrl: string | null }>;
  weight: number;
  drained: boolean;
  capacity: number | null;
  healthCheck: HealthCheckSpec | null;
  heartbeatTimeoutSeconds: number | null;
  anycast: AnycastSpec | null;
}>;

/** A service's replication in document form: the fields of its mode, never the secret. */
export type ReplicationDocument =
  | Present<{ mode: 'active-passive' } & Pick<ReplicationConfig, 'primary' | 'maxStalenessMs' | 'promotion' | 'promotionDelaySeconds' | 'writeFqdn' | 'notifyUrl'>>
  | Present<{ mode: 'active-active' } & Pick<ReplicationConfig, 'conflictResolution' | 'writeFqdn'>>;

export type ServiceDocument = Present<{ fqdn: string } & ServiceSettings & { replication: ReplicationDocument | null }>;

/** What `georoute export` writes. */
export interface ExportedDocument {
  zones: (ZoneDocument & { records: RecordDocument[] })[];
  regions: RegionDocument[];
  services: ServiceDocument[];
}

export function zoneDocument(z: ZoneFields): ZoneDocument {
  return zoneFieldsOf(z);
}

export function recordDocument(r: RecordEntity): RecordDocument {
  return { name: relativeName(r.name, r.zoneName), type: r.type, ttl: r.ttl, values: r.values };
}

/** A record of `zone` as a create request would store it (values that do not parse are left to the create to refuse). */
export function desiredRecord(dto: CreateRecordDto, zone: string): RecordDocument {
  const { values } = normalizeRecordValues(dto.type, dto.values);
  return { name: relativeName(resolveRecordName(dto.name, zone), zone), type: dto.type, ttl: dto.ttl ?? RECORD_DEFAULTS.ttl, values };
}

export function regionDocument(r: RegionFields): RegionDocument {
  return present({
    name: r.name,
    countryCode: r.countryCode,
    location: { latitude: r.latitude, longitude: r.longitude },
    endpoints: present({ ipv4: r.ipv4, ipv6: r.ipv6, baseUrl: r.baseUrl }),
    weight: r.weight,
    drained: r.drained,
    capacity: r.capacity,
    healthCheck: r.healthCheck,
    heartbeatTimeoutSeconds: r.heartbeatTimeoutSeconds,
    anycast: r.anycast,
  });
}

export function serviceDocument(s: ServiceFields): ServiceDocument {
  return present({ fqdn: s.fqdn, ...serviceSettingsOf(s), replication: replicationDocument(s.replication) });
}

export function replicationDocument(r: ReplicationConfig | null): ReplicationDocument | null {
  if (r === null) return null;
  return r.mode === 'active-passive'
    ? present({
        mode: r.mode, primary: r.primary, maxStalenessMs: r.maxStalenessMs, promotion: r.promotion,
        promotionDelaySeconds: r.promotionDelaySeconds, writeFqdn: r.writeFqdn, notifyUrl: r.notifyUrl,
      })
    : present({ mode: r.mode, conflictResolution: r.conflictResolution, writeFqdn: r.writeFqdn });
}
