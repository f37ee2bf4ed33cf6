import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { GeoLocator } from '../geo/geo-locator';
import { ReadinessService } from '../ops/readiness.service';
import { DnsResponder, type AnswerCount, type ResponderStats } from './responder';
import { TableFiller } from './table-filler';
import { PreSigner } from './pre-signer';
import { DnsServer } from './udp-server';
import { MetricsService } from '../metrics/metrics.service';
import { DnsWorkerPool } from './workers/worker-pool';
import { sumCounters } from './workers/protocol';
import { chooseUdpIo } from './udp-batch';
import { requestCpuSlice } from '../common/cpu-slice';
import type { Server as HttpServer } from 'node:http';

/**
 * Nest face of the DNS server: feeds every new snapshot to the responder (which pre-encodes the
 * answers off the hot path) and owns the UDP and TCP sockets.
 *
 * UDP is read in batches by the native addon (udp-batch.ts) or by node:dgram (DNS_UDP_IO).
 * With DNS_WORKERS = N > 0, UDP is answered by N worker processes (dns/workers) sharing the
 * port; this process keeps TCP, sends every snapshot's input to the workers, and sums their
 * counters into /metrics. Each worker gets 1/N of the rate limits (the kernel spreads a client's
 * datagrams over the workers).
 */
@Injectable()
export class DnsService implements OnApplicationShutdown {
  private readonly logger = new Logger('dns');
  readonly responder: DnsResponder;
  private server: DnsServer | null = null;
  private pool: DnsWorkerPool | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly filler: TableFiller;
  private readonly presigner: PreSigner;
  private readonly resigner: NodeJS.Timeout;
  port = 0;

  constructor(
    private readonly snapshots: SnapshotStore,
    locator: GeoLocator,
    readiness: ReadinessService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.responder = new DnsResponder({
      classifier: () => locator.classifier,
      onError: (err) => this.logger.error(`query failed, answered SERVFAIL: ${(err as Error)?.message ?? String(err)}`),
      identity: config.dnsIdentity,
      dnssec: {
        kek: config.dnssec.kek,
        validitySeconds: config.dnssec.signatureValiditySeconds,
        inceptionOffsetSeconds: config.dnssec.inceptionOffsetSeconds,
        onlineSignaturesPerSecond: config.dnssec.onlineSignaturesPerSecond,
      },
    });
    // Signatures are made anew halfway through their validity window (checked every minute, off the hot path).
    this.resigner = setInterval(() => {
      try {
        if (this.responder.maintain()) this.logger.log('DNSSEC signatures made anew');
      } catch (err) {
        this.logger.error(`DNSSEC re-signing failed, the current signatures stay: ${(err as Error).message}`);
      }
    }, 60_000);
    this.resigner.unref();
    // Logged so that operators (and bench/hardening.bench.ts) can tell when the start-up fill is over.
    this.filler = new TableFiller(() => locator.classifier, this.responder, (ms) => this.logger.log(`routing tables filled ahead of queries (${ms} ms)`));
    // DNSSEC answers signed ahead of queries: after every new view, re-signing and new answer variant.
    this.presigner = new PreSigner(this.responder, undefined, (err) => this.logger.error(`DNSSEC pre-signing stopped, answers left are signed on first use: ${(err as Error).message}`));
    this.responder.onSigningWork = () => this.presigner.start();
    metrics.onCollect(() => {
      const st = this.stats();
      for (const transport of ['udp', 'tcp'] as const) {
        for (const [rcode, n] of Object.entries(st.replies[transport])) metrics.dnsReplies.set({ rcode, transport }, n);
        for (const [qtype, n] of Object.entries(st.queriesByType[transport])) metrics.dnsQueriesByType.set({ qtype, transport }, n);
      }
      const limited = this.rateLimited();
      metrics.rateLimited.set({ action: 'slip' }, limited.slipped);
      metrics.rateLimited.set({ action: 'drop' }, limited.dropped);
      metrics.dnsDropped.set({ reason: 'malformed' }, st.malformedDropped);
      metrics.dnsDropped.set({ reason: 'qr-set' }, st.responsesDropped);
      metrics.dnsTables.set({ table: 'location_classes' }, st.locationClasses);
      metrics.dnsTables.set({ table: 'ranked_classes' }, st.rankedClasses);
      metrics.dnsTables.set({ table: 'prepared_answers' }, st.preparedAnswers);
      metrics.dnsTables.set({ table: 'routed_answers' }, st.routed);
      metrics.dnssecSignatures.set({ path: 'background' }, st.dnssecSignatures.background);
      metrics.dnssecSignatures.set({ path: 'query' }, st.dnssecSignatures.query);
      countAnswers(metrics, this.responder.takeAnswerCounts());
    });
    readiness.register('dns', () => {
      if (this.server === null) return { name: 'dns', ok: false, detail: 'not bound' };
      const pool = this.pool;
      if (pool === null) return { name: 'dns', ok: true, detail: `port ${this.port}` };
      const listening = pool.listening;
      return {
        name: 'dns',
        ok: listening > 0,
        detail: `port ${this.port}, ${listening} of ${pool.size} UDP workers answering, lowest snapshot version ${pool.minVersion}`,
      };
    });
  }

