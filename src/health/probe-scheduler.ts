/**
 * Runs one probe per region on its interval. Plain class (no Nest); the health service owns one
 * and feeds `onResult` into `record` (health-state.ts).
 *
 * Contract:
 * - Self-rescheduling timeouts, never setInterval: the next run is armed only after the
 *   current one finished, so runs for one region never overlap.
 * - Runs happen at the times t with t mod interval = phase(region), where the phase is a hash
 *   of the region name: regions spread over the interval (no thundering herd) and every
 *   instance of georoute probes a region at the same phase. A run that overruns its slot skips
 *   to the next free slot rather than catching up.
 * - Each run is bounded by the probe's own `timeoutMs`, plus a guard in case a probe
 *   implementation fails to settle. `remove`/`stopAll` abort in-flight runs; their results and
 *   results of a spec replaced by `upsert` are dropped.
 * - Timers can be registered elsewhere (NestJS SchedulerRegistry) through a TimerAdapter.
 */
import { probeHttp, type HttpProbeOptions } from './probes/http.probe';
import type { OutboundGuard, ProbeResult } from './probes/probe-result';
import { probeTcp, type TcpProbeOptions } from './probes/tcp.probe';
import { probeDns, type DnsProbeOptions } from './probes/dns.probe';

export type HttpProbeSpec = { readonly type: 'http' } & Omit<HttpProbeOptions, 'signal'>;
export type TcpProbeSpec = { readonly type: 'tcp' } & Omit<TcpProbeOptions, 'signal'>;
export type DnsProbeSpec = { readonly type: 'dns' } & Omit<DnsProbeOptions, 'signal'>;
/** What to probe; `http` covers https:// URLs too. */
export type ProbeSpec = HttpProbeSpec | TcpProbeSpec | DnsProbeSpec;

/**
 * Where timeouts are registered. The scheduler creates and clears the timers itself; the adapter
 * is told about each one. For NestJS: `{ add: (n, t) => registry.addTimeout(n, t),
 * delete: (n) => registry.deleteTimeout(n) }`. `delete` is called only for names added and not
 * yet deleted, and before a name is added again.
 */
export interface TimerAdapter {
  add(name: string, handle: NodeJS.Timeout): void;
  delete(name: string): void;
}

export interface ProbeSchedulerOptions {
  /** Called with every probe result. May return a promise; it is not awaited. */
  readonly onResult: (region: string, result: ProbeResult) => void | Promise<void>;
  /** Errors from onResult and from the timer adapter (the scheduler keeps going). */
  readonly onError?: (region: string, error: unknown) => void;
  readonly timers?: TimerAdapter;
  /** Runs one probe; defaults to probeHttp / probeTcp by `spec.type`. */
  readonly runProbe?: (spec: ProbeSpec, signal: AbortSignal) => Promise<ProbeResult>;
  /** The outbound policy the default probes connect under (none: anywhere). */
  readonly outbound?: OutboundGuard;
  /** Clock for slot computation (ms epoch); defaults to Date.now. */
  readonly now?: () => number;
}

/** Added to a probe's own time-out before the scheduler gives up on it. */
export const PROBE_GUARD_MS = 1000;
export const TIMER_PREFIX = 'health-probe:';

interface Entry {
  spec: ProbeSpec;
  intervalMs: number;
  /** Bumped by each change of spec or interval; results of older generations are dropped. */
  generation: number;
  timer: NodeJS.Timeout | null;
  nextAt: number;
  abort: AbortController | null;
  inFlight: Promise<void> | null;
}

