import { Inject, Injectable } from '@nestjs/common';
import * as ipaddr from 'ipaddr.js';
import { createHash, randomBytes } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError, ErrorCode, type FieldProblem } from '../common/domain-error';
import { parseIp } from '../common/client-ip';
import { normalizeName } from '../common/dns-name';
import { GeoLocator } from '../geo/geo-locator';
import { MetricsService } from '../metrics/metrics.service';
import { placeKey } from '../routing/latency';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { MeasurementsRepository, type BeaconKeyRow, type SampleRow } from './measurements.repository';
import { LatencyCompiler } from './latency-compiler';

/** Largest RTT accepted (ms): anything slower is a timeout, not a round trip. */
export const MAX_RTT_MS = 60000;
/** How far in the future an observedAt may be (clock skew). */
const FUTURE_SKEW_MS = 5 * 60000;
const BEACON_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]{0,199}$/;

export type Origin = 'feed' | 'beacon';

/** The client's network: family and the /24 or /48 number, its text, and the geo place of its first address. */
interface Network {
  readonly family: 4 | 6;
  readonly n: number;
  readonly text: string;
}

/** The outcome of a batch: what was stored, dropped as stale, refused by the rate limit. */
export interface IngestResult {
  readonly accepted: number;
  readonly stale: number;
  readonly rateLimited: number;
}

/**
 * Measurements in: validation (a bad item refuses the whole batch with every problem named, and
 * nothing is stored), truncation of client addresses to their /24 or /48 before anything else
 * sees them, per-source rate limits, the beacon's keys and configuration, and the coverage
 * summary. Aggregation and compilation are the repository's and LatencyCompiler's.
 */
