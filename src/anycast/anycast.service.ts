import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { Site, TopologySummary, isValidAsn } from '../routing/bgp';
import { AnycastWorker } from './anycast-worker.client';
import type { WorkerReply } from './anycast-worker.protocol';
import { RegionEntity } from '../registry/region.entity';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { AnycastRepository } from './anycast.repository';
import { DatabaseStatus } from '../database/database-status';
import { SpooledBody } from '../common/spooled-body';

export interface SimulateRequest {
  withdrawn: string[];
  useHealth: boolean;
  clients: number[];
}

/**
 * The anycast simulator behind the API: the operator's topology (kept as uploaded, parsed once),
 * sites from the regions' `anycast` settings, health-driven withdrawal, and a small cache of
 * results per (sites, withdrawn set) so repeated questions cost a look-up (and the same question
 * asked while it runs joins it). Parsing and simulating
 * run in a worker process at the lowest CPU priority (anycast.worker.ts), one request at a time,
 * 429 when too many wait: the event loop that answers DNS never runs them, nor waits for them.
 */
@Injectable()
export class AnycastService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('anycast');
  private summary: TopologySummary | null = null;
  private uploadedAt: string | null = null;
  private format: string | null = null;
  private readonly worker = new AnycastWorker(() => this.loadStored());
  /** The stored topology being installed (at start, after a reconnect): answers wait for it. */
  private installing: Promise<void> = Promise.resolve();
  /** Simulations sent and not yet answered, by their inputs: the same question asked again joins. */
  private readonly inFlight = new Map<string, Promise<WorkerReply>>();

  constructor(
    private readonly ds: DataSource,
    private readonly snapshots: SnapshotStore,
    private readonly dbStatus: DatabaseStatus,
    private readonly repository: AnycastRepository,
  ) {}

  onModuleInit(): void {
    this.worker.warm();
    this.dbStatus.whenConnected(this.ds, () => (this.installing = this.loadStored()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }

  private async loadStored(): Promise<void> {
    const stored = await this.repository.stored();
    if (stored === null) return;
    try {
      const summary = (await this.parse(stored.format, [stored.bytes], stored.compressed, { internal: true })).summary;
      await this.worker.request({ op: 'commit' }, true);
      this.install(summary, stored.format, stored.uploadedAt);
    } catch (err) {
      this.logger.error(`stored topology no longer parses, anycast starts empty: ${(err as Error).message}`);
    }
  }

  /** Parses and validates the upload; stores it only when it is valid (a bad upload changes nothing). */
  async load(body: unknown, contentType: string | undefined) {
    const source = body instanceof SpooledBody ? body : typeof body === 'string' ? [Buffer.from(body, 'utf8')] : Buffer.isBuffer(body) ? [body] : null;
    if (source === null || (source instanceof SpooledBody ? source.length === 0 : source.every((c) => c.length === 0))) {
      throw DomainError.field('body', 'required', 'send the topology as text/plain (CAIDA as-rel) or application/json');
    }
    const format = /json/i.test(contentType ?? '') ? 'json' : 'caida';
    const started = Date.now();
    // The worker reads the upload (from its file when spooled), decodes, parses and compresses it.
    const { summary, compressed } = await this.parse(format, source, false, { keep: true });
    const parsedAt = Date.now();
    const uploadedAt = new Date();
    try {
      await this.repository.store(format, compressed!, summary, uploadedAt);
    } catch (err) {
      await this.worker.request({ op: 'discard' }, true).catch(() => undefined);
      throw err;
    }
    await this.worker.request({ op: 'commit' }, true);
    this.install(summary, format, uploadedAt);
    this.logger.log(`topology loaded: ${summary.ases} ASes, ${summary.links} links (${Date.now() - started} ms: parsed and compressed in ${parsedAt - started} ms, ${compressed!.length} bytes stored in ${Date.now() - parsedAt} ms)`);
    return this.describe();
  }

  async describe() {
    await this.installing.catch(() => undefined);
    if (!this.summary) return { loaded: false };
    return { loaded: true, format: this.format, uploadedAt: this.uploadedAt, summary: this.summary };
  }

  async simulate(req: SimulateRequest) {
    const { result, sites, withdrawn } = await this.run(req);
    return {
      sites: sites.map((s, i) => ({ region: s.region, originAsn: s.originAsn, upstreams: s.upstreams, prepend: s.prepend, announced: result.announced![i] })),
      withdrawn,
      catchments: result.catchments,
      reached: result.reached,
      unreachable: result.unreachable,
      unreachableAsns: result.unreachableAsns,
      routes: result.routes,
      convergence: result.convergence,
      efficiency: result.efficiency,
      geoDnsAgreement: result.geoDnsAgreement,
    };
  }

  async route(asnText: unknown) {
    const asn = Number(asnText);
    if (typeof asnText !== 'string' || !/^\d+$/.test(asnText) || !isValidAsn(asn)) {
      throw DomainError.field('asn', 'asn', 'must be an AS number from 1 to 4294967295');
    }
    const { result } = await this.run({ withdrawn: [], useHealth: true, clients: [asn] });
    const view = result.routes![0];
    if (view.status === 'not-in-topology') throw DomainError.notFound('AS', String(asn));
    return view;
  }

  private async run(req: SimulateRequest): Promise<{ result: Extract<WorkerReply, { ok: true }>; sites: Site[]; withdrawn: string[] }> {
    await this.installing.catch(() => undefined);
    if (!this.summary) throw new DomainError(ErrorCode.Conflict, 'no topology is loaded; PUT /v1/anycast/topology first');
    const regions = await this.ds.getRepository(RegionEntity).find({ order: { name: 'ASC' } });
    const sites: Site[] = regions
      .filter((r) => r.anycast !== null)
      .map((r) => ({ region: r.name, originAsn: r.anycast!.originAsn, upstreams: r.anycast!.upstreams, prepend: r.anycast!.prepend, latitude: r.latitude, longitude: r.longitude }));
    if (sites.length === 0) throw new DomainError(ErrorCode.Conflict, 'no region has anycast settings (PATCH /v1/regions/{name} with anycast: { originAsn, upstreams })');
    const known = new Set(sites.map((s) => s.region));
    const problems: FieldProblem[] = [];
    req.withdrawn.forEach((w, i) => {
      if (!known.has(w)) problems.push({ field: `withdrawn[${i}]`, rule: 'anycast-region', message: `region "${w}" has no anycast site` });
    });
    if (problems.length > 0) throw DomainError.validation(problems);
    const withdrawn = new Set(req.withdrawn);
    if (req.useHealth) {
      const snap = this.snapshots.current();
      for (const s of sites) {
        const r = snap.regions.get(s.region);
        if (r && (r.drained || r.health === 'unhealthy')) withdrawn.add(s.region);
      }
    }
    const sorted = [...withdrawn].sort();
    const reply = await this.simulateOnce(sites, sorted, req.clients);
    if (!reply.ok) {
      if (reply.kind === 'site') {
        throw DomainError.validation(reply.problems.map((p) => ({ field: `regions.${p.where}`, rule: p.rule, message: p.message })));
      }
      if (reply.kind === 'no-topology') throw new DomainError(ErrorCode.Conflict, 'no topology is loaded; PUT /v1/anycast/topology first');
      throw new Error(`anycast simulation failed: ${reply.kind === 'error' ? reply.message : reply.kind}`);
    }
    return { result: reply, sites, withdrawn: sorted };
  }

  /**
   * One simulation per distinct question at a time: dashboards open on several screens ask the
   * same one after every change, and one answer serves them all (and holds one place in the
   * worker's queue, not one each). A different question waits its own turn.
   */
  private simulateOnce(sites: Site[], withdrawn: string[], clients: number[]): Promise<WorkerReply> {
    const key = JSON.stringify([sites, withdrawn, clients]);
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const reply = this.worker.request({ op: 'simulate', sites, withdrawn, clients });
    this.inFlight.set(key, reply);
    const forget = () => {
      if (this.inFlight.get(key) === reply) this.inFlight.delete(key);
    };
    reply.then(forget, forget);
    return reply;
  }

  /**
   * Parses in the worker (kept there as the candidate until commit); the summary (and with `keep`
   * the gzip of the text, for the database), or a 400 naming the problems. The worker joins the
   * chunks (many megabytes reach it through a temporary file, see AnycastWorker) or reads the
   * spooled upload's file.
   */
  private async parse(format: string, source: readonly Buffer[] | SpooledBody, compressed: boolean, opts: { internal?: boolean; keep?: boolean } = {}): Promise<{ summary: TopologySummary; compressed?: Buffer }> {
    const bytes = source instanceof SpooledBody ? { file: source.file } : { chunks: source.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)) };
    const reply = await this.worker.request({ op: 'parse', format: format === 'json' ? 'json' : 'caida', ...bytes, compressed, keep: opts.keep === true }, opts.internal === true);
    if (reply.ok) {
      const gz = reply.compressed;
      return { summary: reply.summary!, compressed: gz === undefined ? undefined : Buffer.from(gz.buffer, gz.byteOffset, gz.byteLength) };
    }
    if (reply.kind === 'topology') {
      throw new DomainError(
        ErrorCode.Validation,
        `topology refused (${reply.problemCount} problem${reply.problemCount === 1 ? '' : 's'}): ${reply.problems.slice(0, 5).map((p) => `${p.where}: ${p.message}`).join('; ')}`,
        reply.problems.map((p) => ({ field: p.where, rule: p.rule, message: p.message })),
        { problemCount: reply.problemCount },
      );
    }
    throw new Error(`topology parse failed: ${reply.kind === 'error' ? reply.message : reply.kind}`);
  }

  private install(summary: TopologySummary, format: string, uploadedAt: Date): void {
    this.summary = summary;
    this.format = format;
    this.uploadedAt = uploadedAt.toISOString();
  }
}
