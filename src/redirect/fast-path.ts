import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { APP_CONFIG, AppConfig } from '../config/config';
import { clientAddress } from '../common/client-ip';
import { normalizeName } from '../common/dns-name';
import { logAccess } from '../common/access-log';
import { GeoLocator } from '../geo/geo-locator';
import type { GeoClassifier } from '../geo/geo-classifier';
import { MetricsService } from '../metrics/metrics.service';
import { clientHashKey } from '../routing/rendezvous';
import { planFor, type ServicePlan } from '../routing/service-plan';
import { RegionRanking, geometryKeyOf } from '../routing/tables/region-ranking';
import { TableRouter } from '../routing/tables/table-router';
import { REASONS, type Reason, type RoutingSnapshot } from '../routing/types';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { buildLocation } from './redirect-location';

/** A lean answerer in front of Express: answers and returns true, or touches nothing and returns false. */
export type LeanAnswerer = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The body of GET /healthz, as Nest serialises the controller's `{ status: 'ok' }`. */
const HEALTHZ_BODY = Buffer.from(JSON.stringify({ status: 'ok' }));

/**
 * The lean path of `GET|HEAD /r/{fqdn}/{path}` and `GET|HEAD /healthz`, in front of Nest's router
 * on the same http.Server (issue 22).
 *
 * Why: through Express and Nest a redirect cost ~400 µs of one core (router, body parser on GET,
 * guards, interceptors, exception zones, `res.send`'s ETag), the routing decision ~1 % of it. Here
 * a request is: split the URL, one snapshot read, the client address (X-Forwarded-For from a
 * trusted proxy), its location class (GeoClassifier: the MMDB tree walked in place), the region
 * order from the class's ranking row (TableRouter, the DNS path's tables), then one writeHead.
 *
 * What it answers itself: only a 307 (and /healthz). Anything else — an unknown service, an
 * unreadable client address, a refusal, no region with a baseUrl, a path buildLocation refuses,
 * any other method — is handed to Express unchanged, where RedirectService answers it with
 * decide() exactly as before (problem documents, Retry-After, logs, refusal metrics). The table
 * path and decide() agree on outcome, reason and regions (routing/tables property test), and
 * test/redirect-fast-path.e2e-spec.ts compares the two over HTTP.
 *
 * Headers: the fast path is the server's last 'request' listener and writes with res.writeHead,
 * which keeps every header the listeners before it set (server-wide security headers).
 */