@Injectable()
export class MeasurementsService {
  /** Per source network: the minute window and samples taken in it (this instance). */
  private readonly budgets = new Map<string, { minute: number; used: number }>();
  /** Beacon keys by key, cached briefly (the beacon posts often; keys change rarely). */
  private readonly keys = new Map<string, { row: BeaconKeyRow | null; until: number }>();
  private readonly sourceSalt: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: MeasurementsRepository,
    private readonly geo: GeoLocator,
    private readonly metrics: MetricsService,
    private readonly snapshots: SnapshotStore,
    private readonly compiler: LatencyCompiler,
  ) {
    // Beacon sources are a keyed digest of the address: distinct sources can be counted by every
    // instance alike (they share ADMIN_TOKEN) without storing an address.
    this.sourceSalt = createHash('sha256').update(`georoute-beacon-source|${config.adminToken}`).digest('hex');
  }

  /** POST /v1/measurements: a batch from a token-holding tool (the token is the source). */
  async report(body: unknown, sourceName: string): Promise<IngestResult> {
    const items = this.batchOf(body, 'measurements', 'feed');
    const problems: FieldProblem[] = [];
    const regions = this.snapshots.current().regions;
    const now = Date.now();
    const parsed: { network: Network; region: string; rttMs: number; observedAt: Date }[] = [];
    items.forEach((item, i) => {
      const at = `measurements[${i}]`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        problems.push({ field: at, rule: 'type', message: 'must be an object { client, region, rttMs, observedAt }' });
        return;
      }
      const o = item as Record<string, unknown>;
      for (const key of Object.keys(o)) {
        if (!['client', 'region', 'rttMs', 'observedAt'].includes(key)) problems.push({ field: `${at}.${key}`, rule: 'unknown-field', message: 'is not a measurement field (client, region, rttMs, observedAt)' });
      }
      const network = networkOf(o.client);
      if (typeof network === 'string') problems.push({ field: `${at}.client`, rule: 'client', message: network });
      const region = typeof o.region === 'string' ? o.region.trim().toLowerCase() : '';
      if (region === '') problems.push({ field: `${at}.region`, rule: 'required', message: 'must be the name of a region' });
      else if (!regions.has(region)) problems.push({ field: `${at}.region`, rule: 'unknown-region', message: `region "${region}" does not exist` });
      const rtt = rttOf(o.rttMs);
      if (typeof rtt === 'string') problems.push({ field: `${at}.rttMs`, rule: 'range', message: rtt });
      let observedAt = new Date(now);
      if (o.observedAt !== undefined) {
        const t = typeof o.observedAt === 'string' && /^\d{4}-\d\d-\d\dT/.test(o.observedAt) ? Date.parse(o.observedAt) : NaN;
        if (!Number.isFinite(t)) problems.push({ field: `${at}.observedAt`, rule: 'date-time', message: 'must be an RFC 3339 date-time (e.g. 2026-01-05T10:00:00Z)' });
        else if (t > now + FUTURE_SKEW_MS) problems.push({ field: `${at}.observedAt`, rule: 'future', message: 'is more than 5 minutes in the future' });
        else observedAt = new Date(t);
      }
      if (typeof network !== 'string' && typeof rtt === 'number' && region !== '' && regions.has(region)) parsed.push({ network, region, rttMs: rtt, observedAt });
    });
    if (problems.length > 0) {
      this.metrics.measurementsRejected.inc({ origin: 'feed', reason: 'invalid' }, items.length);
      throw DomainError.validation(problems.slice(0, 50));
    }
    const sourceNet = `token:${sourceName}`;
    return this.store(parsed, 'feed', () => ({ sourceId: sourceNet, sourceNet }));
  }

  /**
   * POST /v1/measurements/beacon: the beacon's results, keyed by the service's public beacon key.
   * The client is the request's source address (truncated here); regions must be the service's.
   */
  async beacon(raw: unknown, clientIp: string | null): Promise<IngestResult> {
    let body: unknown = raw;
    if (typeof raw === 'string') {
      try {
        body = JSON.parse(raw);
      } catch {
        this.metrics.measurementsRejected.inc({ origin: 'beacon', reason: 'invalid' });
        throw DomainError.field('body', 'json', 'must be JSON: { key, results: [{ region, rttMs }] }');
      }
    }
    const o = (body ?? {}) as Record<string, unknown>;
    const beacon = typeof o.key === 'string' ? await this.beaconKey(o.key) : null;
    if (beacon === null) {
      this.metrics.measurementsRejected.inc({ origin: 'beacon', reason: 'bad-key' });
      throw new DomainError(ErrorCode.Forbidden, 'unknown beacon key: the beacon needs the key of a service (POST /v1/measurements/beacon-keys)');
    }
    const items = this.batchOf(o.results, 'results', 'beacon');
    const address = clientIp === null ? null : parseIp(clientIp);
    const network = address === null ? 'no client address' : networkOf(address.toString());
    if (typeof network === 'string') {
      this.metrics.measurementsRejected.inc({ origin: 'beacon', reason: 'invalid' }, items.length);
      throw DomainError.field('client', 'client', `the request's source address is unusable: ${network}`);
    }
    const service = this.snapshots.current().services.get(beacon.service);
    const allowed = new Set(service?.regions ?? []);
    const problems: FieldProblem[] = [];
    const parsed: { network: Network; region: string; rttMs: number; observedAt: Date }[] = [];
    const now = new Date();
    items.forEach((item, i) => {
      const r = (item ?? {}) as Record<string, unknown>;
      const region = typeof r.region === 'string' ? r.region.toLowerCase() : '';
      if (!allowed.has(region)) problems.push({ field: `results[${i}].region`, rule: 'unknown-region', message: `must be a region of service ${beacon.service}` });
      const rtt = rttOf(r.rttMs);
      if (typeof rtt === 'string') problems.push({ field: `results[${i}].rttMs`, rule: 'range', message: rtt });
      else if (allowed.has(region)) parsed.push({ network, region, rttMs: rtt, observedAt: now });
    });
    if (problems.length > 0) {
      this.metrics.measurementsRejected.inc({ origin: 'beacon', reason: 'invalid' }, items.length);
      throw DomainError.validation(problems.slice(0, 50));
    }
    // The source: a digest of the whole address (never stored), its network the /24 or /48.
    const sourceId = `beacon:${createHash('sha256').update(`${this.sourceSalt}|${address!.toString()}`).digest('hex').slice(0, 20)}`;
    const sourceNet = `net:${network.text}`;
    return this.store(parsed, 'beacon', () => ({ sourceId, sourceNet }));
  }

  /** The beacon's configuration for a key: the service's regions' probe URLs, the sampling rate. */
  async beaconConfig(key: unknown): Promise<{ service: string; sampleRate: number; maxBatch: number; targets: { region: string; url: string }[] }> {
    const beacon = typeof key === 'string' ? await this.beaconKey(key) : null;
    if (beacon === null) throw new DomainError(ErrorCode.Forbidden, 'unknown beacon key: the beacon needs the key of a service (POST /v1/measurements/beacon-keys)');
    const snapshot = this.snapshots.current();
    const service = snapshot.services.get(beacon.service);
    const targets: { region: string; url: string }[] = [];
    for (const name of service?.regions ?? []) {
      const base = snapshot.regions.get(name)?.baseUrl;
      if (base) targets.push({ region: name, url: `${base.replace(/\/+$/, '')}${beacon.probePath}` });
    }
    return { service: beacon.service, sampleRate: beacon.sampleRate, maxBatch: Math.min(this.config.latency.batchMax, 32), targets };
  }

  /** POST /v1/measurements/beacon-keys: creates or rotates a service's beacon key. */
  async putBeaconKey(body: unknown): Promise<BeaconKeyRow> {
    const o = (body ?? {}) as Record<string, unknown>;
    const problems: FieldProblem[] = [];
    for (const key of Object.keys(o)) if (!['service', 'probePath', 'sampleRate'].includes(key)) problems.push({ field: key, rule: 'unknown-field', message: 'is not a field (service, probePath, sampleRate)' });
    const fqdn = typeof o.service === 'string' ? normalizeName(o.service) : '';
    if (fqdn === '') problems.push({ field: 'service', rule: 'required', message: 'must be the fqdn of a service' });
    const probePath = o.probePath === undefined ? '/' : o.probePath;
    if (typeof probePath !== 'string' || !BEACON_PATH.test(probePath)) problems.push({ field: 'probePath', rule: 'path', message: 'must be a URL path starting with / (at most 200 characters), e.g. /georoute-probe' });
    const sampleRate = o.sampleRate === undefined ? 1 : o.sampleRate;
    if (typeof sampleRate !== 'number' || !(sampleRate > 0 && sampleRate <= 1)) problems.push({ field: 'sampleRate', rule: 'range', message: 'must be a number above 0 and at most 1 (the share of page views that measure)' });
    if (problems.length > 0) throw DomainError.validation(problems);
    const service = await this.repo.findService(fqdn);
    if (service === null) throw DomainError.notFound('service', fqdn);
    const key = `bk_${randomBytes(18).toString('base64url')}`;
    const { row } = await this.repo.putBeaconKey({ service: fqdn, key, probePath: probePath as string, sampleRate: sampleRate as number });
    this.keys.clear();
    return row;
  }

  listBeaconKeys(): Promise<BeaconKeyRow[]> {
    return this.repo.beaconKeys();
  }

  /**
   * GET /v1/measurements/summary?service=: per region of the service, the samples, sources and
   * client networks of the window, and how many networks (per level) rank it in the compiled table.
   */
  async summary(service: unknown) {
    const fqdn = typeof service === 'string' ? normalizeName(service) : '';
    if (fqdn === '') throw DomainError.field('service', 'required', 'must be the fqdn of a service (?service=app.example.com)');
    const snap = this.snapshots.current().services.get(fqdn);
    if (snap === undefined) throw DomainError.notFound('service', fqdn);
    const since = new Date(Date.now() - this.config.latency.windowMs);
    const coverage = new Map((await this.repo.coverage(snap.regions, since)).map((r) => [r.region, r]));
    const trusted = this.compiler.trustedByRegion();
    return {
      service: fqdn,
      policy: snap.policy,
      windowHours: this.config.latency.windowMs / 3600000,
      rules: { minSamples: this.config.latency.minSamples, minSources: this.config.latency.minSources, sourceCap: this.config.latency.sourceCap, halfLifeMinutes: this.config.latency.halfLifeMs / 60000 },
      compiledAt: this.compiler.compiledAt,
      regions: snap.regions.map((region) => {
        const c = coverage.get(region);
        return {
          region,
          samples: c?.samples ?? 0,
          sources: c?.sources ?? 0,
          networks: c?.networks ?? 0,
          newest: c?.newest ?? null,
          trusted: trusted.get(region) ?? {},
        };
      }),
    };
  }

  private async beaconKey(key: string): Promise<BeaconKeyRow | null> {
    const now = Date.now();
    const cached = this.keys.get(key);
    if (cached !== undefined && cached.until > now) return cached.row;
    const row = key.length > 100 ? null : await this.repo.beaconKey(key);
    if (this.keys.size > 10000) this.keys.clear();
    this.keys.set(key, { row, until: now + 10000 });
    return row;
  }

  /** The array of a batch, or a 400 (too large: 413). */
  private batchOf(value: unknown, field: string, origin: Origin): unknown[] {
    const list = (value !== null && typeof value === 'object' && !Array.isArray(value) && field === 'measurements' ? (value as Record<string, unknown>).measurements : value) as unknown;
    if (!Array.isArray(list) || list.length === 0) {
      this.metrics.measurementsRejected.inc({ origin, reason: 'invalid' });
      throw DomainError.field(field, 'required', `must be a non-empty array of measurements`);
    }
    if (list.length > this.config.latency.batchMax) {
      this.metrics.measurementsRejected.inc({ origin, reason: 'too-many' }, list.length);
      throw new DomainError(ErrorCode.PayloadTooLarge, `${field}: at most ${this.config.latency.batchMax} measurements per batch (LATENCY_BATCH_MAX); got ${list.length}`);
    }
    return list;
  }

  /**
   * Drops stale items, applies the source's per-minute budget, locates each network once and
   * stores the rest.
   */
  private async store(items: readonly { network: Network; region: string; rttMs: number; observedAt: Date }[], origin: Origin, source: () => { sourceId: string; sourceNet: string }): Promise<IngestResult> {
    const { sourceId, sourceNet } = source();
    const oldest = Date.now() - this.config.latency.windowMs;
    const fresh = items.filter((i) => i.observedAt.getTime() >= oldest);
    const stale = items.length - fresh.length;
    if (stale > 0) this.metrics.measurementsStale.inc({ origin }, stale);
    const allowed = this.take(sourceNet, fresh.length);
    const rateLimited = fresh.length - allowed;
    if (rateLimited > 0) this.metrics.measurementsRejected.inc({ origin, reason: 'rate-limited' }, rateLimited);
    const places = new Map<string, { placeKey: string | null; country: string | null }>();
    const rows: SampleRow[] = fresh.slice(0, allowed).map((i) => {
      let place = places.get(i.network.text);
      if (place === undefined) {
        const location = this.geo.locate(i.network.text.split('/')[0]);
        place = { placeKey: placeKey(location), country: location.country };
        places.set(i.network.text, place);
      }
      return { family: i.network.family, network: i.network.n, ...place, region: i.region, rttMs: i.rttMs, sourceId, sourceNet, origin, observedAt: i.observedAt };
    });
    await this.repo.insertSamples(rows);
    if (rows.length > 0) this.metrics.measurementsAccepted.inc({ origin }, rows.length);
    return { accepted: rows.length, stale, rateLimited };
  }

  /** Takes up to `n` samples from the source's budget of this minute; returns how many it may store. */
  private take(sourceNet: string, n: number): number {
    const minute = Math.floor(Date.now() / 60000);
    let budget = this.budgets.get(sourceNet);
    if (budget === undefined || budget.minute !== minute) {
      if (this.budgets.size > 50000) this.budgets.clear();
      budget = { minute, used: 0 };
      this.budgets.set(sourceNet, budget);
    }
    const granted = Math.max(0, Math.min(n, this.config.latency.sourceRatePerMinute - budget.used));
    budget.used += granted;
    return granted;
  }
}

