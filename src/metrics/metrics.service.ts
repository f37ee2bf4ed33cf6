import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AUTH_REFUSED, AuthRefusedEvent, OnAppEvent } from '../common/events';

/**
 * The one Prometheus registry. Hot-path figures (DNS replies by rcode and transport, cache hits)
 * are counted by the DNS responder in plain integers and read here at scrape time through
 * `onCollect` callbacks, so a query never touches prom-client.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly collectors: (() => void)[] = [];

  readonly dnsReplies = new Gauge({ name: 'georoute_dns_responses_total', help: 'DNS replies sent, by rcode and transport (a counter read from the responder)', labelNames: ['rcode', 'transport'], registers: [this.registry] });
  readonly dnsQueriesByType = new Gauge({ name: 'georoute_dns_queries_by_type_total', help: 'DNS queries answered, by query type and transport (a counter read from the responder)', labelNames: ['qtype', 'transport'], registers: [this.registry] });
  readonly dnsDropped = new Gauge({ name: 'georoute_dns_dropped_total', help: 'DNS messages dropped without a reply, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly dnsTables = new Gauge({ name: 'georoute_dns_tables', help: 'Routing tables of the DNS path: location classes known, classes ranked, prepared answers, service answers routed (all processes)', labelNames: ['table'], registers: [this.registry] });
  readonly dnssecSignatures = new Gauge({ name: 'georoute_dnssec_signatures_total', help: 'DNSSEC signatures (RRSIGs) made, by path: background (the pre-signer, ahead of queries) or query (while answering: answers not prepared yet, compact denials, wildcard answers); all processes (a counter read from the responders)', labelNames: ['path'], registers: [this.registry] });
  readonly decisions = new Counter({ name: 'georoute_decisions_total', help: 'Routing decisions made (every DNS answer for a service name, redirects, explain), by service, region, reason and path', labelNames: ['service', 'region', 'reason', 'path'], registers: [this.registry] });
  readonly decisionSeconds = new Histogram({ name: 'georoute_decision_seconds', help: 'Time to locate the client and decide', labelNames: ['path'], buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005], registers: [this.registry] });
  readonly residencyRefusals = new Counter({ name: 'georoute_residency_refusals_total', help: 'Answers refused because of residency, by service and path', labelNames: ['service', 'path'], registers: [this.registry] });
  readonly regionHealth = new Gauge({ name: 'georoute_region_health', help: '1 for the current health state of each region', labelNames: ['region', 'status'], registers: [this.registry] });
  readonly healthTransitions = new Counter({ name: 'georoute_health_transitions_total', help: 'Health state transitions, by region, new state and source', labelNames: ['region', 'to', 'source'], registers: [this.registry] });
  readonly probeSeconds = new Histogram({ name: 'georoute_probe_seconds', help: 'Health probe latency, by region and result', labelNames: ['region', 'result'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly webhooks = new Counter({ name: 'georoute_webhooks_total', help: 'Health webhooks, by outcome (accepted, or the refusal reason)', labelNames: ['outcome'], registers: [this.registry] });
  readonly rateLimited = new Gauge({ name: 'georoute_dns_rate_limited_total', help: 'UDP responses limited by response rate limiting, by action', labelNames: ['action'], registers: [this.registry] });
  readonly measurementsAccepted = new Counter({ name: 'georoute_measurements_accepted_total', help: 'Latency measurements stored, by origin (feed, beacon)', labelNames: ['origin'], registers: [this.registry] });
  readonly measurementsRejected = new Counter({ name: 'georoute_measurements_rejected_total', help: 'Latency measurements refused, by origin and reason (invalid, unknown-region, rate-limited, too-many, bad-key)', labelNames: ['origin', 'reason'], registers: [this.registry] });
  readonly measurementsStale = new Counter({ name: 'georoute_measurements_stale_total', help: 'Latency measurements dropped because they were observed before the evidence window', labelNames: ['origin'], registers: [this.registry] });
  readonly latencyTable = new Gauge({ name: 'georoute_latency_table_entries', help: 'Trusted latency evidence compiled into the routing tables, by level', labelNames: ['level'], registers: [this.registry] });
  readonly snapshotVersion = new Gauge({ name: 'georoute_snapshot_version', help: 'Version of the routing snapshot in use', registers: [this.registry] });
  readonly snapshotAge = new Gauge({ name: 'georoute_snapshot_age_seconds', help: 'Seconds since the snapshot in use was built', registers: [this.registry] });
  readonly authRefused = new Counter({ name: 'georoute_auth_refused_total', help: 'API requests refused by the bearer guard: no-token and bad-token (401, failed logins), missing-scope (403)', labelNames: ['reason'], registers: [this.registry] });
  readonly snapshotBuild = new Gauge({ name: 'georoute_snapshot_build_seconds', help: 'Time the last snapshot rebuild took', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'georoute_' });
  }

  @OnAppEvent(AUTH_REFUSED)
  onAuthRefused(event: AuthRefusedEvent): void {
    this.authRefused.inc({ reason: event.reason });
  }

  /** Registers a function that refreshes gauges right before each scrape. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** Brings the counters read from elsewhere (the DNS responders' own) up to date. */
  collect(): void {
    for (const fn of this.collectors) fn();
  }

  async render(): Promise<string> {
    this.collect();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
