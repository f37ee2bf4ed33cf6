/**
 * Messages between the main process and its DNS workers (DNS_WORKERS > 0), over cluster IPC.
 * Everything here is JSON-safe: the snapshot travels as its serialisable SnapshotInput (its
 * services in parts: snapshotMessages) and each worker rebuilds the same RoutingSnapshot with the
 * pure buildSnapshot().
 */
import type { ServiceInput, SnapshotInput } from '../../routing/snapshot';
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
  /** The CPU slice every thread of the worker asks for, in µs (DNS_CPU_SLICE_US; 0 = the kernel's). */
  readonly cpuSliceUs: number;
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
  /** Sent in parts (snapshotMessages): how many `snapshot-part` messages before this one hold its services. */
  readonly parts?: number;
}

/** Some of a snapshot's services, sent before the `snapshot` message that completes it. */
export interface WorkerSnapshotPart {
  readonly type: 'snapshot-part';
  readonly version: number;
  readonly services: readonly ServiceInput[];
}

export type ToWorker = WorkerStart | WorkerSnapshot | WorkerSnapshotPart | { readonly type: 'stop' };

/**
 * Services per `snapshot-part` message. A worker parses each IPC message whole, on the thread that
 * answers its socket: the input of 10,000 services (2.5 MB of JSON) held it for 15-25 ms in one
 * message, a part of 500 for about a millisecond.
 */
export const SNAPSHOT_PART_SERVICES = 500;

/** A snapshot as the messages that carry it: its services in parts, then the rest of it. */
export function snapshotMessages(snapshot: WorkerSnapshot, perPart = SNAPSHOT_PART_SERVICES): (WorkerSnapshot | WorkerSnapshotPart)[] {
  const services = snapshot.input.services;
  if (services.length <= perPart) return [snapshot];
  const out: (WorkerSnapshot | WorkerSnapshotPart)[] = [];
  for (let i = 0; i < services.length; i += perPart) out.push({ type: 'snapshot-part', version: snapshot.version, services: services.slice(i, i + perPart) });
  out.push({ ...snapshot, input: { ...snapshot.input, services: [] }, parts: out.length });
  return out;
}

/**
 * The worker's side of snapshotMessages: parts are kept until the `snapshot` message of their
 * version, which comes out whole. IPC keeps the order of messages, so a part of another version
 * means a new snapshot began (the earlier parts are dropped); a snapshot missing parts is null.
 */
export class SnapshotAssembler {
  private version = -1;
  private parts: (readonly ServiceInput[])[] = [];

  add(m: WorkerSnapshot | WorkerSnapshotPart): WorkerSnapshot | null {
    if (m.type === 'snapshot-part') {
      if (m.version !== this.version) {
        this.version = m.version;
        this.parts = [];
      }
      this.parts.push(m.services);
      return null;
    }
    if (m.parts === undefined || m.parts === 0) return m;
    const parts = m.version === this.version ? this.parts : [];
    this.version = -1;
    this.parts = [];
    if (parts.length !== m.parts) return null;
    return { ...m, input: { ...m.input, services: parts.flat() }, parts: 0 };
  }
}

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
