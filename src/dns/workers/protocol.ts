/**
 * Messages between the main process and its DNS workers (DNS_WORKERS > 0), over cluster IPC.
 * Everything here is JSON-safe: the snapshot travels as its serialisable SnapshotInput and each
 * worker rebuilds the same RoutingSnapshot with the pure buildSnapshot().
 */
import type { SnapshotInput } from '../../routing/snapshot';
import type { ResponderStats } from '../responder';
import type { UdpCounters } from '../udp-server';

export interface WorkerStart {
  readonly type: 'start';
  readonly host: string;
  readonly port: number;
  /** null: the bundled database. */
  readonly geoipDb: string | null;
  /** Fill the routing tables ahead of queries (DNS_TABLES_PRELOAD). */
  readonly preload: boolean;
  /** NSID and CHAOS identity (DNS_NSID, DNS_VERSION): every worker answers as this instance. */
  readonly identity: { readonly id: string | null; readonly version: string | null };
  /** DNSSEC signing: the key-encryption key (hex) and the signature window; every worker signs with the zone's keys. */
  readonly dnssec: { readonly kekHex: string; readonly validitySeconds: number; readonly inceptionOffsetSeconds: number; readonly onlineSignaturesPerSecond: number };
  /** The UDP listener (DNS_UDP_IO as the main process resolved it). */
  readonly udpIo: 'batch' | 'dgram';
  /**
   * Batch: the descriptor (in the worker) of the UDP socket the main process bound for this
   * worker; null: bind one (a replacement worker, with `spread`). Set by DnsWorkerPool.
   */
  readonly udpFd?: number | null;
  /** Batch, two workers or more: the number of sockets in the workers' SO_REUSEPORT group (0: one worker). */
  readonly spread?: number;
  readonly rateLimit: {
    readonly responsesPerSecond: number;
    readonly errorsPerSecond: number;
    readonly slip: number;
    /** CIDR texts, parsed again in the worker. */
    readonly exempt: readonly string[];
  };
}

export interface WorkerSnapshot {
  readonly type: 'snapshot';
  readonly version: number;
  readonly builtAt: string;
  readonly input: SnapshotInput;
}

export type ToWorker = WorkerStart | WorkerSnapshot | { readonly type: 'stop' };

/** Service answers since the last report, for the main process's metrics. */
export interface DecisionDelta {
  /** [service, first chosen region or '', reason, count] */
  readonly decisions: readonly (readonly [string, string, string, number])[];
}

export interface WorkerCounters {
  readonly responder: ResponderStats;
  readonly udp: UdpCounters;
  readonly rateLimited: { readonly slipped: number; readonly dropped: number };
}

export type FromWorker =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'applied'; readonly version: number }
  /** The worker's table filler went through its tables for this snapshot version, in `ms`. */
  | { readonly type: 'filled'; readonly version: number; readonly ms: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'log'; readonly level: 'log' | 'warn' | 'error'; readonly message: string }
  | ({ readonly type: 'stats' } & WorkerCounters & DecisionDelta);

export const STATS_INTERVAL_MS = 1000;

/**
 * Adds counters of the same shape: numbers are summed, nested records merged key by key.
 * `snapshotVersion` is the exception: the lowest (the version every process answers with).
 */
export function sumCounters<T>(a: T, b: T): T {
  if (typeof a === 'number' && typeof b === 'number') return (a + b) as T;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return (a ?? b) as T;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) {
    if (k === 'snapshotVersion' && typeof v === 'number' && typeof out[k] === 'number') out[k] = Math.min(out[k] as number, v);
    else out[k] = k in out ? sumCounters(out[k], v) : v;
  }
  return out as T;
}
