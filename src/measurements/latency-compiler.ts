import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { aggregateSteps, compileEvidence, type SampleView } from './aggregate';
import { MeasurementsRepository } from './measurements.repository';

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
      // In steps, yielding to the event loop between them: DNS and HTTP keep answering meanwhile.
      const steps = aggregateSteps(samples, { now: now.getTime(), halfLifeMs: l.halfLifeMs, sourceCap: l.sourceCap });
      let step = steps.next();
      while (!step.done) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        step = steps.next();
      }
      const rows = step.value;
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
