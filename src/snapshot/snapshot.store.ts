import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { buildSnapshot, emptySnapshot } from '../routing/snapshot';
import type { HealthStatus, RoutingSnapshot } from '../routing/types';
import { REGISTRY_CHANGED } from '../registry/registry-events';
import { ZoneEntity, RecordEntity } from '../registry/zone.entity';
import { RegionEntity } from '../registry/region.entity';
import { ServiceEntity } from '../registry/service.entity';
import { MetricsService } from '../metrics/metrics.service';

export const HEALTH_CHANGED = 'health.changed';

/** Current health per region, fed by the health module (absent: unknown). */
export interface HealthSource {
  statusOf(region: string): { status: HealthStatus; reason: string | null } | undefined;
}

type Listener = (s: RoutingSnapshot) => void;

/**
 * Holds the one current RoutingSnapshot. Rebuilds happen off the hot path: a change event marks
 * the store dirty, and one rebuild runs at a time; events arriving during a rebuild coalesce into
 * a single follow-up rebuild. A failed build keeps the old snapshot and is logged.
 */
@Injectable()
export class SnapshotStore implements OnApplicationShutdown {
  private readonly logger = new Logger('snapshot');
  private snapshot: RoutingSnapshot = emptySnapshot();
  private version = 0;
  private loaded = false;
  private building: Promise<void> | null = null;
  private dirty = false;
  private stopped = false;
  private readonly listeners = new Set<Listener>();
  private health: HealthSource | null = null;
  private registryDirty = true;
  private rows: { zones: ZoneEntity[]; records: RecordEntity[]; regions: RegionEntity[]; services: ServiceEntity[] } | null = null;
  lastBuildMs = 0;
  lastError: string | null = null;

  constructor(
    private readonly ds: DataSource,
    metrics: MetricsService,
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

  isLoaded(): boolean {
    return this.loaded;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  setHealthSource(source: HealthSource): void {
    this.health = source;
  }

  @OnEvent(REGISTRY_CHANGED)
  onRegistryChange(): void {
    this.registryDirty = true;
    void this.requestRebuild();
  }

  /** Health alone changed: rebuild from the registry rows already read (no database round trip). */
  @OnEvent(HEALTH_CHANGED)
  onHealthChange(): void {
    void this.requestRebuild();
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
        const [zones, records, regions, services] = await Promise.all([
          this.ds.getRepository(ZoneEntity).find(),
          this.ds.getRepository(RecordEntity).find(),
          this.ds.getRepository(RegionEntity).find(),
          this.ds.getRepository(ServiceEntity).find(),
        ]);
        this.rows = { zones, records, regions, services };
      }
      const { zones, records, regions, services } = this.rows;
      const next = buildSnapshot(
        {
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
          services: services.map((s) => ({
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
          })),
        },
        this.version + 1,
      );
      this.version = next.version;
      this.snapshot = next;
      this.loaded = true;
      this.lastError = null;
      this.lastBuildMs = Date.now() - started;
      for (const fn of this.listeners) {
        try {
          fn(next);
        } catch (err) {
          this.logger.error(`snapshot listener failed: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      this.registryDirty = true;
      this.lastError = (err as Error).message;
      this.logger.error(`snapshot rebuild failed, keeping version ${this.version}: ${(err as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }
}
