import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DatabaseStatus } from '../database/database-status';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { ChangeFeedService } from './change-feed.service';
import { ClusterRepository } from './cluster.repository';

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
    private readonly repository: ClusterRepository,
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
    const rows = await this.repository.instances();
    return { items: rows.map((r) => ({ ...r, startedAt: r.startedAt.toISOString(), lastSeen: r.lastSeen.toISOString() })) };
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.repository.heartbeat({
        instanceId: this.config.instanceId,
        startedAt: this.startedAt,
        snapshotVersion: this.snapshots.current().version,
        registryVersion: Math.max(this.feed.seenVersion, 0),
        httpPort: this.ports.http,
        dnsPort: this.ports.dns,
      });
    } catch {
      // Unreachable database: try again on the next beat.
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }
}
