import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { buildSnapshot, buildSnapshotSteps, emptySnapshot, withRegionHealth, type RegionHealthUpdate, type ReplicationInput, type ServiceInput, type SnapshotInput } from '../routing/snapshot';
import type { LatencyInput } from '../routing/latency';
import { lagReportMaxAgeMs } from '../routing/replication';
import { APP_CONFIG, AppConfig } from '../config/config';
import { readSnapshotFile, writeSnapshotFile, type SnapshotFile } from './snapshot-file';
import type { HealthStatus, RoutingSnapshot } from '../routing/types';
import type { Steps } from '../routing/steps';
import { runInSlices } from '../common/slices';
import { EventBus, HEALTH_CHANGED, OnAppEvent, REGISTRY_CHANGED, REPLICATION_CHANGED, SNAPSHOT_BUILD_FAILED, type RegistryChangedEvent } from '../common/events';
import { ZoneEntity, RecordEntity } from '../registry/zone.entity';
import { RegionEntity } from '../registry/region.entity';
import { ServiceEntity } from '../registry/service.entity';
import { MetricsService } from '../metrics/metrics.service';
import { DnssecRepository, type DnssecKeyRow, type DnssecZoneRow } from '../registry/dnssec.repository';
import { RegistryRepository } from '../registry/registry.repository';
import type { ZoneDnssecSnap } from '../routing/types';

/** Last replication lag report per region of a service, fed by the replication module. */
export interface ReplicationLagSource {
  reportsFor(service: string): readonly { region: string; lagMs: number; reportedAt: string }[];
}

/** Current health per region, fed by the health module (absent: unknown). */
export interface HealthSource {
  statusOf(region: string): { status: HealthStatus; reason: string | null } | undefined;
}

type Listener = (s: RoutingSnapshot) => void;
/** Work for a rebuilt snapshot before it is installed (steps run in slices), or null for none. */
type Preparer = (s: RoutingSnapshot) => Steps<void> | null;

/** How long a snapshot waits before it is written to DATA_DIR (later ones in that time replace it). */
const PERSIST_DELAY_MS = 200;
/**
 * The same for a snapshot that changed health alone: serialising a large registry blocks the
 * event loop for tens of milliseconds, health can flip many times a minute, and a snapshot read
 * from disk at a start without the database only bridges until probes and webhooks speak again.
 */
const HEALTH_PERSIST_DELAY_MS = 5000;

/** What a snapshot was built from: enough for another process to build the same one. */
export interface SnapshotSource {
  readonly version: number;
  readonly builtAt: string;
  readonly input: SnapshotInput;
}

/**
 * Holds the one current RoutingSnapshot. Rebuilds happen off the hot path: a change event marks
 * the store dirty, and one rebuild runs at a time; events arriving during a rebuild coalesce into
 * a single follow-up rebuild. A failed build keeps the old snapshot and is logged.
 */
@Injectable()
export class SnapshotStore implements OnApplicationShutdown {
  private readonly logger = new Logger('snapshot');
  private snapshot: RoutingSnapshot = emptySnapshot();
  private source_: SnapshotSource | null = null;
  private version = 0;
  private loaded = false;
  private building: Promise<void> | null = null;
  private dirty = false;
  private stopped = false;
  private readonly listeners = new Set<Listener>();
  private readonly preparers = new Set<Preparer>();
  private readonly followers = new Set<(version: number) => Promise<void>>();
  private health: HealthSource | null = null;
  private replication: ReplicationLagSource | null = null;
  private registryDirty = true;
  /** A region changed: the next rebuild re-reads the regions (and the zones, whose serials it bumps), not the services. */
  private regionsDirty = false;
  private readonly serviceInputs = new WeakMap<ServiceEntity, ServiceInput>();
  /** Services to re-read before the next build (when the rest of the registry need not be). */
  private readonly dirtyServices = new Set<string>();
  private rows: { zones: ZoneEntity[]; records: RecordEntity[]; regions: RegionEntity[]; services: ServiceEntity[] } | null = null;
  /** Signed zones with their keys (sealed), re-read with the registry. */
  private dnssec = new Map<string, ZoneDnssecSnap>();
  lastBuildMs = 0;
  /** Where the snapshot in use came from: the database, or DATA_DIR while the database is unreachable. */
  source: 'database' | 'disk' | 'none' = 'none';
  private pendingWrite: SnapshotFile | null = null;
  private writeTimer: NodeJS.Timeout | null = null;
  private writeDelayMs = 0;
  private writing = false;
  /** The write of the snapshot file under way, if any. */
  private fileWrite: Promise<void> | null = null;
  lastError: string | null = null;
  /** The compiled latency evidence (the measurements module's), carried by every build. */
  private latency: LatencyInput | null = null;

