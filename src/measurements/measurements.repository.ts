import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';
import { ServiceEntity } from '../registry/service.entity';
import type { SampleView } from './aggregate';

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


const INSERT_COLUMNS = 10;



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
   * What identifies the window's sample set: its newest id and its size. Equal twice means the
   * same samples (ids only grow; a sample leaving the window or a new one changes the count or
   * the id), and so the same aggregates: decay scales every weight alike.
   */
  async windowMark(since: Date): Promise<string> {
    const rows = (await this.ds.query('SELECT max(id) AS newest, count(*) AS n FROM latency_samples WHERE observed_at >= $1', [since.toISOString()])) as { newest: string | number | null; n: string | number }[];
    return `${rows[0]?.newest ?? 0}/${rows[0]?.n ?? 0}`;
  }

  /**
   * One page of the window's samples (observed at or after `since`), by id after `afterId`: short
   * queries, so that on the embedded database (one connection) writes get their turn between pages.
   * The aggregation itself is aggregate.ts's.
   */
  async samplesPage(since: Date, afterId: number, limit: number): Promise<SampleView[]> {
    const rows = (await this.ds.query(
      `SELECT id, family, network, place_key, country, region, rtt_ms, source_id, source_net, observed_at
       FROM latency_samples WHERE id > $1 AND observed_at >= $2 ORDER BY id LIMIT $3`,
      [afterId, since.toISOString(), limit],
    )) as RawSample[];
    return rows.map((r) => ({
      id: Number(r.id),
      family: Number(r.family) === 6 ? 6 : 4,
      network: Number(r.network),
      placeKey: r.place_key,
      country: r.country,
      region: r.region,
      rttMs: Number(r.rtt_ms),
      sourceId: r.source_id,
      sourceNet: r.source_net,
      observedAt: new Date(r.observed_at).getTime(),
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

interface RawSample {
  id: string | number;
  family: string | number;
  network: string | number;
  place_key: string | null;
  country: string | null;
  region: string;
  rtt_ms: string | number;
  source_id: string;
  source_net: string;
  observed_at: Date | string;
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