  /**
   * Whether this process fills the routing tables ahead of queries (DNS_TABLES_PRELOAD). Not with
   * DNS_WORKERS: the workers answer UDP and fill their own; here only DNS over TCP asks, and its
   * rows are made on first use (about a microsecond each), so this process does not walk the whole
   * geo database and rank every class again after each change for a few TCP queries.
   */
  private get fillsAhead(): boolean {
    return this.config.dnsTablesPreload && this.config.dnsWorkers === 0;
  }

  /** Responder counters of this process and, with DNS_WORKERS, of every worker. */
  stats(): ResponderStats {
    const own = this.responder.stats();
    const workers = this.pool?.counters();
    return workers ? sumCounters(own, workers.responder) : own;
  }

  private rateLimited(): { slipped: number; dropped: number } {
    const own = this.server?.counters().rateLimited ?? { slipped: 0, dropped: 0 };
    const workers = this.pool?.counters()?.rateLimited;
    return workers ? sumCounters(own, workers) : own;
  }

  /** DNSSEC problems already logged (a zone served unsigned because its keys do not open, ...). */
  private readonly dnssecWarned = new Set<string>();

  /** Logs each DNSSEC warning of the current view once: an operator must learn that a zone went out unsigned. */
  private warnDnssec(): void {
    for (const w of this.responder.warnings) {
      if (!w.includes('DNSSEC') && !w.includes('signed, but')) continue;
      if (this.dnssecWarned.has(w)) continue;
      this.dnssecWarned.add(w);
      this.logger.warn(w);
    }
  }

  /** Binds UDP and TCP on one port (0 picks a free one) and returns it. */
  async start(host: string, port: number): Promise<number> {
    this.responder.setSnapshot(this.snapshots.current());
    this.warnDnssec();
    if (this.fillsAhead) this.filler.start();
    const rrl = this.config.rateLimit;
    // DNS_UDP_IO=batch without the addon stops start-up here, with the reason.
    const { io, reason } = chooseUdpIo(this.config.dnsUdpIo);
    this.logger.log(
      io === 'batch'
        ? 'DNS over UDP: batched recvmmsg/sendmmsg (native addon)'
        : reason === null
          ? 'DNS over UDP: node:dgram (DNS_UDP_IO=dgram)'
          : `DNS over UDP: node:dgram, because ${reason}`,
    );
    const options = { host, port, logger: this.logger, rateLimit: rrl, udpIo: io };
    // Subscribed before the workers start: a snapshot built meanwhile reaches the pool too.
    // A view that must be built anew (a large apply) is built in slices before the snapshot is
    // installed, while this one keeps answering.
    const unprepare = this.snapshots.prepareWith((s) => this.responder.prepare(s));
    const unsubscribe = this.snapshots.subscribe((s) => {
      this.responder.setSnapshot(s);
      this.warnDnssec();
      if (this.fillsAhead) this.filler.start();
      const source = this.snapshots.currentSource();
      if (this.pool !== null && source !== null && source.version === s.version) this.pool.publish(source);
    });
    // A write's response waits until the workers answer with it too (read-your-writes).
    const unfollow = this.snapshots.followWith((version) => this.pool?.served(version) ?? Promise.resolve());
    this.unsubscribe = () => {
      unprepare();
      unsubscribe();
      unfollow();
    };
    let server: DnsServer;
    try {
      server = this.config.dnsWorkers > 0 ? await this.startWithWorkers(options) : new DnsServer(this.responder, options);
    } catch (err) {
      this.unsubscribe();
      throw err;
    }
    this.port = (await server.listen()).port;
    this.server = server;
    if (this.config.dnsWorkers === 0) this.askCpuSlice();
    this.logger.log(
      rrl.responsesPerSecond > 0
        ? `UDP response rate limiting: ${rrl.responsesPerSecond} identical answers and ${rrl.errorsPerSecond} errors per second per client /24 or /56, slip ${rrl.slip}` +
            (rrl.exemptText.length > 0 ? `, exempt ${rrl.exemptText.join(',')}` : '')
        : 'UDP response rate limiting is off (RRL_RESPONSES_PER_SECOND=0)',
    );
    return this.port;
  }

  /**
   * DNS_CPU_SLICE_US for the thread that answers UDP here, this one (common/cpu-slice.ts says
   * why); DNS workers ask for their own. Not applied is a warning, never a failure.
   */
  private askCpuSlice(): void {
    const us = this.config.dnsCpuSliceUs;
    if (us === 0) return;
    const outcome = requestCpuSlice(us, 'thread');
    if (outcome.reason === null) this.logger.log(`DNS answered on a CPU slice of ${us} µs (DNS_CPU_SLICE_US)`);
    else this.logger.warn(`DNS_CPU_SLICE_US=${us} not applied, DNS keeps the kernel's slice: ${outcome.reason}`);
  }

