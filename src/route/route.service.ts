import { Injectable } from '@nestjs/common';
import * as net from 'node:net';
import { DomainError } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { truncateIp } from '../common/ip';
import { GeoLocator } from '../geo/geo-locator';
import { decide } from '../routing/engine';
import { jurisdictionOf } from '../routing/jurisdiction';
import type { Access, ClientInfo, ClientSource, Decision, ReplicaSnap, ReplicationSnap, RoutingSnapshot } from '../routing/types';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { MetricsService } from '../metrics/metrics.service';

export interface Explanation {
  fqdn: string;
  type: 'A' | 'AAAA';
  snapshotVersion: number;
  client: {
    ip: string;
    country: string | null;
    continent: string | null;
    jurisdiction: string | null;
    latitude: number | null;
    longitude: number | null;
    source: ClientSource;
  };
  answer: { rcode: 'NOERROR' | 'SERVFAIL'; region: string | null; regions: string[]; addresses: string[]; ttl: number; ecsScope: number };
  reason: string;
  detail: string;
  /** 'write' for a write name or ?access=write. */
  access: Access;
  /** Replicated services: the mode, the primary or the conflict resolution in force, and each region's role and lag. */
  replication: ExplainedReplication | null;
  /** Each candidate; for replicated services with its role and last reported lag. */
  candidates: Decision['candidates'];
}

export interface ExplainedReplication {
  mode: ReplicationSnap['mode'];
  /** The service the write name belongs to (only when explaining a write name). */
  writeOf: string | null;
  primary: string | null;
  conflictResolution: ReplicationSnap['conflictResolution'];
  maxStalenessMs: number | null;
  writeFqdn: string | null;
  members: readonly ReplicaSnap[];
}

/** Explains a routing decision with the same engine, snapshot and locator as the DNS server. */
@Injectable()
export class RouteService {
  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly locator: GeoLocator,
    private readonly metrics: MetricsService,
  ) {}

  explain(q: Record<string, unknown>): Explanation {
    for (const key of Object.keys(q)) {
      if (!['fqdn', 'client', 'type', 'access'].includes(key)) {
        throw DomainError.field(key, 'unknown-parameter', 'is not a known query parameter (fqdn, client, type, access)');
      }
    }
    if (typeof q.fqdn !== 'string' || q.fqdn.length === 0) throw DomainError.field('fqdn', 'required', 'is required (the service name, e.g. app.example.com)');
    if (typeof q.client !== 'string' || net.isIP(q.client) === 0) throw DomainError.field('client', 'ip', 'must be an IPv4 or IPv6 address');
    const type = q.type === undefined ? 'A' : q.type;
    if (type !== 'A' && type !== 'AAAA') throw DomainError.field('type', 'enum', 'must be A or AAAA');
    const access = q.access === undefined ? 'read' : q.access;
    if (access !== 'read' && access !== 'write') throw DomainError.field('access', 'enum', 'must be read or write');
    const snapshot = this.snapshots.current();
    const fqdn = normalizeName(q.fqdn);
    return this.explainFor(snapshot, fqdn, type, q.client, 'explicit', access);
  }

  /** Also used by the redirect controller: one snapshot, read once, passed down. */
  decideFor(
    snapshot: RoutingSnapshot,
    fqdn: string,
    type: 'A' | 'AAAA' | 'HTTP',
    ip: string,
    source: ClientSource,
    access: Access = 'read',
  ): { decision: Decision; client: ClientInfo } {
    const path = type === 'HTTP' ? 'redirect' : 'explain';
    const started = process.hrtime.bigint();
    const family = net.isIP(ip) === 6 ? 6 : 4;
    const client: ClientInfo = { ip, family, location: this.locator.locate(ip), source };
    const decision = decide(snapshot, { fqdn, qtype: type, client, access });
    if (!decision) throw DomainError.notFound('service', fqdn);
    this.metrics.decisionSeconds.observe({ path }, Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.decisions.inc({ service: decision.service, region: decision.regions[0] ?? '', reason: decision.reason, path });
    if (decision.outcome === 'refused' && decision.reason.startsWith('residency')) this.metrics.residencyRefusals.inc({ service: decision.service, path });
    return { decision, client };
  }

  private explainFor(snapshot: RoutingSnapshot, fqdn: string, type: 'A' | 'AAAA', ip: string, source: ClientSource, access: Access): Explanation {
    const { decision, client } = this.decideFor(snapshot, fqdn, type, ip, source, access);
    const service = snapshot.services.get(fqdn);
    const r = service?.replication;
    const loc = client.location;
    return {
      fqdn,
      type,
      snapshotVersion: snapshot.version,
      client: {
        ip: truncateIp(ip),
        country: loc.country,
        continent: loc.continent,
        jurisdiction: loc.country ? jurisdictionOf(loc.country) : null,
        latitude: loc.latitude,
        longitude: loc.longitude,
        source,
      },
      answer: {
        rcode: decision.outcome === 'refused' ? 'SERVFAIL' : 'NOERROR',
        region: decision.regions[0] ?? null,
        regions: [...decision.regions],
        addresses: [...decision.addresses],
        ttl: decision.ttl,
        ecsScope: decision.ecsScope,
      },
      reason: decision.reason,
      detail: decision.detail,
      access: service?.writeOf !== undefined ? 'write' : access,
      replication:
        r === undefined
          ? null
          : {
              mode: r.mode,
              writeOf: service?.writeOf ?? null,
              primary: r.primary,
              conflictResolution: r.conflictResolution,
              maxStalenessMs: r.maxStalenessMs,
              writeFqdn: r.writeFqdn,
              members: r.members,
            },
      candidates: decision.candidates,
    };
  }
}
