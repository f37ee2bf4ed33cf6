import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { RoutingSnapshot } from '../routing/types';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { replicaFlips } from './notification-events';
import { NotificationsRepository } from './notifications.repository';

/**
 * replica.stale / replica.fresh: compares each new routing snapshot with the one before and
 * queues a notification for every replica whose read eligibility flipped. Every instance sees
 * the same flips (lag reports are shared through the database); the outbox's dedupe key keeps
 * one delivery per endpoint.
 */
@Injectable()
export class ReplicaWatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('notifications');
  private previous: RoutingSnapshot | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly repository: NotificationsRepository,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.snapshots.subscribe((next) => this.onSnapshot(next));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private onSnapshot(next: RoutingSnapshot): void {
    const prev = this.previous;
    this.previous = next;
    if (prev === null) return;
    for (const flip of replicaFlips(prev, next)) {
      const payload = { type: flip.type, timestamp: new Date().toISOString(), data: flip.data };
      this.repository.enqueueOnce(flip.type, flip.key, payload).catch((err: Error) => this.logger.warn(`cannot queue ${flip.type} for ${flip.data.service} ${flip.data.region}: ${err.message}`));
    }
  }
}
