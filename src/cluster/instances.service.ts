import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DatabaseStatus } from '../database/database-status';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { ChangeFeedService } from './change-feed.service';

const HEARTBEAT_MS = 2000;

export interface InstanceResponse {
  instanceId: string;
  startedAt: string;
  lastSeen: string;
  live: boolean;
  snapshotVersion: number;
  registryVersion: number;
  httpPort: number | null;
  dnsPort: number | null;
}

/** Each instance records itself every 2 s: when it was last seen and which snapshot it serves. */
@Injectable()
export class InstancesService implements OnModuleInit, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date();
  private stopped = false;
  private ports: { http: number | null; dns: number | null } = { http: null, dns: null };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly dbStatus: DatabaseStatus,
    private readonly snapshots: SnapshotStore,
    private readonly feed: ChangeFeedService,
  ) {}

  onModuleInit(): void {
    this.dbStatus.whenConnected(this.ds, () => this.beat());
  }

  /** Called once HTTP and DNS are bound; records them at once. */
  setPorts(ports: { http: number; dns: number }): void {
    this.ports = ports;
    if (this.ds.isInitialized) {
      if (this.timer) clearTimeout(this.timer);
      void this.beat();
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  async list(): Promise<{ items: InstanceResponse[] }> {
    const rows: Record<string, unknown>[] = await this.ds.query('SELECT *, now() - last_seen < interval \'10 seconds\' AS live FROM instances ORDER BY instance_id');
    return {
      items: rows.map((r) => ({
        instanceId: String(r.instance_id),
        startedAt: new Date(r.started_at as string).toISOString(),
        lastSeen: new Date(r.last_seen as string).toISOString(),
        live: Boolean(r.live),
        snapshotVersion: Number(r.snapshot_version),
        registryVersion: Number(r.registry_version),
        httpPort: r.http_port === null ? null : Number(r.http_port),
        dnsPort: r.dns_port === null ? null : Number(r.dns_port),
      })),
    };
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.ds.query(
        `INSERT INTO instances (instance_id, started_at, last_seen, snapshot_version, registry_version, http_port, dns_port)
         VALUES ($1, $2, now(), $3, $4, $5, $6)
         ON CONFLICT (instance_id) DO UPDATE SET last_seen = now(), started_at = EXCLUDED.started_at, snapshot_version = EXCLUDED.snapshot_version,
           registry_version = EXCLUDED.registry_version, http_port = EXCLUDED.http_port, dns_port = EXCLUDED.dns_port`,
        [this.config.instanceId, this.startedAt, this.snapshots.current().version, Math.max(this.feed.seenVersion, 0), this.ports.http, this.ports.dns],
      );
    } catch {
      // Unreachable database: try again on the next beat.
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }
}
