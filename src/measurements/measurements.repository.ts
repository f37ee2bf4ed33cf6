import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';
import { ServiceEntity } from '../registry/service.entity';

/** One sample as stored: the client's network, never its address. */
export interface SampleRow {
  readonly family: 4 | 6;
  /** The /24 (a*65536+b*256+c) or the /48 (first three groups) as a number. */
  readonly network: number;
  readonly placeKey: string | null;
  readonly country: string | null;
  readonly region: string;
  readonly rttMs: number;
  readonly sourceId: string;
  readonly sourceNet: string;
  readonly origin: 'feed' | 'beacon';
  readonly observedAt: Date;
}

/** One aggregate: a (level, key, region) with its weighted median and what it rests on. */
export interface AggregateRow {
  /** '/24' '/20' '/16' '/48' '/40' '/32' 'class' 'country'. */
  readonly level: string;
  /** Prefix levels: the network number at that length; class: the place key; country: the code. */
  readonly key: string;
  readonly region: string;
  readonly medianMs: number;
  readonly samples: number;
  readonly sources: number;
  readonly sourceNets: number;
}

export interface BeaconKeyRow {
  readonly service: string;
  readonly key: string;
  readonly probePath: string;
  readonly sampleRate: number;
  readonly createdAt: string;
}

export interface CoverageRow {
  readonly region: string;
  readonly samples: number;
  readonly sources: number;
  readonly networks: number;
  readonly newest: string | null;
}

/** What the aggregation needs to know (config.latency, and the time it runs for). */
export interface AggregateWindow {
  readonly now: Date;
  readonly windowMs: number;
  readonly halfLifeMs: number;
  readonly sourceCap: number;
}

const INSERT_COLUMNS = 10;

/**
 * The evidence levels as SQL over a capped sample `c`: the level's name and its key (the network
 * number at that prefix length, the place key, the country). Fixed fragments, never input.
 */
const LEVEL_GROUPS = [
  { level: `CASE WHEN c.family = 4 THEN '/24' ELSE '/48' END`, key: `c.network::text` },
  { level: `CASE WHEN c.family = 4 THEN '/20' ELSE '/40' END`, key: `(CASE WHEN c.family = 4 THEN c.network >> 4 ELSE c.network >> 8 END)::text` },
  { level: `CASE WHEN c.family = 4 THEN '/16' ELSE '/32' END`, key: `(CASE WHEN c.family = 4 THEN c.network >> 8 ELSE c.network >> 16 END)::text` },
  { level: `'class'`, key: `c.place_key` },
  { level: `'country'`, key: `c.country` },
] as const;

/**
 * Every query of the measurements module. Tables (migration Measurements): latency_samples (RTT
 * samples per client network and region, shared by the instances) and beacon_keys (one public key
 * per service for the RUM beacon).
 */
