import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditChange } from '../common/audit';
import { eventsOf } from './notification-events';
import { NotificationsRepository } from './notifications.repository';

/**
 * Queues the notifications a transaction's changes raise, in that transaction (the audit trail
 * hands every recorded change here): a change that commits once is notified once per
 * subscribed endpoint, whichever instance made it.
 */
@Injectable()
export class NotificationOutbox {
  constructor(private readonly repository: NotificationsRepository) {}

  async enqueueFor(m: EntityManager, changes: readonly AuditChange[]): Promise<void> {
    for (const event of eventsOf(changes)) {
      await this.repository.enqueueForSubscribers(event.type, { type: event.type, timestamp: new Date().toISOString(), data: event.data }, m);
    }
  }
}
