/**
 * The events modules signal change with (DESIGN §1: never by importing each other): every name
 * and its payload type, in one place. Emit through `EventBus`, listen with `@OnAppEvent(NAME)`;
 * both check the payload against `EventPayloads` at compile time.
 *
 * | event | emitted by | payload | listened to by |
 * |---|---|---|---|
 * | registry.changed | registry services (DNSSEC keys and their schedule too), config apply/seed, promotions, the cluster feed | what changed | snapshot store, health, anycast, live stream |
 * | health.changed | health | one transition, or `reload` (verdicts re-read from the database) | snapshot store, anycast, live stream |
 * | replication.changed | replication lag store | whether a replica's read eligibility changed | snapshot store |
 * | replication.lag-reported | health webhook (accepted deliveries only) | the region's parsed lag report | replication lag store |
 * | cluster.changed | cluster change feed | the shared registry version | health |
 * | auth.refused | bearer guard | why a request was refused (401 or 403) | metrics |
 *
 * Delivery is synchronous and in-process (EventEmitter2); a listener's error is logged by the
 * event module and never reaches the emitter. `emitAndWait` also waits for async listeners.
 */
import { Injectable } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import type { HealthStatus } from '../routing/types';

export const REGISTRY_CHANGED = 'registry.changed';
export const HEALTH_CHANGED = 'health.changed';
export const REPLICATION_CHANGED = 'replication.changed';
export const REPLICATION_LAG_REPORTED = 'replication.lag-reported';
export const CLUSTER_CHANGED = 'cluster.changed';
export const AUTH_REFUSED = 'auth.refused';
export const SNAPSHOT_BUILD_FAILED = 'snapshot.build-failed';

/** A routing snapshot could not be built; the last good one keeps serving. */
export interface SnapshotBuildFailedEvent {
  readonly error: string;
  /** The version still served. */
  readonly version: number;
}

/** A committed registry change; `import` covers whole documents and changes made by other instances. */
export interface RegistryChangedEvent {
  /** 'dnssec': a zone's signing status or keys (registry/dnssec.service.ts). */
  readonly kind: 'zone' | 'record' | 'region' | 'service' | 'import' | 'dnssec';
  readonly name: string;
}

/** One region changed status, or (`reload`) any region may have: verdicts were re-read from the database. */
export type HealthChangedEvent =
  | { readonly kind: 'transition'; readonly region: string; readonly from: HealthStatus; readonly to: HealthStatus }
  | { readonly kind: 'reload' };

/** Lag reports changed what the snapshot says about replicas: their read eligibility, or only the lag shown. */
export interface ReplicationChangedEvent {
  readonly eligibility: boolean;
}

/** `metrics.replicationLagMs` of a health webhook, parsed (health/lag-format.ts). */
export type LagReport =
  /** One lag for every replicated service of the region. */
  | { readonly kind: 'all'; readonly lagMs: number }
  /** Lags by service name (lower case, no trailing dot). */
  | { readonly kind: 'per-service'; readonly lags: ReadonlyMap<string, number> };

/** A region's accepted health webhook carried a replication lag report, received at `at` (ms epoch). */
export interface LagReportedEvent {
  readonly region: string;
  readonly report: LagReport;
  readonly at: number;
}

/** Another instance (or anything else) changed the shared database: its registry version is now `version`. */
export interface ClusterChangedEvent {
  readonly version: number;
}

/** A request the bearer guard refused: no token, a token that is wrong, revoked or expired (401), or one without the route's scope (403). */
export interface AuthRefusedEvent {
  readonly reason: 'no-token' | 'bad-token' | 'missing-scope';
}

export interface EventPayloads {
  [REGISTRY_CHANGED]: RegistryChangedEvent;
  [HEALTH_CHANGED]: HealthChangedEvent;
  [REPLICATION_CHANGED]: ReplicationChangedEvent;
  [REPLICATION_LAG_REPORTED]: LagReportedEvent;
  [CLUSTER_CHANGED]: ClusterChangedEvent;
  [AUTH_REFUSED]: AuthRefusedEvent;
  [SNAPSHOT_BUILD_FAILED]: SnapshotBuildFailedEvent;
}

export type EventName = keyof EventPayloads;

/** The application's event emitter, typed by the catalogue. */
@Injectable()
export class EventBus {
  constructor(private readonly emitter: EventEmitter2) {}

  emit<K extends EventName>(name: K, payload: EventPayloads[K]): void {
    this.emitter.emit(name, payload);
  }

  /** Emits and resolves when every listener, async ones included, has finished. */
  async emitAndWait<K extends EventName>(name: K, payload: EventPayloads[K]): Promise<void> {
    await this.emitter.emitAsync(name, payload);
  }
}

type Listener<K extends EventName> = (payload: EventPayloads[K]) => unknown;

/** `@OnEvent` for a catalogue event: the decorated method must accept that event's payload (or nothing). */
export function OnAppEvent<K extends EventName>(name: K) {
  const decorator = OnEvent(name);
  return <M extends Listener<K>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void => {
    decorator(target, key, descriptor);
  };
}
