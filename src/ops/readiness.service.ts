import { Injectable } from '@nestjs/common';
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

  constructor(private readonly snapshots: SnapshotStore) {}

  register(name: string, check: () => ReadinessCheck): void {
    this.checks.set(name, check);
  }

  check(): { ready: boolean; snapshotVersion: number; checks: ReadinessCheck[] } {
    const snap = this.snapshots.current();
    const checks: ReadinessCheck[] = [
      { name: 'snapshot', ok: this.snapshots.isLoaded(), detail: `version ${snap.version}` },
      ...[...this.checks.values()].map((c) => c()),
    ];
    return { ready: checks.every((c) => c.ok), snapshotVersion: snap.version, checks };
  }
}