export class ProbeScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly runProbe: (spec: ProbeSpec, signal: AbortSignal) => Promise<ProbeResult>;
  private readonly now: () => number;

  constructor(private readonly options: ProbeSchedulerOptions) {
    this.runProbe = options.runProbe ?? ((spec, signal) => defaultRunProbe(spec, signal, options.outbound));
    this.now = options.now ?? Date.now;
  }

  /** Adds a region or changes its probe; an unchanged spec and interval keeps the schedule. */
  upsert(region: string, spec: ProbeSpec, intervalMs: number): void {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new RangeError(`probe interval must be a positive integer (ms), got ${intervalMs}`);
    const existing = this.entries.get(region);
    if (existing && existing.intervalMs === intervalMs && sameSpec(existing.spec, spec)) return;

    if (!existing) {
      const entry: Entry = { spec, intervalMs, generation: 0, timer: null, nextAt: 0, abort: null, inFlight: null };
      this.entries.set(region, entry);
      this.arm(region, entry, nextSlot(region, intervalMs, this.now()));
      return;
    }
    existing.spec = spec;
    existing.intervalMs = intervalMs;
    existing.generation++;
    if (existing.inFlight) {
      // The run for the old spec ends now; its completion arms the next run.
      existing.abort?.abort();
    } else {
      this.disarm(region, existing);
      this.arm(region, existing, nextSlot(region, intervalMs, this.now()));
    }
  }

  /** Stops probing a region; an in-flight probe is aborted and its result dropped. */
  remove(region: string): void {
    const entry = this.entries.get(region);
    if (!entry) return;
    this.entries.delete(region);
    this.disarm(region, entry);
    entry.abort?.abort();
  }

  /** Removes every region; resolves when in-flight probes have settled. */
  async stopAll(): Promise<void> {
    const inFlight: Promise<void>[] = [];
    for (const [region, entry] of [...this.entries]) {
      if (entry.inFlight) inFlight.push(entry.inFlight);
      this.remove(region);
    }
    await Promise.all(inFlight);
  }

  regions(): string[] {
    return [...this.entries.keys()];
  }

  private arm(region: string, entry: Entry, at: number): void {
    entry.nextAt = at;
    const handle = setTimeout(() => this.fire(region, entry), Math.max(0, at - this.now()));
    handle.unref?.();
    entry.timer = handle;
    this.adapter(region, (timers) => timers.add(TIMER_PREFIX + region, handle));
  }

  private disarm(region: string, entry: Entry): void {
    if (entry.timer === null) return;
    clearTimeout(entry.timer);
    entry.timer = null;
    this.adapter(region, (timers) => timers.delete(TIMER_PREFIX + region));
  }

  private fire(region: string, entry: Entry): void {
    this.disarm(region, entry);
    if (this.entries.get(region) !== entry) return;
    const controller = new AbortController();
    const { spec, generation } = entry;
    entry.abort = controller;
    entry.inFlight = this.runGuarded(spec, controller).then((result) => {
      entry.abort = null;
      entry.inFlight = null;
      if (this.entries.get(region) !== entry) return;
      if (generation === entry.generation) this.deliver(region, result);
      const now = this.now();
      const planned = generation === entry.generation ? entry.nextAt + entry.intervalMs : 0;
      this.arm(region, entry, planned > now ? planned : nextSlot(region, entry.intervalMs, now));
    });
  }

  /** Never rejects: a probe that throws or fails to settle (then aborted) becomes a failed result. */
  private runGuarded(spec: ProbeSpec, controller: AbortController): Promise<ProbeResult> {
    const startedAt = performance.now();
    const failed = (reason: string): ProbeResult => ({ ok: false, latencyMs: Math.round(performance.now() - startedAt), reason });
    let guard: NodeJS.Timeout | undefined;
    const limitMs = spec.timeoutMs + PROBE_GUARD_MS;
    const guardPromise = new Promise<ProbeResult>((resolve) => {
      guard = setTimeout(() => {
        resolve(failed(`probe did not finish within ${limitMs} ms`));
        controller.abort();
      }, limitMs);
      guard.unref?.();
      // Aborted (remove, stopAll, new spec): do not wait for a probe that ignores its signal.
      controller.signal.addEventListener('abort', () => resolve(failed('aborted')), { once: true });
    });
    let run: Promise<ProbeResult>;
    try {
      run = Promise.resolve(this.runProbe(spec, controller.signal));
    } catch (error) {
      run = Promise.reject(error);
    }
    const settled = run.catch((error: unknown) => failed(`probe error: ${(error as { message?: string })?.message ?? String(error)}`));
    return Promise.race([settled, guardPromise]).finally(() => clearTimeout(guard));
  }

  private deliver(region: string, result: ProbeResult): void {
    try {
      const returned = this.options.onResult(region, result);
      if (returned && typeof (returned as Promise<void>).catch === 'function') {
        (returned as Promise<void>).catch((error: unknown) => this.reportError(region, error));
      }
    } catch (error) {
      this.reportError(region, error);
    }
  }

  private adapter(region: string, call: (timers: TimerAdapter) => void): void {
    if (!this.options.timers) return;
    try {
      call(this.options.timers);
    } catch (error) {
      this.reportError(region, error);
    }
  }

  private reportError(region: string, error: unknown): void {
    try {
      this.options.onError?.(region, error);
    } catch {
      // An error reporter that throws must not stop probing.
    }
  }
}

/** The region's phase within the interval: FNV-1a of the name, modulo the interval. */
export function probePhaseMs(region: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < region.length; i++) {
    hash ^= region.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % intervalMs;
}

/** The first time after `now` at the region's phase. */
export function nextSlot(region: string, intervalMs: number, now: number): number {
  const phase = probePhaseMs(region, intervalMs);
  const wait = (((phase - now) % intervalMs) + intervalMs) % intervalMs;
  return now + (wait === 0 ? intervalMs : wait);
}

function defaultRunProbe(spec: ProbeSpec, signal: AbortSignal, policy: OutboundGuard | undefined): Promise<ProbeResult> {
  if (spec.type === 'tcp') {
    const { type: _type, ...options } = spec;
    return probeTcp({ ...options, signal, policy });
  }
  if (spec.type === 'dns') {
    const { type: _type, ...options } = spec;
    return probeDns({ ...options, signal });
  }
  const { type: _type, ...options } = spec;
  return probeHttp({ ...options, signal, policy });
}

function sameSpec(a: ProbeSpec, b: ProbeSpec): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if ((a as unknown as Record<string, unknown>)[key] !== (b as unknown as Record<string, unknown>)[key]) return false;
  }
  return true;
}
