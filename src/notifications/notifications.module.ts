import { Module } from '@nestjs/common';
import { NotificationDispatcher } from './notification.dispatcher';
import { NotificationOutbox } from './notification-outbox';
import { NotificationsController } from './notifications.controller';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';
import { ReplicaWatcher } from './replica.watcher';
import { AlertWatcher } from './alert.watcher';

/** Alerts (`/v1/notifications`): endpoints, the outbox the audit trail fills, the dispatcher. */
@Module({
  controllers: [NotificationsController],
  providers: [NotificationsRepository, NotificationOutbox, NotificationsService, NotificationDispatcher, ReplicaWatcher, AlertWatcher],
  exports: [NotificationOutbox],
})
export class NotificationsModule {}
