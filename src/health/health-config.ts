/**
 * What the health module keeps of a region's registry settings, derived from its row: the probe
 * to run (with a key that changes exactly when the probe or its interval changes), the
 * thresholds, the heartbeat time-out, the region's own webhook secret and whether it is drained.
 * Pure; the health service re-derives it on every registry change.
 */
import { HEALTH_CHECK_DEFAULTS } from '../registry/dto/region.dto';
import type { RegionEntity } from '../registry/region.entity';
import type { HealthThresholds } from './health-state';
import type { ProbeSpec } from './probe-scheduler';

export interface RegionHealthConfig {
  readonly probe: ProbeSpec | null;
  /** Equal for two configs exactly when the probe and its interval are the same ('' without a probe). */
  readonly probeKey: string;
  readonly intervalMs: number;
  readonly thresholds: HealthThresholds;
  readonly heartbeatTimeoutSeconds: number | null;
  readonly webhookSecret: string | null;
  readonly drained: boolean;
}

/** Thresholds of a region without a health check (only webhooks and heartbeats, which apply at once, reach it). */
const NO_PROBE_THRESHOLDS: HealthThresholds = { healthyThreshold: HEALTH_CHECK_DEFAULTS.healthyThreshold, unhealthyThreshold: HEALTH_CHECK_DEFAULTS.unhealthyThreshold };

/** The health settings of one region; `instance` is sent with HTTP probes (X-Georoute-Instance). */
export function healthConfigOf(region: RegionEntity, instance: string): RegionHealthConfig {
  const hc = region.healthCheck;
  const probe = hc ? toProbeSpec(hc, instance) : null;
  return {
    probe,
    probeKey: probe && hc ? JSON.stringify([probe, hc.intervalSeconds]) : '',
    intervalMs: (hc?.intervalSeconds ?? 0) * 1000,
    thresholds: hc ? { healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold } : NO_PROBE_THRESHOLDS,
    heartbeatTimeoutSeconds: region.heartbeatTimeoutSeconds,
    webhookSecret: region.webhookSecret,
    drained: region.drained,
  };
}

/** A heartbeat wait starts afresh when a time-out is set or changed (`armHeartbeat`), not when it is removed. */
export function heartbeatNeedsArming(before: RegionHealthConfig | undefined, after: RegionHealthConfig): boolean {
  return before?.heartbeatTimeoutSeconds !== after.heartbeatTimeoutSeconds && after.heartbeatTimeoutSeconds !== null;
}

function toProbeSpec(hc: NonNullable<RegionEntity['healthCheck']>, instance: string): ProbeSpec {
  if (hc.type === 'tcp') {
    const idx = hc.target.lastIndexOf(':');
    const host = hc.target.slice(0, idx).replace(/^\[|\]$/g, '');
    return { type: 'tcp', host, port: Number(hc.target.slice(idx + 1)), timeoutMs: hc.timeoutMs };
  }
  if (hc.type === 'dns') {
    const idx = hc.target.lastIndexOf(':');
    return {
      type: 'dns',
      host: hc.target.slice(0, idx).replace(/^\[|\]$/g, ''),
      port: Number(hc.target.slice(idx + 1)),
      queryName: hc.queryName ?? '',
      queryType: hc.queryType ?? 'A',
      transport: hc.transport ?? 'udp',
      expectRcode: hc.expectRcode ?? 'NOERROR',
      ...(hc.answerPattern !== undefined ? { answerPattern: hc.answerPattern } : {}),
      timeoutMs: hc.timeoutMs,
    };
  }
  return {
    type: 'http',
    url: hc.target,
    timeoutMs: hc.timeoutMs,
    expectedStatus: hc.expectedStatus,
    instance,
    ...(hc.bodyContains !== undefined ? { bodyContains: hc.bodyContains } : {}),
    ...(hc.insecureSkipVerify !== undefined ? { insecureSkipVerify: hc.insecureSkipVerify } : {}),
  };
}