/** A client address or prefix as its /24 or /48, or why not. Addresses are never kept beyond this. */
export function networkOf(value: unknown): Network | string {
  if (typeof value !== 'string' || value.trim() === '') return 'must be an IP address or a prefix (198.51.100.7, 198.51.100.0/24, 2001:db8:5::/48)';
  const [addressText, bitsText, extra] = value.trim().split('/');
  if (extra !== undefined) return 'must be an IP address or a prefix';
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.parse(addressText);
  } catch {
    return `"${value.slice(0, 60)}" is not an IP address or prefix`;
  }
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const v4 = address.kind() === 'ipv4';
  if (bitsText !== undefined) {
    const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
    const min = v4 ? 24 : 48;
    const max = v4 ? 32 : 128;
    if (bits < min || bits > max) return `a prefix must be /${min} to /${max} for IPv${v4 ? 4 : 6} (measurements are kept per /${min}); got /${bitsText}`;
  }
  if (v4) {
    const o = (address as ipaddr.IPv4).octets;
    return { family: 4, n: o[0] * 65536 + o[1] * 256 + o[2], text: `${o[0]}.${o[1]}.${o[2]}.0/24` };
  }
  const p = (address as ipaddr.IPv6).parts;
  return { family: 6, n: p[0] * 2 ** 32 + p[1] * 65536 + p[2], text: `${new ipaddr.IPv6([p[0], p[1], p[2], 0, 0, 0, 0, 0]).toString()}/48` };
}

function rttOf(value: unknown): number | string {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_RTT_MS) return `must be a round-trip time in milliseconds above 0 and at most ${MAX_RTT_MS}`;
  return Math.round(value * 100) / 100;
}
