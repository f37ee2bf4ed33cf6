import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import {
  SimulationResult, Site, SiteError, Topology, TopologyError, isValidAsn, parseCaidaAsRel, parseTopologyJson, simulate,
} from '../routing/bgp';
import { RegionEntity } from '../registry/region.entity';
import { HEALTH_CHANGED, OnAppEvent, REGISTRY_CHANGED } from '../common/events';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { AnycastRepository } from './anycast.repository';
import { DatabaseStatus } from '../database/database-status';

export interface SimulateRequest {
  withdrawn: string[];
  useHealth: boolean;
  clients: number[];
}

const MAX_CACHED_RESULTS = 8;

/**
 * The anycast simulator behind the API: the operator's topology (kept as uploaded, parsed once),
 * sites from the regions' `anycast` settings, health-driven withdrawal, and a small cache of
 * results per (topology, sites, withdrawn set) so repeated questions cost a look-up.
 */
@Injectable()
export class AnycastService implements OnModuleInit {
  private readonly logger = new Logger('anycast');
  private topology: Topology | null = null;
  private topologyVersion = 0;
  private uploadedAt: string | null = null;
  private format: string | null = null;
  private readonly cache = new Map<string, SimulationResult>();

  constructor(
    private readonly ds: DataSource,
    private readonly snapshots: SnapshotStore,
    private readonly dbStatus: DatabaseStatus,
    private readonly repository: AnycastRepository,
  ) {}

  onModuleInit(): void {
    this.dbStatus.whenConnected(this.ds, () => this.loadStored());
  }

  private async loadStored(): Promise<void> {
    const stored = await this.repository.stored();
    if (stored === null) return;
    try {
      this.install(this.parse(stored.format, stored.source), stored.format, stored.uploadedAt);
    } catch (err) {
      this.logger.error(`stored topology no longer parses, anycast starts empty: ${(err as Error).message}`);
    }
  }

  @OnAppEvent(REGISTRY_CHANGED)
  @OnAppEvent(HEALTH_CHANGED)
  onChange(): void {
    this.cache.clear();
  }

  /** Parses and validates the upload; stores it only when it is valid (a bad upload changes nothing). */
  async load(body: unknown, contentType: string | undefined) {
    if (typeof body !== 'string' || body.length === 0) {
      throw DomainError.field('body', 'required', 'send the topology as text/plain (CAIDA as-rel) or application/json');
    }
    const format = /json/i.test(contentType ?? '') ? 'json' : 'caida';
    const started = Date.now();
    const topology = this.parse(format, body);
    const uploadedAt = new Date();
    await this.repository.store(format, body, topology.summary, uploadedAt);
    this.install(topology, format, uploadedAt);
    this.logger.log(`topology loaded: ${topology.summary.ases} ASes, ${topology.summary.links} links (${Date.now() - started} ms)`);
    return this.describe();
  }

  describe() {
    if (!this.topology) return { loaded: false };
    return { loaded: true, format: this.format, uploadedAt: this.uploadedAt, summary: this.topology.summary };
  }

  async simulate(req: SimulateRequest) {
    const { result, sites, withdrawn } = await this.run(req);
    const routes = req.clients.map((asn) => this.routeView(result, asn));
    const summary = result.summary();
    return {
      sites: sites.map((s, i) => ({ region: s.region, originAsn: s.originAsn, upstreams: s.upstreams, prepend: s.prepend, announced: summary.sites[i].announced })),
      withdrawn,
      catchments: summary.catchments,
      reached: summary.reached,
      unreachable: summary.unreachable,
      unreachableAsns: summary.unreachableAsns.slice(0, 100),
      routes,
      convergence: summary.convergence,
      efficiency: summary.efficiency,
      geoDnsAgreement: result.geoDnsAgreement().share,
    };
  }

  async route(asnText: unknown) {
    const asn = Number(asnText);
    if (typeof asnText !== 'string' || !/^\d+$/.test(asnText) || !isValidAsn(asn)) {
      throw DomainError.field('asn', 'asn', 'must be an AS number from 1 to 4294967295');
    }
    const { result } = await this.run({ withdrawn: [], useHealth: true, clients: [] });
    const view = this.routeView(result, asn);
    if (view.status === 'not-in-topology') throw DomainError.notFound('AS', String(asn));
    return view;
  }

  private routeView(result: SimulationResult, asn: number) {
    const r = result.routeFor(asn);
    if (!r) return { asn, status: 'not-in-topology' as const, region: null, asPath: null, reason: null, learnedFrom: null };
    return { asn, status: r.status, region: r.region, asPath: r.route ? [...r.route.asPath] : null, reason: r.reason, learnedFrom: r.learnedFrom };
  }

  private async run(req: SimulateRequest): Promise<{ result: SimulationResult; sites: Site[]; withdrawn: string[] }> {
    const topology = this.topology;
    if (!topology) throw new DomainError(ErrorCode.Conflict, 'no topology is loaded; PUT /v1/anycast/topology first');
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
    const key = JSON.stringify([this.topologyVersion, sites, [...withdrawn].sort()]);
    let result = this.cache.get(key);
    if (!result) {
      try {
        result = simulate(topology, sites, { withdrawn });
      } catch (err) {
        if (err instanceof SiteError) {
          throw DomainError.validation(err.problems.map((p) => ({ field: `regions.${p.where}`, rule: p.rule, message: p.message })));
        }
        throw err;
      }
      if (this.cache.size >= MAX_CACHED_RESULTS) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, result);
    }
    return { result, sites, withdrawn: [...withdrawn].sort() };
  }

  private parse(format: string, source: string): Topology {
    try {
      return format === 'json' ? parseTopologyJson(source) : parseCaidaAsRel(source);
    } catch (err) {
      if (err instanceof TopologyError) {
        throw new DomainError(
          ErrorCode.Validation,
          `topology refused (${err.problemCount} problem${err.problemCount === 1 ? '' : 's'}): ${err.problems.slice(0, 5).map((p) => `${p.where}: ${p.message}`).join('; ')}`,
          err.problems.map((p) => ({ field: p.where, rule: p.rule, message: p.message })),
          { problemCount: err.problemCount },
        );
      }
      throw err;
    }
  }

  private install(topology: Topology, format: string, uploadedAt: Date): void {
    this.topology = topology;
    this.topologyVersion++;
    this.format = format;
    this.uploadedAt = uploadedAt.toISOString();
    this.cache.clear();
  }
}
