import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';
import { DomainError } from '../common/domain-error';
import { Page, PageRequest, toPage } from '../common/paging';
import type { Principal } from '../common/scopes';
import { webhookSecretProblem } from '../common/webhook-secret';
import { TEST_EVENT } from './notification-events';
import { CreateNotificationDto, DeliveryResponse, NotificationResponse } from './notification.dto';
import { DeliveryRow, EndpointRow, NotificationsRepository } from './notifications.repository';

/** Notification endpoints: register (secret write-only), list, delete, send a sample, delivery status. */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly ds: DataSource,
    private readonly repository: NotificationsRepository,
    private readonly audit: AuditTrail,
  ) {}

  async create(dto: CreateNotificationDto, by: Principal): Promise<NotificationResponse> {
    const problem = webhookSecretProblem(dto.secret);
    if (problem) throw DomainError.field('secret', 'webhook-secret', problem);
    const row = await this.ds.transaction(async (m) => {
      const made = await this.repository.insertEndpoint({ id: randomBytes(8).toString('hex'), url: dto.url, secret: dto.secret, events: dto.events, description: dto.description ?? null, createdBy: by.name }, m);
      await this.audit.record(m, [{ action: 'create', kind: 'notification-endpoint', name: made.id, before: null, after: toResponse(made) }]);
      return made;
    });
    return toResponse(row);
  }

  async list(page: PageRequest): Promise<Page<NotificationResponse>> {
    return toPage(await this.repository.endpoints(page.after, page.limit), page, (r) => r.id, toResponse);
  }

  async get(id: string): Promise<NotificationResponse> {
    return toResponse(await this.find(id));
  }

  async remove(id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const row = await this.repository.endpoint(id, m);
      if (!row) throw DomainError.notFound('notification endpoint', id);
      await this.repository.deleteEndpoint(id, m);
      await this.audit.record(m, [{ action: 'delete', kind: 'notification-endpoint', name: id, before: toResponse(row), after: null }]);
    });
  }

  /** Queues a sample event for this endpoint only; its delivery shows in the deliveries list. */
  async test(id: string): Promise<{ deliveryId: string; eventType: string }> {
    const deliveryId = await this.ds.transaction(async (m) => {
      const row = await this.repository.endpoint(id, m);
      if (!row) throw DomainError.notFound('notification endpoint', id);
      const payload = { type: TEST_EVENT, timestamp: new Date().toISOString(), data: { endpoint: id, message: 'a test notification from georoute' } };
      const [queued] = await this.repository.enqueue([id], TEST_EVENT, payload, m);
      await this.audit.record(m, [{ action: 'test', kind: 'notification-endpoint', name: id, before: null, after: { deliveryId: queued } }]);
      return queued;
    });
    return { deliveryId, eventType: TEST_EVENT };
  }

  async deliveries(id: string, page: PageRequest): Promise<Page<DeliveryResponse>> {
    await this.find(id);
    if (page.after !== null && !/^\d+$/.test(page.after)) throw DomainError.field('cursor', 'cursor', 'is not a cursor returned by this API');
    return toPage(await this.repository.deliveries(id, page.after, page.limit), page, (r) => r.id, toDeliveryResponse);
  }

  private async find(id: string): Promise<EndpointRow> {
    const row = await this.repository.endpoint(id);
    if (!row) throw DomainError.notFound('notification endpoint', id);
    return row;
  }
}

function toResponse(r: EndpointRow): NotificationResponse {
  return { id: r.id, url: r.url, events: r.events, description: r.description, secretSet: true, createdBy: r.createdBy, createdAt: r.createdAt.toISOString() };
}

function toDeliveryResponse(r: DeliveryRow): DeliveryResponse {
  return {
    id: r.id,
    eventType: r.eventType,
    status: r.status,
    attempts: r.attempts,
    lastStatus: r.lastStatus,
    nextAttemptAt: r.status === 'pending' ? r.nextAttemptAt.toISOString() : null,
    createdAt: r.createdAt.toISOString(),
    deliveredAt: r.deliveredAt?.toISOString() ?? null,
    payload: r.payload,
  };
}
