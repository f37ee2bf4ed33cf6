import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ClientAddressReader } from '../common/client-ip';
import { normalizeName } from '../common/dns-name';
import { logAccess } from '../common/access-log';
import { ServerHeaders, type FlatHeaders } from '../common/lean-response';
import { GeoLocator } from '../geo/geo-locator';
import type { GeoClassifier } from '../geo/geo-classifier';
import { MetricsService } from '../metrics/metrics.service';
import { clientHashKey } from '../routing/rendezvous';
import { planFor, type ServicePlan } from '../routing/service-plan';
import { RegionRanking, geometryKeyOf } from '../routing/tables/region-ranking';
import { TableRouter } from '../routing/tables/table-router';
import { REASONS, type Reason, type RoutingSnapshot } from '../routing/types';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { LocationCache } from './redirect-location';

/**
 * A lean answerer in front of Express: answers (its status line and headers written with
 * `headers.writeHead`, so they carry the server-wide headers) and returns true, or touches nothing
 * and returns false.
 */
export type LeanAnswerer = (req: IncomingMessage, res: ServerResponse, headers: ServerHeaders) => boolean;

/** The body of GET /healthz, as Nest serialises the controller's `{ status: 'ok' }`. */
const HEALTHZ_BODY = Buffer.from(JSON.stringify({ status: 'ok' }));
const HEALTHZ_HEADERS: FlatHeaders = ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', HEALTHZ_BODY.length];

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
 * Headers: the server-wide headers (helmet's, src/common/lean-response.ts) and the answer's own go
 * out in one res.writeHead with a flat list, computed once rather than set one by one per
 * request; the fast path is the server's last 'request' listener, and headers a listener before
 * it set are kept, except those the server-wide list names (as on the Express path).
 */
@Injectable()
export class RedirectFastPath {
  private readonly logger = new Logger('redirect');
  private readonly router = new TableRouter();
  private ranking: RegionRanking | null = null;
  private rankedSnapshot: RoutingSnapshot | null = null;
  private geometryKey = '';
  private classifier: GeoClassifier | null = null;
  private readonly clients: ClientAddressReader;
  private readonly locations = new LocationCache();
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
  /**
   * georoute_decision_seconds{path="redirect"}, its labels resolved once. Timed with
   * performance.now() (a double; hrtime.bigint() made two BigInts a request).
   */
  private readonly decisionSeconds: { observe(seconds: number): void };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly snapshots: SnapshotStore,
    private readonly locator: GeoLocator,
    private readonly metrics: MetricsService,
  ) {
    metrics.onCollect(() => this.flushCounts());
    this.accessLog = config.logLevel === 'debug' || config.logLevel === 'trace';
    this.clients = new ClientAddressReader(config.trustedProxies);
    this.decisionSeconds = metrics.decisionSeconds.labels({ path: 'redirect' });
  }

  /**
   * Puts the fast path in front of `app` (the Express application the server's 'request' event
   * calls): requests it does not answer go to `app` as before. The pair becomes the last
   * 'request' listener, so other server-wide listeners run first whether they were added before
   * or after the application; one added after attach() must use prependListener, since the fast
   * path sends its headers at once. `others` are further lean answerers tried after the fast
   * path, in order (src/read-cache.ts), each with the fast path's contract: answer and return
   * true, or touch nothing and return false. `headers` go on every response: written by the lean
   * answerers with their own, set before Express for the rest.
   */
  attach(server: Server, app: RequestListener, others: readonly LeanAnswerer[] = [], headers: ServerHeaders = ServerHeaders.none): void {
    const listeners = server.listeners('request');
    if (!listeners.includes(app)) throw new Error('redirect fast path: the HTTP server does not call the given application');
    const front: RequestListener = (req, res) => {
      let answered = false;
      try {
        answered = this.handle(req, res, headers);
        if (!answered) for (const other of others) if ((answered = other(req, res, headers))) break;
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
      if (!answered) {
        headers.setOn(res);
        app(req, res);
      }
    };
    server.removeAllListeners('request');
    for (const listener of listeners) if (listener !== app) server.on('request', listener as RequestListener);
    server.on('request', front);
  }

  /** Answers `req` and returns true, or returns false (and touches nothing) for Express to answer. */
  handle(req: IncomingMessage, res: ServerResponse, headers: ServerHeaders = ServerHeaders.none): boolean {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    if (url.startsWith('/r/')) return this.redirect(req, res, headers, url, method === 'HEAD');
    if (url === '/healthz' || url.startsWith('/healthz?')) {
      const started = performance.now();
      headers.writeHead(res, 200, HEALTHZ_HEADERS);
      res.end(method === 'HEAD' ? undefined : HEALTHZ_BODY);
      this.answered++;
      this.endLog(req, 200, started);
      return true;
    }
    return false;
  }

  private redirect(req: IncomingMessage, res: ServerResponse, serverHeaders: ServerHeaders, url: string, head: boolean): boolean {
    const started = performance.now();
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
    const client = this.clients.read(req.socket.remoteAddress, req.headers['x-forwarded-for']);
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
    const built = this.locations.build(baseUrl, cut < 0 ? '' : raw.slice(cut));
    if (!built.ok) return false;

    const reason = router.reason();
    const headers: FlatHeaders = ['X-Georoute-Reason', reason, 'X-Georoute-Region', region.name, 'Cache-Control', `private, max-age=${service.ttl}`, 'Location', built.location];
    if (service.replication !== undefined) headers.push('X-Georoute-Access', service.writeOf !== undefined ? 'write' : 'read');
    if (head) {
      serverHeaders.writeHead(res, 307, headers);
      res.end();
    } else {
      const body = `Temporary Redirect to ${region.name}\n`;
      headers.push('Content-Type', 'text/plain; charset=utf-8', 'Content-Length', Buffer.byteLength(body));
      serverHeaders.writeHead(res, 307, headers);
      res.end(body);
    }
    this.answered++;
    this.count(plan, position, reason);
    this.decisionSeconds.observe((performance.now() - started) / 1000);
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
  private endLog(req: IncomingMessage, status: number, started: number): void {
    if (this.accessLog) logAccess(req, req.url ?? '', status, started);
  }
}

const REASON_INDEX = Object.fromEntries(REASONS.map((r, i) => [r, i])) as Record<Reason, number>;