@Injectable()
export class MeasurementsRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditTrail,
  ) {}

  get connected(): boolean {
    return this.ds.isInitialized;
  }

  /** Stores a batch of samples in one statement. */
  async insertSamples(rows: readonly SampleRow[]): Promise<void> {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const tuples: string[] = [];
    rows.forEach((r, i) => {
      const b = i * INSERT_COLUMNS;
      tuples.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}, $${b + 10})`);
      params.push(r.family, r.network, r.placeKey, r.country, r.region, r.rttMs, r.sourceId, r.sourceNet, r.origin, r.observedAt.toISOString());
    });
    await this.ds.query(
      `INSERT INTO latency_samples (family, network, place_key, country, region, rtt_ms, source_id, source_net, origin, observed_at) VALUES ${tuples.join(', ')}`,
      params,
    );
  }

  /** Deletes samples observed before `before`; returns how many. */
  async pruneBefore(before: Date): Promise<number> {
    const rows = (await this.ds.query('DELETE FROM latency_samples WHERE observed_at < $1 RETURNING 1', [before.toISOString()])) as unknown[];
    return Array.isArray(rows) ? rows.length : 0;
  }

  /**
   * Every (level, key, region) of the window with its robust RTT. Per source, only its newest
   * `sourceCap` samples per network and region count; a sample weighs 0.5^(age / half-life). The
   * statistic is the weighted median where every source network (a token, or the beacon's /24 or
   * /48) weighs 1 in total, shared equally by its sources, and each source's weight is spread over
   * its samples by their decay: thousands of samples from one source, or many sources in one /24,
   * count as one voice.
   */
  async aggregates(w: AggregateWindow): Promise<AggregateRow[]> {
    // One query per level group: each is a fifth of the work, and on the embedded database (one
    // connection) writes get their turn between them.
    const out: AggregateRow[] = [];
    for (const level of LEVEL_GROUPS) out.push(...(await this.aggregateLevel(w, level)));
    return out;
  }

  private async aggregateLevel(w: AggregateWindow, group: (typeof LEVEL_GROUPS)[number]): Promise<AggregateRow[]> {
    const since = new Date(w.now.getTime() - w.windowMs).toISOString();
    const rows = (await this.ds.query(
      `WITH capped AS (
         SELECT * FROM (
           SELECT s.*, row_number() OVER (PARTITION BY s.source_id, s.family, s.network, s.region ORDER BY s.observed_at DESC, s.id DESC) AS rn
           FROM latency_samples s WHERE s.observed_at >= $1
         ) ranked WHERE rn <= $2
       ), leveled AS (
         SELECT ${group.level} AS level, ${group.key} AS key, c.region, c.rtt_ms::float8 AS rtt, c.source_id, c.source_net,
                power(0.5::float8, least(greatest(extract(epoch FROM ($3::timestamptz - c.observed_at))::float8 * 1000 / $4, 0), 1000)) AS decay
         FROM capped c WHERE ${group.key} IS NOT NULL
       ), per_source AS (
         SELECT level, key, region, source_net, source_id, sum(decay) AS d FROM leveled GROUP BY level, key, region, source_net, source_id
       ), per_net AS (
         SELECT level, key, region, source_net, count(*) AS n FROM per_source GROUP BY level, key, region, source_net
       ), weighted AS (
         SELECT l.level, l.key, l.region, l.rtt, l.decay / ps.d / pn.n AS w
         FROM leveled l
         JOIN per_source ps ON ps.level = l.level AND ps.key = l.key AND ps.region = l.region AND ps.source_net = l.source_net AND ps.source_id = l.source_id
         JOIN per_net pn ON pn.level = l.level AND pn.key = l.key AND pn.region = l.region AND pn.source_net = l.source_net
       ), cumulative AS (
         SELECT level, key, region, rtt,
                sum(w) OVER (PARTITION BY level, key, region ORDER BY rtt ROWS UNBOUNDED PRECEDING) AS c,
                sum(w) OVER (PARTITION BY level, key, region) AS total
         FROM weighted
       ), medians AS (
         SELECT level, key, region, min(rtt) FILTER (WHERE c >= total * 0.5 - 1e-9) AS median FROM cumulative GROUP BY level, key, region
       ), counts AS (
         SELECT level, key, region, count(*) AS samples, count(DISTINCT source_id) AS sources, count(DISTINCT source_net) AS nets
         FROM leveled GROUP BY level, key, region
       )
       SELECT m.level, m.key, m.region, m.median, c.samples, c.sources, c.nets
       FROM medians m JOIN counts c ON c.level = m.level AND c.key = m.key AND c.region = m.region`,
      [since, w.sourceCap, w.now.toISOString(), w.halfLifeMs],
    )) as { level: string; key: string; region: string; median: number | string; samples: number | string; sources: number | string; nets: number | string }[];
    return rows.map((r) => ({
      level: r.level,
      key: r.key,
      region: r.region,
      medianMs: Math.round(Number(r.median) * 10) / 10,
      samples: Number(r.samples),
      sources: Number(r.sources),
      sourceNets: Number(r.nets),
    }));
  }

  /** Per region of `regions`: samples, distinct sources and client networks in the window, and the newest sample. */
  async coverage(regions: readonly string[], since: Date): Promise<CoverageRow[]> {
    if (regions.length === 0) return [];
    const rows = (await this.ds.query(
      `SELECT region, count(*) AS samples, count(DISTINCT source_id) AS sources, count(DISTINCT (family, network)) AS networks, max(observed_at) AS newest
       FROM latency_samples WHERE region = ANY($1) AND observed_at >= $2 GROUP BY region`,
      [[...regions], since.toISOString()],
    )) as { region: string; samples: string | number; sources: string | number; networks: string | number; newest: Date | string | null }[];
    return rows.map((r) => ({
      region: r.region,
      samples: Number(r.samples),
      sources: Number(r.sources),
      networks: Number(r.networks),
      newest: r.newest === null ? null : new Date(r.newest).toISOString(),
    }));
  }

  findService(fqdn: string): Promise<ServiceEntity | null> {
    return this.ds.manager.findOneBy(ServiceEntity, { fqdn });
  }

  async beaconKey(key: string): Promise<BeaconKeyRow | null> {
    const rows = (await this.ds.query('SELECT * FROM beacon_keys WHERE key = $1', [key])) as RawBeaconKey[];
    return rows.length === 0 ? null : beaconRow(rows[0]);
  }

  async beaconKeys(): Promise<BeaconKeyRow[]> {
    const rows = (await this.ds.query('SELECT * FROM beacon_keys ORDER BY service')) as RawBeaconKey[];
    return rows.map(beaconRow);
  }

  /** Creates or replaces (rotates) the beacon key of a service, recorded in the audit trail. */
  async putBeaconKey(row: Omit<BeaconKeyRow, 'createdAt'>): Promise<{ row: BeaconKeyRow; before: BeaconKeyRow | null }> {
    return this.ds.transaction(async (m) => {
      const old = (await m.query('SELECT * FROM beacon_keys WHERE service = $1 FOR UPDATE', [row.service])) as RawBeaconKey[];
      const before = old.length === 0 ? null : beaconRow(old[0]);
      const made = (await m.query(
        `INSERT INTO beacon_keys (service, key, probe_path, sample_rate) VALUES ($1, $2, $3, $4)
         ON CONFLICT (service) DO UPDATE SET key = EXCLUDED.key, probe_path = EXCLUDED.probe_path, sample_rate = EXCLUDED.sample_rate, created_at = now()
         RETURNING *`,
        [row.service, row.key, row.probePath, row.sampleRate],
      )) as RawBeaconKey[];
      const after = beaconRow(made[0]);
      await this.audit.record(m, [{ action: before === null ? 'create' : 'update', kind: 'beacon-key', name: row.service, before, after }]);
      return { row: after, before };
    });
  }
}

interface RawBeaconKey {
  service: string;
  key: string;
  probe_path: string;
  sample_rate: number | string;
  created_at: Date | string;
}

function beaconRow(r: RawBeaconKey): BeaconKeyRow {
  return { service: r.service, key: r.key, probePath: r.probe_path, sampleRate: Number(r.sample_rate), createdAt: new Date(r.created_at).toISOString() };
}
