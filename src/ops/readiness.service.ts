import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OpsRepository } from './ops.repository';
import { SnapshotStore } from '../snapshot/snapshot.store';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** /readyz: ready when the routing snapshot is loaded and every registered check (e.g. DNS bound) passes. */
@Injectable()
export class ReadinessService {
  private readonly checks = new Map<string, () => ReadinessCheck>();

  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly ds: DataSource,
  ) {}

  register(name: string, check: () => ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /**
   * Ready = a snapshot is loaded and DNS is bound. The database is reported but does not decide:
   * without it this instance still answers DNS and redirects from its last snapshot (degraded).
   */
  async check(): Promise<{ ready: boolean; degraded: boolean; snapshotVersion: number; snapshotSource: string; checks: ReadinessCheck[] }> {
    const snap = this.snapshots.current();
    const checks: ReadinessCheck[] = [
      { name: 'snapshot', ok: this.snapshots.isLoaded(), detail: `version ${snap.version} from ${this.snapshots.source}` },
      ...[...this.checks.values()].map((c) => c()),
    ];
    const ready = checks.every((c) => c.ok);
    const database = await this.pingDatabase();
    checks.push(database);
    return { ready, degraded: !database.ok, snapshotVersion: snap.version, snapshotSource: this.snapshots.source, checks };
  }

  private async pingDatabase(): Promise<ReadinessCheck> {
    if (!this.ds.isInitialized) return { name: 'database', ok: false, detail: 'not connected (serving the last snapshot)' };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        OpsRepository.ping(this.ds),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 1 s')), 1000))),
      ]);
      return { name: 'database', ok: true };
    } catch (err) {
      return { name: 'database', ok: false, detail: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
