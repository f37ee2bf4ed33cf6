/** Response schemas and examples of the health routes. */
import { LAG_FIELD } from './lag-format';
import { anyJson, bool, int, list, mapOf, obj, oneOf, page, schemaRef, str, time } from '../common/openapi';

const STATUS = oneOf(['healthy', 'unhealthy', 'unknown']);
const T = '2026-12-06T01:48:28.730Z';

export const HEALTH_EVENT = schemaRef('HealthEvent', obj({
  id: int(),
  at: time(),
  region: str(),
  from: STATUS,
  to: STATUS,
  source: str({ description: 'probe, webhook, heartbeat-timeout, drain...' }),
  reason: str(),
  instance: str({ nullable: true, description: 'the instance that recorded it' }),
}));
export const HEALTH_EVENT_EXAMPLE = { id: 1, at: T, region: 'eu-west-1', from: 'unknown', to: 'healthy', source: 'webhook', reason: 'webhook reported healthy: deploy finished', instance: 'georoute-3cd54435' };
export const HEALTH_EVENTS_PAGE = page(HEALTH_EVENT);

const OBSERVATION = obj({
  at: time(),
  source: oneOf(['probe', 'webhook', 'heartbeat-timeout']),
  ok: bool(),
  reason: str({ nullable: true }),
  latencyMs: int(),
  instance: str(),
  metrics: anyJson('what the webhook sent besides its verdict'),
}, ['latencyMs', 'metrics']);

export const REGION_HEALTH = schemaRef('RegionHealth', obj({
  region: str(),
  status: STATUS,
  since: time(),
  reason: str({ nullable: true }),
  drained: bool(),
  routable: bool(),
  consecutiveOk: int({ description: "this instance's own probe counters" }),
  consecutiveFail: int(),
  votes: list(obj({ instance: str(), status: STATUS, reason: str({ nullable: true }), observedAt: time() })),
  lastWebhookAt: time({ nullable: true }),
  probe: obj({ intervalSeconds: int(), healthyThreshold: int(), unhealthyThreshold: int() }, [], { nullable: true }),
  heartbeatTimeoutSeconds: int({ nullable: true }),
  sources: mapOf(obj({ last: { ...OBSERVATION, nullable: true }, recent: list(OBSERVATION) })),
  transitions: list(HEALTH_EVENT),
}));
export const REGION_HEALTH_EXAMPLE = {
  region: 'eu-west-1', status: 'healthy', since: T, reason: 'webhook reported healthy', drained: false, routable: true, consecutiveOk: 0, consecutiveFail: 0,
  votes: [], lastWebhookAt: T, probe: null, heartbeatTimeoutSeconds: null,
  sources: { webhook: { last: { at: T, source: 'webhook', ok: true, reason: null, instance: 'georoute-3cd54435' }, recent: [] } }, transitions: [HEALTH_EVENT_EXAMPLE],
};

/** The body a region pushes (Standard Webhooks payload). */
export const WEBHOOK_BODY = schemaRef('HealthWebhook', obj({
  region: str({ example: 'eu-west-1' }),
  status: oneOf(['healthy', 'unhealthy']),
  observedAt: time({ description: 'when the region observed it' }),
  reason: str({ maxLength: 500 }),
  metrics: { type: 'object', additionalProperties: true, description: `free-form; ${LAG_FIELD} reports replication lag: milliseconds, or an object of service names to milliseconds` },
}, ['observedAt', 'reason', 'metrics']));

export const WEBHOOK_ACCEPTED = schemaRef('HealthWebhookAccepted', obj({
  region: str(),
  accepted: bool(),
  status: STATUS,
  since: time(),
  reason: str({ nullable: true }),
}));
export const WEBHOOK_ACCEPTED_EXAMPLE = { region: 'eu-west-1', accepted: true, status: 'healthy', since: T, reason: 'webhook reported healthy: deploy finished' };

/** The same report through POST /v1/regions/{name}/report (a `health:report` token): the region is the path's. */
export const REPORT_BODY = schemaRef('HealthReport', obj({
  status: oneOf(['healthy', 'unhealthy']),
  observedAt: time({ description: 'when the tool observed it' }),
  reason: str({ maxLength: 500 }),
  metrics: { type: 'object', additionalProperties: true, description: `free-form; ${LAG_FIELD} reports replication lag: milliseconds, or an object of service names to milliseconds` },
}, ['observedAt', 'reason', 'metrics']));
