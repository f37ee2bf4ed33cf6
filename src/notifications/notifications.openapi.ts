/** Response schemas of the notification endpoint routes. */
import { anyJson, bool, int, list, obj, oneOf, page, schemaRef, str, time } from '../common/openapi';

export const NOTIFICATION = schemaRef('NotificationEndpoint', obj({
  id: str({ example: '4707a3d414860bf0' }),
  url: str(),
  events: list(str()),
  description: str({ nullable: true }),
  secretSet: bool({ description: 'always true: the secret is write-only' }),
  createdBy: str(),
  createdAt: time(),
}));
export const NOTIFICATION_EXAMPLE = { id: '4707a3d414860bf0', url: 'https://ops.example.com/hooks/georoute', events: ['region.unhealthy', 'region.healthy'], description: 'sre pager', secretSet: true, createdBy: 'admin', createdAt: '2026-12-06T01:48:29.262Z' };
export const NOTIFICATIONS_PAGE = page(NOTIFICATION);

export const DELIVERY = schemaRef('NotificationDelivery', obj({
  id: str(),
  eventType: str({ example: 'region.unhealthy' }),
  status: oneOf(['pending', 'delivered', 'failed']),
  attempts: int(),
  lastStatus: str({ nullable: true, description: 'the outcome of the last attempt' }),
  nextAttemptAt: time({ nullable: true }),
  createdAt: time(),
  deliveredAt: time({ nullable: true }),
  payload: anyJson('the Standard Webhooks payload: { type, timestamp, data }'),
}));
export const DELIVERY_EXAMPLE = {
  id: '1', eventType: 'notification.test', status: 'delivered', attempts: 1, lastStatus: 'HTTP 204 (attempt 1)', nextAttemptAt: null, createdAt: '2026-12-06T01:48:29.274Z', deliveredAt: '2026-12-06T01:48:29.301Z',
  payload: { type: 'notification.test', timestamp: '2026-12-06T01:48:29.275Z', data: { message: 'a test notification from georoute', endpoint: '4707a3d414860bf0' } },
};
export const DELIVERIES_PAGE = page(DELIVERY);
export const TEST_QUEUED = obj({ deliveryId: str(), eventType: oneOf(['notification.test']) });
