import { Module } from '@nestjs/common';
import { NotificationDispatcher } from './notification.dispatcher';
import { NotificationOutbox } from './notification-outbox';
import { NotificationsController } from './notifications.controller';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';

/** Alerts (`/v1/notifications`): endpoints, the outbox the audit trail fills, the dispatcher. */
@Module({
  controllers: [NotificationsController],
  providers: [NotificationsRepository, NotificationOutbox, NotificationsService, NotificationDispatcher],
  exports: [NotificationOutbox],
})
export class NotificationsModule {}
