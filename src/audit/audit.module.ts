import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/** The audit trail (`GET /v1/audit`); app.module.ts binds the AuditTrail port to AuditService. */
@Module({ imports: [NotificationsModule], controllers: [AuditController], providers: [AuditRepository, AuditService], exports: [AuditService] })
export class AuditModule {}