@Injectable()
export class RedirectFastPath {
  private readonly logger = new Logger('redirect');
  private readonly router = new TableRouter();
  private ranking: RegionRanking | null = null;
  private rankedSnapshot: RoutingSnapshot | null = null;
  private geometryKey = '';
  private classifier: GeoClassifier | null = null;
  /** Redirects per (plan, first region position, reason), added to the decision counter at scrape time. */
  private readonly counts = new Map<ServicePlan, Float64Array>();
  /** Client key of the weighted policy, for the request being routed. */
  private keyIp = '';
  private keyFamily: 4 | 6 = 4;
  private readonly clientKey = (): string => clientHashKey(this.keyIp, this.keyFamily);
  /** How many requests this path answered, and how many threw and went to Nest (for tests and diagnostics). */
  answered = 0;
  failures = 0;
  /** The access log's lines are debug lines: timed and written only when LOG_LEVEL lets them out. */
  private readonly accessLog: boolean;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly snapshots: SnapshotStore,
    private readonly locator: GeoLocator,
    private readonly metrics: MetricsService,
  ) {
    metrics.onCollect(() => this.flushCounts());
    this.accessLog = config.logLevel === 'debug' || config.logLevel === 'trace';
  }

  /**
   * Puts the fast path in front of `app` (the Express application the server's 'request' event
   * calls): requests it does not answer go to `app` as before. The pair becomes the last
   * 'request' listener, so server-wide listeners (security headers) run first whether they were
   * added before or after the application; one added after attach() must use prependListener,
   * since the fast path sends its headers at once. `others` are further lean answerers tried
   * first, in order (src/read-cache.ts), each with the fast path's contract: answer and return
   * true, or touch nothing and return false.
   */
  attach(server: Server, app: RequestListener, others: readonly LeanAnswerer[] = []): void {
    const listeners = server.listeners('request');
    if (!listeners.includes(app)) throw new Error('redirect fast path: the HTTP server does not call the given application');
    const front: RequestListener = (req, res) => {
      let answered = false;
      try {
        for (const other of others) if ((answered = other(req, res))) break;
        if (!answered) answered = this.handle(req, res);
      } catch (err) {
        // A throw in a 'request' listener would end the process: log it and let Nest answer
        // (with decide()), or drop the connection if the fast path had already begun a reply.
        this.failures++;
        this.logger.error(`fast path failed on ${req.method} ${(req.url ?? '').split('?')[0].slice(0, 200)}, handed to Nest: ${(err as Error)?.message ?? String(err)}`);
        if (res.headersSent) {
          res.destroy();
          return;
        }
      }
      if (!answered) app(req, res);
    };
    server.removeAllListeners('request');
    for (const listener of listeners) if (listener !== app) server.on('request', listener as RequestListener);
    server.on('request', front);
  }

  /** Answers `req` and returns true, or returns false (and touches nothing) for Express to answer. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    if (url.startsWith('/r/')) return this.redirect(req, res, url, method === 'HEAD');
    if (url === '/healthz' || url.startsWith('/healthz?')) {
      const started = process.hrtime.bigint();
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': HEALTHZ_BODY.length });
      res.end(method === 'HEAD' ? undefined : HEALTHZ_BODY);
      this.answered++;
      this.endLog(req, 200, started);
      return true;
    }
    return false;
  }

  private redirect(req: IncomingMessage, res: ServerResponse, url: string, head: boolean): boolean {
    const started = process.hrtime.bigint();
    const raw = url.slice(3);
    let cut = -1;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 0x2f || c === 0x3f) {
        cut = i;
        break;
      }
    }
    const fqdn = normalizeName(cut < 0 ? raw : raw.slice(0, cut));
    const snapshot = this.snapshots.current();
    const service = snapshot.services.get(fqdn);
    if (service === undefined) return false;
    const client = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.trustedProxies);
    if (client === null) return false;

    const plan = planFor(snapshot, service);
    const ranking = this.tables(snapshot);
    const classifier = this.classifier!;
    const classId = classifier.classifyText(client.ip);
    this.keyIp = client.ip;
    this.keyFamily = classifier.family;
    const router = this.router;
    const selection = router.route(snapshot, plan, classifier.classes, ranking, classId, classifier.prefixLength, classifier.family, 'http', false, this.clientKey);
    if (selection.refusal !== null || selection.count === 0) return false;
    const position = selection.chosen[0];
    const region = plan.regions[position];
    const baseUrl = region.baseUrl;
    if (baseUrl === null || baseUrl === undefined) return false;
    const built = buildLocation(baseUrl, cut < 0 ? '' : raw.slice(cut));
    if (!built.ok) return false;

    const reason = router.reason();
    const headers: Record<string, string | number> = {
      'X-Georoute-Reason': reason,
      'X-Georoute-Region': region.name,
      'Cache-Control': `private, max-age=${service.ttl}`,
      Location: built.location,
    };
    if (service.replication !== undefined) headers['X-Georoute-Access'] = service.writeOf !== undefined ? 'write' : 'read';
    if (head) {
      res.writeHead(307, headers);
      res.end();
    } else {
      const body = `Temporary Redirect to ${region.name}\n`;
      headers['Content-Type'] = 'text/plain; charset=utf-8';
      headers['Content-Length'] = Buffer.byteLength(body);
      res.writeHead(307, headers);
      res.end(body);
    }
    this.answered++;
    this.count(plan, position, reason);
    this.metrics.decisionSeconds.observe({ path: 'redirect' }, Number(process.hrtime.bigint() - started) / 1e9);
    this.endLog(req, 307, started);
    return true;
  }

  /**
   * The classifier of the geo database in use and a region ranking for its classes and the
   * snapshot's regions, made anew only when either changed (a reloaded database, a region moved).
   */
  private tables(snapshot: RoutingSnapshot): RegionRanking {
    const classifier = this.locator.classifier;
    let ranking = this.ranking;
    if (snapshot !== this.rankedSnapshot) {
      const key = geometryKeyOf(snapshot);
      if (key !== this.geometryKey) ranking = null;
      this.geometryKey = key;
      this.rankedSnapshot = snapshot;
    }
    if (ranking === null || ranking.classes !== classifier.classes) {
      ranking = new RegionRanking(snapshot, classifier.classes);
    }
    this.ranking = ranking;
    this.classifier = classifier;
    return ranking;
  }

  private count(plan: ServicePlan, position: number, reason: Reason): void {
    let counts = this.counts.get(plan);
    if (counts === undefined) {
      counts = new Float64Array(plan.regions.length * REASONS.length);
      this.counts.set(plan, counts);
    }
    counts[position * REASONS.length + REASON_INDEX[reason]]++;
  }

  /** Adds the redirects counted since the last scrape to georoute_decisions_total{path="redirect"}. */
  private flushCounts(): void {
    for (const [plan, counts] of this.counts) {
      for (let slot = 0; slot < counts.length; slot++) {
        const n = counts[slot];
        if (n === 0) continue;
        const region = plan.regions[Math.floor(slot / REASONS.length)].name;
        this.metrics.decisions.inc({ service: plan.service.fqdn, region, reason: REASONS[slot % REASONS.length], path: 'redirect' }, n);
      }
    }
    this.counts.clear();
  }

  /** The line src/common/access-log.ts writes for a request Express answers. */
  private endLog(req: IncomingMessage, status: number, started: bigint): void {
    if (this.accessLog) logAccess(req, req.url ?? '', status, started);
  }
}

const REASON_INDEX = Object.fromEntries(REASONS.map((r, i) => [r, i])) as Record<Reason, number>;