  constructor(
    private readonly ds: DataSource,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: EventBus,
  ) {
    metrics.onCollect(() => {
      metrics.snapshotVersion.set(this.snapshot.version);
      metrics.snapshotAge.set((Date.now() - Date.parse(this.snapshot.builtAt)) / 1000);
      metrics.snapshotBuild.set(this.lastBuildMs / 1000);
    });
  }

  /** The snapshot to read for one request: read it once and pass it down. */
  current(): RoutingSnapshot {
    return this.snapshot;
  }

  /** The input of the current snapshot (null before the first). Listeners may read it. */
  currentSource(): SnapshotSource | null {
    return this.source_;
  }

  isLoaded(): boolean {
    return this.loaded;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Work a listener does for a rebuilt snapshot before it is installed, such as the DNS view of
   * 10,000 services: run in slices after the build, while the snapshot in service answers; the
   * listener then gets the snapshot it prepared (or one that differs from it in health alone).
   */
  prepareWith(fn: Preparer): () => void {
    this.preparers.add(fn);
    return () => this.preparers.delete(fn);
  }

  setHealthSource(source: HealthSource): void {
    this.health = source;
  }

  setReplicationSource(source: ReplicationLagSource): void {
    this.replication = source;
  }

  /**
   * A committed registry change. A change to named services re-reads those service rows and the
   * zones (their serials); a change to a region re-reads the regions and the zones; anything else
   * re-reads the registry.
   */
  @OnAppEvent(REGISTRY_CHANGED)
  onRegistryChange(event?: RegistryChangedEvent): void {
    const partial = this.rows !== null && !this.registryDirty;
    if (event?.kind === 'service' && partial) this.dirtyServices.add(event.name);
    else if (event?.kind === 'region' && partial) this.regionsDirty = true;
    else this.registryDirty = true;
    void this.requestRebuild();
  }

  /**
   * Health alone changed: a new state array on the same tables (withRegionHealth), no rebuild and
   * no database round trip, at once, also while a rebuild is under way: DNS does not wait for
   * that rebuild's database reads (the whole registry after another instance's change). The
   * rebuild reads health again when it makes its input, after its reads and in the same turn
   * as it installs, so it cannot put back the state from before. Before the first snapshot it
   * rides along with the first rebuild.
   */
  @OnAppEvent(HEALTH_CHANGED)
  onHealthChange(): void {
    if (this.source_ === null || this.stopped) {
      void this.requestRebuild();
      return;
    }
    try {
      this.applyHealth();
    } catch (err) {
      this.logger.error(`health update failed, rebuilding instead: ${(err as Error).message}`);
      void this.requestRebuild();
    }
  }

  /** Swaps in the current snapshot with every region's health as the health source has it now. */
  private applyHealth(): void {
    const started = Date.now();
    const fresh = this.withHealthNow(this.snapshot, this.source_!.input, false);
    if (fresh === null) return;
    this.install(fresh.snapshot, this.source === 'disk' ? 'disk' : 'database', fresh.input);
    this.lastBuildMs = Date.now() - started;
    this.persist(fresh.input, fresh.snapshot, HEALTH_PERSIST_DELAY_MS);
  }

  /**
   * `snap` (built from `input`) with every region's health as the health source has it now, as
   * the next version; null when no region's health differs and `always` is not set.
   */
  private withHealthNow(snap: RoutingSnapshot, input: SnapshotInput, always: boolean): { snapshot: RoutingSnapshot; input: SnapshotInput } | null {
    const updates = new Map<string, RegionHealthUpdate>();
    let changed = false;
    for (const region of snap.regions.values()) {
      const h = this.health?.statusOf(region.name);
      const update = { health: h?.status ?? 'unknown', healthReason: h?.reason ?? null };
      updates.set(region.name, update);
      if (update.health !== region.health || update.healthReason !== region.healthReason) changed = true;
    }
    if (!changed && !always) return null;
    return {
      snapshot: withRegionHealth(snap, updates, this.version + 1),
      input: {
        ...input,
        regions: input.regions.map((r) => {
          const u = updates.get(r.name);
          return u === undefined ? r : { ...r, health: u.health, healthReason: u.healthReason };
        }),
      },
    };
  }

  /**
   * New latency evidence (compiled off the hot path by the measurements module): the current
   * input with it, every zone, service and plan reused; no database round trip. While a rebuild
   * is under way (or none happened yet) the next rebuild takes it.
   */
  setLatency(latency: LatencyInput | null): void {
    this.latency = latency;
    if (this.building !== null || this.source_ === null || this.stopped) {
      if (this.source_ !== null) void this.requestRebuild();
      return;
    }
    const started = Date.now();
    try {
      const input: SnapshotInput = { ...this.source_.input, latency };
      const next = buildSnapshot(input, this.version + 1, new Date(), this.snapshot);
      this.install(next, this.source === 'disk' ? 'disk' : 'database', input);
      this.lastBuildMs = Date.now() - started;
      this.persist(input, next, HEALTH_PERSIST_DELAY_MS);
    } catch (err) {
      this.logger.error(`latency evidence not applied: ${(err as Error).message}`);
    }
  }

  /** Replication lag alone changed: like health, no database round trip. */
  @OnAppEvent(REPLICATION_CHANGED)
  onReplicationChange(): void {
    void this.requestRebuild();
  }

  /**
   * Resolves when no rebuild is pending: every change whose event was emitted before this call is
   * in the snapshot then (a change event starts or joins a rebuild synchronously; a health change
   * is applied at once), and served by the followers (followWith).
   */
  async settled(): Promise<void> {
    await this.building;
    if (this.followers.size === 0) return;
    const version = this.version;
    await Promise.all([...this.followers].map((serves) => serves(version)));
  }

  /**
   * Another server of the snapshots, which takes each one after it is installed here (the DNS
   * workers build it in slices of their own): settled() also waits until it serves the version
   * installed, as far as `serves` waits.
   */
  followWith(serves: (version: number) => Promise<void>): () => void {
    this.followers.add(serves);
    return () => this.followers.delete(serves);
  }

  /** Schedules a rebuild (coalesced) and resolves when a rebuild that saw this request has finished. */
  requestRebuild(opts: { reload?: boolean } = {}): Promise<void> {
    if (opts.reload) this.registryDirty = true;
    if (this.stopped) return Promise.resolve();
    this.dirty = true;
    if (!this.building) this.building = this.loop();
    return this.building;
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        await this.rebuildOnce();
      }
    } finally {
      this.building = null;
    }
  }

  private async rebuildOnce(): Promise<void> {
    const started = Date.now();
    try {
      if (this.registryDirty || this.rows === null) {
        this.registryDirty = false;
        this.regionsDirty = false;
        this.dirtyServices.clear();
        const [zones, records, regions, services, dnssecZones, dnssecKeys] = await Promise.all([
          this.ds.getRepository(ZoneEntity).find(),
          this.ds.getRepository(RecordEntity).find(),
          this.regionRows(),
          RegistryRepository.servicesInPages(this.ds.manager),
          DnssecRepository.zones(this.ds.manager),
          DnssecRepository.keys(this.ds.manager, null),
        ]);
        this.rows = { zones, records, regions, services };
        this.dnssec = dnssecInput(dnssecZones, dnssecKeys);
      } else if (this.dirtyServices.size > 0 || this.regionsDirty) {
        // A service or region write also bumps zone serials: the zone table is re-read with the
        // services or regions named. Records change only with events that re-read the registry.
        const names = new Set(this.dirtyServices);
        const regionsToo = this.regionsDirty;
        this.dirtyServices.clear();
        this.regionsDirty = false;
        const [zones, changed, regions] = await Promise.all([
          this.ds.getRepository(ZoneEntity).find(),
          names.size > 0 ? this.ds.getRepository(ServiceEntity).find({ where: { fqdn: In([...names]) } }) : Promise.resolve([]),
          regionsToo ? this.regionRows() : Promise.resolve(this.rows.regions),
        ]);
        const byName = new Map(changed.map((row) => [row.fqdn, row]));
        // In place: the rows not re-read keep their order (and their input objects: buildSnapshot
        // passes over them); a deleted one goes, a new one comes last.
        const services: ServiceEntity[] = [];
        for (const row of this.rows.services) {
          if (!names.has(row.fqdn)) services.push(row);
          else if (byName.has(row.fqdn)) {
            services.push(byName.get(row.fqdn)!);
            byName.delete(row.fqdn);
          }
        }
        services.push(...byName.values());
        this.rows = { ...this.rows, zones, regions, services };
      }
      const { zones, records, regions, services } = this.rows;
      const input: SnapshotInput = {
          zones: zones.map((z) => ({
            name: z.name,
            serial: z.serial,
            nameservers: z.nameservers,
            hostmaster: z.hostmaster,
            ttl: z.ttl,
            refresh: z.refresh,
            retry: z.retry,
            expire: z.expire,
            negativeTtl: z.negativeTtl,
            dnssec: this.dnssec.get(z.name) ?? null,
            records: records
              .filter((r) => r.zoneName === z.name)
              .map((r) => ({ id: r.id, name: r.name, type: r.type as never, ttl: r.ttl, values: r.values })),
          })),
          regions: regions.map((r) => {
            const h = this.health?.statusOf(r.name);
            return {
              name: r.name,
              countryCode: r.countryCode,
              latitude: r.latitude,
              longitude: r.longitude,
              ipv4: r.ipv4,
              ipv6: r.ipv6,
              baseUrl: r.baseUrl,
              weight: r.weight,
              drained: r.drained,
              health: h?.status ?? 'unknown',
              healthReason: h?.reason ?? null,
            };
          }),
          services: services.map((s) => this.serviceInput(s, regions)),
          latency: this.latency,
      };
      // The snapshot in service lets unchanged zones, services and plans be reused. A large build
      // (and the DNS view of it) runs in slices, with DNS answering from this one between them.
      const version = this.version;
      let next = await runInSlices(buildSnapshotSteps(input, version + 1, new Date(), this.snapshot));
      for (const prepare of this.preparers) {
        try {
          const steps = prepare(next);
          if (steps !== null) await runInSlices(steps);
        } catch (err) {
          // Its own business: the snapshot goes in (its listener meets the problem again and keeps what it has).
          this.logger.error(`preparing for snapshot version ${next.version} failed: ${(err as Error).message}`);
        }
      }
      let installed = input;
      // Health applied meanwhile (a new version each time) goes into this one too, as a later version.
      if (this.version !== version) ({ snapshot: next, input: installed } = this.withHealthNow(next, input, true)!);
      this.install(next, 'database', installed);
      this.lastBuildMs = Date.now() - started;
      this.persist(installed, next);
    } catch (err) {
      this.registryDirty = true;
      this.lastError = (err as Error).message;
      this.logger.error(`snapshot rebuild failed, keeping version ${this.version}: ${(err as Error).message}`);
      this.events.emit(SNAPSHOT_BUILD_FAILED, { error: (err as Error).message, version: this.version });
    }
  }

  /**
   * The regions in a fixed order: creation, then name. A region's position is its id in the
   * snapshot, and the region ranking and every service's plan belong to one order of ids. Without
   * an ORDER BY, PostgreSQL returns an updated row where its new version lies, so a drain moved the
   * region and the next snapshot computed the ranking of every location class again.
   */
  private regionRows(): Promise<RegionEntity[]> {
    return this.ds.getRepository(RegionEntity).find({ order: { createdAt: 'ASC', name: 'ASC' } });
  }

  /**
   * A service row as snapshot input. Rows not re-read keep their object, and so does their input:
   * the snapshot build compares it with the last one and the snapshot file reuses its JSON. A
   * replicated service's input carries the replicas' lag, read anew each time.
   */
  private serviceInput(s: ServiceEntity, regions: readonly RegionEntity[]): ServiceInput {
    const cached = s.replication ? undefined : this.serviceInputs.get(s);
    if (cached !== undefined) return cached;
    const input: ServiceInput = {
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
      replication: replicationInput(s, this.replication, regions),
    };
    if (!s.replication) this.serviceInputs.set(s, input);
    return input;
  }

  /**
   * No write starts after this (one still waiting for its pause is dropped, as before), and one
   * under way is waited for: a stopped instance leaves no temporary file appearing in DATA_DIR.
   */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
    }
    await this.fileWrite;
  }

  /**
   * Static stability at start: when the database cannot give a first snapshot, serve the last
   * good one from DATA_DIR. Returns whether one was loaded.
   */
  loadFromDisk(): boolean {
    const file = readSnapshotFile(this.config.dataDir);
    if (!file) return false;
    try {
      const snap = buildSnapshot(file.input, file.version);
      this.version = file.version;
      this.latency = file.input.latency ?? null;
      this.install(snap, 'disk', file.input);
      this.logger.warn(`serving the last good snapshot from disk (version ${file.version}, built ${file.builtAt}): the database is unreachable`);
      return true;
    } catch (err) {
      this.logger.error(`snapshot on disk is unusable: ${(err as Error).message}`);
      return false;
    }
  }

  private install(next: RoutingSnapshot, source: 'database' | 'disk', input: SnapshotInput): void {
    this.source_ = { version: next.version, builtAt: next.builtAt, input };
    this.version = next.version;
    this.snapshot = next;
    this.loaded = true;
    this.source = source;
    this.lastError = null;
    for (const fn of this.listeners) {
      try {
        fn(next);
      } catch (err) {
        this.logger.error(`snapshot listener failed: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Writes the input of the snapshot just built to DATA_DIR (atomically; never on the hot path).
   * One write at a time; while one runs, only the latest snapshot waits to be written.
   */
  private persist(input: SnapshotInput, snap: RoutingSnapshot, delayMs = PERSIST_DELAY_MS): void {
    this.pendingWrite = { format: 1, version: snap.version, builtAt: snap.builtAt, input };
    // A registry change waiting behind a health one's long pause is written at its own time.
    if (delayMs < this.writeDelayMs && this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
      this.writing = false;
    }
    if (this.writing) return;
    this.writing = true;
    this.writeDelayMs = delayMs;
    void (async () => {
      // A pause first: a burst of changes becomes one write, and serialising a large registry
      // does not run in the same turn as the change that DNS is about to answer with.
      await new Promise<void>((resolve) => {
        this.writeTimer = setTimeout(() => {
          this.writeTimer = null;
          resolve();
        }, delayMs);
        this.writeTimer.unref(); // a write still waiting does not keep a stopping process alive
      });
      while (this.pendingWrite && !this.stopped) {
        const file = this.pendingWrite;
        this.pendingWrite = null;
        this.fileWrite = writeSnapshotFile(this.config.dataDir, file).catch((err: Error) => {
          this.logger.warn(`cannot write the snapshot to disk: ${err.message}`);
        });
        await this.fileWrite;
        this.fileWrite = null;
      }
      this.writing = false;
    })();
  }
}

/** A service's replication settings with the last lag report of each of its regions. */
function replicationInput(s: ServiceEntity, source: ReplicationLagSource | null, regions: readonly RegionEntity[]): ReplicationInput | null {
  const r = s.replication;
  if (!r) return null;
  const reports = new Map((source?.reportsFor(s.fqdn) ?? []).map((x) => [x.region, x]));
  return {
    mode: r.mode,
    primary: r.primary,
    maxStalenessMs: r.maxStalenessMs,
    promotion: r.promotion,
    promotionDelaySeconds: r.promotionDelaySeconds,
    conflictResolution: r.conflictResolution,
    writeFqdn: r.writeFqdn,
    members: s.regions.map((name) => ({
      region: name,
      lagMs: reports.get(name)?.lagMs ?? null,
      reportedAt: reports.get(name)?.reportedAt ?? null,
      maxReportAgeMs: lagReportMaxAgeMs(regions.find((x) => x.name === name)?.heartbeatTimeoutSeconds),
    })),
  };
}

/**
 * Signed zones as snapshot input: every key with its sealed private key (opened only by the DNS
 * signer). CDS/CDNSKEY are published for the SEP keys not retired (RFC 7344: during a rollover
 * the parent is asked for both DS, then for the new one alone); an unsigning zone
 * publishes the delete form instead (the signer's choice).
 */
function dnssecInput(zones: readonly DnssecZoneRow[], keys: readonly DnssecKeyRow[]): Map<string, ZoneDnssecSnap> {
  const out = new Map<string, ZoneDnssecSnap>();
  for (const zone of zones) {
    const own = keys.filter((k) => k.zoneName === zone.zoneName);
    out.set(zone.zoneName, {
      status: zone.status,
      keys: own.map((k) => ({
        id: k.id,
        role: k.role,
        algorithm: k.algorithm,
        flags: k.flags,
        keyTag: k.keyTag,
        publicKey: k.publicKey,
        privateKeySealed: k.privateKeySealed,
        state: k.state,
        cds: k.role !== 'zsk' && k.state !== 'retired',
      })),
    });
  }
  return out;
}
