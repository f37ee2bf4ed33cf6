import { Injectable } from '@nestjs/common';
import type { Client } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';

/** One instance's heartbeat row (table `instances`). */
export interface InstanceRow {
  readonly instanceId: string;
  readonly startedAt: Date;
  readonly lastSeen: Date;
  /** Seen within the last 10 seconds (by the database's clock). */
  readonly live: boolean;
  readonly snapshotVersion: number;
  readonly registryVersion: number;
  readonly httpPort: number | null;
  readonly dnsPort: number | null;
}

/** The cluster's SQL: the shared registry and health versions, and the instance heartbeats. */
@Injectable()
export class ClusterRepository {
  constructor(private readonly ds: DataSource) {}

  /** [registry version, health version] (migrations ChangeFeed and HealthVersion); [0, 0] when unset. */
  async versions(): Promise<[number, number]> {
    const rows: { version: string; health_version: string }[] = await this.ds.query('SELECT version, health_version FROM registry_version WHERE id = 1');
    return rows.length ? [Number(rows[0].version), Number(rows[0].health_version)] : [0, 0];
  }

  /**
   * The registry version the transaction open on `runner` produced, or null when it changed no
   * registry table (migration VersionPerTransaction: one version per transaction, marked with
   * its transaction id). Called just before the commit.
   */
  static async versionOfThisTransaction(runner: QueryRunner): Promise<number | null> {
    const rows: { version: string }[] = await runner.query(
      'SELECT version FROM registry_version WHERE id = 1 AND version_tx = txid_current_if_assigned()',
    );
    return rows.length ? Number(rows[0].version) : null;
  }

  /** Subscribes a dedicated connection to the change notifications (migration ChangeFeed's NOTIFY). */
  static async listenForChanges(client: Client): Promise<void> {
    await client.query('LISTEN georoute_changes');
  }

  async instances(): Promise<InstanceRow[]> {
    const rows: Record<string, unknown>[] = await this.ds.query("SELECT *, now() - last_seen < interval '10 seconds' AS live FROM instances ORDER BY instance_id");
    return rows.map((r) => ({
      instanceId: String(r.instance_id),
      startedAt: new Date(r.started_at as string),
      lastSeen: new Date(r.last_seen as string),
      live: Boolean(r.live),
      snapshotVersion: Number(r.snapshot_version),
      registryVersion: Number(r.registry_version),
      httpPort: r.http_port === null ? null : Number(r.http_port),
      dnsPort: r.dns_port === null ? null : Number(r.dns_port),
    }));
  }

  /** Records this instance as alive now, with what it serves. */
  async heartbeat(beat: { instanceId: string; startedAt: Date; snapshotVersion: number; registryVersion: number; httpPort: number | null; dnsPort: number | null }): Promise<void> {
    await this.ds.query(
      `INSERT INTO instances (instance_id, started_at, last_seen, snapshot_version, registry_version, http_port, dns_port)
       VALUES ($1, $2, now(), $3, $4, $5, $6)
       ON CONFLICT (instance_id) DO UPDATE SET last_seen = now(), started_at = EXCLUDED.started_at, snapshot_version = EXCLUDED.snapshot_version,
         registry_version = EXCLUDED.registry_version, http_port = EXCLUDED.http_port, dns_port = EXCLUDED.dns_port`,
      [beat.instanceId, beat.startedAt, beat.snapshotVersion, beat.registryVersion, beat.httpPort, beat.dnsPort],
    );
  }
}