  /**
   * TCP first in this process (port 0 picks one), then the workers bind UDP on that port. With
   * port 0 a port free for TCP may be taken for UDP: then both are let go and another is tried.
   */
  private async startWithWorkers(options: ConstructorParameters<typeof DnsServer>[1]): Promise<DnsServer> {
    const workers = this.config.dnsWorkers;
    const rrl = this.config.rateLimit;
    const first = this.snapshots.currentSource();
    if (first === null) throw new Error('DNS workers need a snapshot to start with');
    const share = (rate: number) => (rate === 0 ? 0 : Math.max(1, Math.round(rate / workers)));
    const attempts = options.port === 0 ? 5 : 1;
    let lastError: unknown = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const server = new DnsServer(this.responder, { ...options, udp: false });
      const { port } = await server.listen();
      const pool = new DnsWorkerPool({
        workers,
        start: {
          host: options.host,
          port,
          geoipDb: this.config.geoipDb,
          preload: this.config.dnsTablesPreload,
          identity: this.config.dnsIdentity,
          dnssec: {
            kekHex: this.config.dnssec.kek.toString('hex'),
            validitySeconds: this.config.dnssec.signatureValiditySeconds,
            inceptionOffsetSeconds: this.config.dnssec.inceptionOffsetSeconds,
            // Each worker has its own budget: together they keep to the configured rate.
            onlineSignaturesPerSecond: share(this.config.dnssec.onlineSignaturesPerSecond),
          },
          udpIo: options.udpIo ?? 'dgram',
          cpuSliceUs: this.config.dnsCpuSliceUs,
          rateLimit: { responsesPerSecond: share(rrl.responsesPerSecond), errorsPerSecond: share(rrl.errorsPerSecond), slip: rrl.slip, exempt: rrl.exemptText },
        },
        log: (level, message) => this.logger[level](message),
        // The workers fill ahead in this set-up (this process does not): say when they are done.
        onFilled: (ms) => this.logger.log(`routing tables filled ahead of queries by ${workers} DNS workers (slowest ${ms} ms)`),
        onDecisions: (delta) => {
          const m = this.metrics;
          countAnswers(m, delta.decisions.map(([service, region, reason, count]) => ({ service, region, reason: reason as AnswerCount['reason'], count })));
        },
      });
      this.pool = pool;
      try {
        await pool.start(this.snapshots.currentSource() ?? first);
        const slice = this.config.dnsCpuSliceUs;
        this.logger.log(
          `DNS over UDP answered by ${workers} worker process${workers === 1 ? '' : 'es'} sharing port ${port}` +
            (slice > 0 ? `, each asking for a CPU slice of ${slice} µs (DNS_CPU_SLICE_US)` : '') +
            '; TCP in this process',
        );
        return server;
      } catch (err) {
        lastError = err;
        this.pool = null;
        await server.close();
        if (!/EADDRINUSE/.test((err as Error).message)) break;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('dns: cannot start the DNS workers');
  }

  /**
   * DNS between HTTP requests (issue 22): when UDP is answered in this process, a request on
   * `http` that comes at least `gapMs` after the last look first answers the queries waiting on
   * the DNS socket. Under an HTTP flood one event-loop turn handles dozens of requests before the
   * socket's turn comes; this way a query waits for at most about `gapMs` of them. Nothing to do
   * with DNS_WORKERS (the workers own UDP).
   */
  interleaveWith(http: HttpServer, gapMs = INTERLEAVE_GAP_MS): void {
    if (this.config.dnsWorkers > 0) return;
    let last = 0;
    http.prependListener('request', () => {
      const now = performance.now();
      if (now - last < gapMs) return;
      last = now;
      this.server?.pump();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.filler.stop();
    this.presigner.stop();
    clearInterval(this.resigner);
    const server = this.server;
    const pool = this.pool;
    this.server = null;
    this.pool = null;
    await Promise.all([server?.close(), pool?.close()]);
  }
}

/**
 * Milliseconds between two looks at the DNS socket from the HTTP path (interleaveWith). A look
 * that finds nothing is one recvmmsg; looking every second request cost 6-10 % of a lean
 * redirect's CPU against not looking (44.1 against 39.7-42.0 us a request, same process), every
 * 0.25 ms 2-4 % less than every second request (47.7-47.9 against 49.0-49.8 us). That is one look
 * in about five requests at /r/'s rate here, and a query waits at most that long for its turn,
 * under the idle p99 (0.5 ms on a quiet machine). Measured before, with /r/ saturated: DNS p50
 * 3.4 ms with no looks, 0.47 ms looking every 4th request, 0.14 ms every request.
 */
const INTERLEAVE_GAP_MS = 0.25;

/** Refusals that count as residency refusals in georoute_residency_refusals_total. */
const RESIDENCY_REFUSALS: ReadonlySet<string> = new Set(['residency-no-eligible-region', 'residency-primary-outside-eu']);

/** Adds the DNS answers counted since the last scrape to the decision counters. */
export function countAnswers(metrics: MetricsService, counts: readonly AnswerCount[]): void {
  for (const { service, region, reason, count } of counts) {
    metrics.decisions.inc({ service, region, reason, path: 'dns' }, count);
    if (RESIDENCY_REFUSALS.has(reason)) metrics.residencyRefusals.inc({ service, path: 'dns' }, count);
  }
}
