import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import type { LatencyEntryInput, LatencyInput } from '../routing/latency';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { aggregate, type SampleView } from './aggregate';
import { MeasurementsRepository, type AggregateRow } from './measurements.repository';

/** Samples read per query (a short query: the embedded database has one connection). */
const PAGE = 20000;
/** How often old samples are deleted (every this many compilations). */
const PRUNE_EVERY = 10;

/**
 * Compiles the shared samples into the routing snapshot on a schedule (LATENCY_COMPILE_INTERVAL_MS,
 * default 60 s), off the hot path: the window's samples in short pages, the aggregate (aggregate.ts),
 * the trust rules (minimum samples, minimum
 * sources), then SnapshotStore.setLatency() with the trusted evidence (the snapshot, and so the
 * DNS workers and the snapshot file, carry it). A failed run keeps the evidence in service.
 * Self-rescheduling timeout: a slow query never overlaps the next run.
 */
@Injectable()
export class LatencyCompiler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('latency');
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private runs = 0;
  private running: Promise<void> | null = null;
  /** When the evidence in service was compiled (null: never). */
  compiledAt: string | null = null;
  /** Per region, per level: how many networks rank it with trusted evidence. */
  private byRegion = new Map<string, Record<string, number>>();
  /** The evidence last handed to the snapshot, as JSON. */
  private lastEvidence = '';
  /** The sample set the evidence was computed from (repo.windowMark). */
  private lastMark = '';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: MeasurementsRepository,
    private readonly snapshots: SnapshotStore,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(Math.min(1000, this.config.latency.compileIntervalMs));
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  trustedByRegion(): ReadonlyMap<string, Record<string, number>> {
    return this.byRegion;
  }

  /** Runs one compilation now (or joins the one under way). */
  compile(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.compile().finally(() => this.schedule(this.config.latency.compileIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (!this.repo.connected) return;
    const l = this.config.latency;
    const now = new Date();
    try {
      if (this.runs++ % PRUNE_EVERY === 0) await this.repo.pruneBefore(new Date(now.getTime() - l.windowMs));
      const since = new Date(now.getTime() - l.windowMs);
      // The same samples as last time give the same evidence (decay scales every weight alike): skip.
      const mark = await this.repo.windowMark(since);
      if (mark === this.lastMark) {
        this.compiledAt = now.toISOString();
        return;
      }
      const samples: SampleView[] = [];
      for (let after = 0; ; ) {
        const page = await this.repo.samplesPage(since, after, PAGE);
        for (const s of page) samples.push(s);
        if (page.length < PAGE) break;
        after = page[page.length - 1].id;
      }
      const rows = aggregate(samples, { now: now.getTime(), halfLifeMs: l.halfLifeMs, sourceCap: l.sourceCap });
      const input = compileEvidence(rows, l.minSamples, l.minSources);
      const byRegion = new Map<string, Record<string, number>>();
      const levels: Record<string, number> = {};
      for (const entry of input.entries) {
        const level = entry.level === 'prefix' ? entry.key.slice(entry.key.indexOf('/')) : entry.level;
        levels[level] = (levels[level] ?? 0) + 1;
        for (const e of entry.evidence) {
          const counts = byRegion.get(e.region) ?? {};
          counts[level] = (counts[level] ?? 0) + 1;
          byRegion.set(e.region, counts);
        }
      }
      this.byRegion = byRegion;
      this.metrics.latencyTable.reset();
      for (const [level, n] of Object.entries(levels)) this.metrics.latencyTable.set({ level }, n);
      // Unchanged evidence changes nothing: no new snapshot, no table compiled again (here and in the DNS workers).
      const text = JSON.stringify(input);
      if (text !== this.lastEvidence) {
        this.snapshots.setLatency(input.entries.length === 0 ? null : input);
        this.lastEvidence = text;
      }
      this.lastMark = mark;
      this.compiledAt = now.toISOString();
      const ms = Date.now() - now.getTime();
      if (input.entries.length > 0) this.logger.log(`latency evidence compiled in ${ms} ms: ${input.entries.length} networks from ${rows.length} aggregates`);
    } catch (err) {
      this.logger.warn(`latency compilation failed, keeping the evidence in service: ${(err as Error).message}`);
    }
  }
}

/**
 * The trusted evidence of the aggregates: a (network, region) with at least `minSamples` samples
 * and `minSources` distinct sources; per network, its trusted regions. Stable order (tests and the
 * snapshot file compare it).
 */
export function compileEvidence(rows: readonly AggregateRow[], minSamples: number, minSources: number): LatencyInput {
  const entries = new Map<string, { level: LatencyEntryInput['level']; key: string; evidence: LatencyEntryInput['evidence'][number][] }>();
  for (const r of rows) {
    if (r.samples < minSamples || r.sources < minSources || !Number.isFinite(r.medianMs)) continue;
    const key = entryKey(r.level, r.key);
    if (key === null) continue;
    const id = `${key.level} ${key.key}`;
    let entry = entries.get(id);
    if (entry === undefined) {
      entry = { ...key, evidence: [] };
      entries.set(id, entry);
    }
    entry.evidence.push({ region: r.region, rttMs: r.medianMs, samples: r.samples, sources: r.sources });
  }
  const list = [...entries.values()].sort((a, b) => (a.level + a.key < b.level + b.key ? -1 : 1));
  for (const e of list) e.evidence.sort((a, b) => (a.region < b.region ? -1 : 1));
  return { entries: list };
}

/** An aggregate's level and key as a LatencyEntryInput's (prefixes as CIDR text). */
export function entryKey(level: string, key: string): { level: LatencyEntryInput['level']; key: string } | null {
  if (level === 'class' || level === 'country') return { level, key };
  const n = Number(key);
  if (!Number.isSafeInteger(n) || n < 0) return null;
  const v4 = (n24: number, bits: number) => `${Math.floor(n24 / 65536)}.${Math.floor(n24 / 256) % 256}.${n24 % 256}.0/${bits}`;
  const v6 = (n48: number, bits: number) => `${Math.floor(n48 / 2 ** 32).toString(16)}:${(Math.floor(n48 / 65536) % 65536).toString(16)}:${(n48 % 65536).toString(16)}::/${bits}`;
  switch (level) {
    case '/24':
      return { level: 'prefix', key: v4(n, 24) };
    case '/20':
      return { level: 'prefix', key: v4(n * 16, 20) };
    case '/16':
      return { level: 'prefix', key: v4(n * 256, 16) };
    case '/48':
      return { level: 'prefix', key: v6(n, 48) };
    case '/40':
      return { level: 'prefix', key: v6(n * 256, 40) };
    case '/32':
      return { level: 'prefix', key: v6(n * 65536, 32) };
    default:
      return null;
  }
}
