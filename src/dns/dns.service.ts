import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { decide } from '../routing/engine';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { GeoLocator } from '../geo/geo-locator';
import { ReadinessService } from '../ops/readiness.service';
import { DnsResponder } from './responder';
import { DnsServer } from './udp-server';
import { MetricsService } from '../metrics/metrics.service';
import type { RouteQuery, RoutingSnapshot } from '../routing/types';

/**
 * Nest face of the DNS server: feeds every new snapshot to the responder (which pre-encodes the
 * answers off the hot path) and owns the UDP and TCP sockets.
 */
@Injectable()
export class DnsService implements OnApplicationShutdown {
  private readonly logger = new Logger('dns');
  readonly responder: DnsResponder;
  private server: DnsServer | null = null;
  private unsubscribe: (() => void) | null = null;
  port = 0;

  constructor(
    private readonly snapshots: SnapshotStore,
    locator: GeoLocator,
    readiness: ReadinessService,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // decide() runs only on answer-cache misses; count and time it there (hits cost nothing extra).
    const timedDecide = (s: RoutingSnapshot, q: RouteQuery) => {
      const started = process.hrtime.bigint();
      const d = decide(s, q);
      metrics.decisionSeconds.observe({ path: 'dns' }, Number(process.hrtime.bigint() - started) / 1e9);
      if (d) {
        metrics.decisions.inc({ service: d.service, region: d.regions[0] ?? '', reason: d.reason, path: 'dns' });
        if (d.outcome === 'refused' && d.reason.startsWith('residency')) metrics.residencyRefusals.inc({ service: d.service, path: 'dns' });
      }
      return d;
    };
    this.responder = new DnsResponder({
      locator,
      decide: timedDecide,
      onError: (err) => this.logger.error(`query failed, answered SERVFAIL: ${(err as Error)?.message ?? String(err)}`),
    });
    metrics.onCollect(() => {
      const st = this.responder.stats();
      for (const transport of ['udp', 'tcp'] as const) {
        for (const [rcode, n] of Object.entries(st.replies[transport])) metrics.dnsReplies.set({ rcode, transport }, n);
      }
      for (const transport of ['udp', 'tcp'] as const) {
        for (const [qtype, n] of Object.entries(st.queriesByType[transport])) metrics.dnsQueriesByType.set({ qtype, transport }, n);
      }
      const limited = this.server?.counters().rateLimited;
      metrics.rateLimited.set({ action: 'slip' }, limited?.slipped ?? 0);
      metrics.rateLimited.set({ action: 'drop' }, limited?.dropped ?? 0);
      metrics.dnsDropped.set({ reason: 'malformed' }, st.malformedDropped);
      metrics.dnsDropped.set({ reason: 'qr-set' }, st.responsesDropped);
      metrics.dnsCache.set({ result: 'hit' }, st.cacheHits);
      metrics.dnsCache.set({ result: 'miss' }, st.cacheMisses);
    });
    readiness.register('dns', () => ({ name: 'dns', ok: this.server !== null, detail: this.server ? `port ${this.port}` : 'not bound' }));
  }

  /** Binds UDP and TCP on one port (0 picks a free one) and returns it. */
  async start(host: string, port: number): Promise<number> {
    this.responder.setSnapshot(this.snapshots.current());
    this.unsubscribe = this.snapshots.subscribe((s) => this.responder.setSnapshot(s));
    const rrl = this.config.rateLimit;
    const server = new DnsServer(this.responder, { host, port, logger: this.logger, rateLimit: rrl });
    this.logger.log(
      rrl.responsesPerSecond > 0
        ? `UDP response rate limiting: ${rrl.responsesPerSecond} identical answers and ${rrl.errorsPerSecond} errors per second per client /24 or /56, slip ${rrl.slip}` +
            (rrl.exemptText.length > 0 ? `, exempt ${rrl.exemptText.join(',')}` : '')
        : 'UDP response rate limiting is off (RRL_RESPONSES_PER_SECOND=0)',
    );
    const bound = await server.listen();
    this.server = server;
    this.port = bound.port;
    return bound.port;
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    const server = this.server;
    this.server = null;
    await server?.close();
  }
}
