import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';
import { DatabaseStatus } from '../database/database-status';
import { RegionEntity } from '../registry/region.entity';
import type { HealthStatus } from '../routing/types';
import type { HealthTransition, RegionHealthState, Votes } from './health-state';

/** One row of health_events. */
export interface TransitionRow {
  id: string | number;
  at: Date;
  region: string;
  from_status: HealthStatus;
  to_status: HealthStatus;
  source: string;
  reason: string;
  instance: string | null;
}

/** One row of health_votes: an instance's own probe verdict of a region. */
export interface VoteRow {
  instance_id: string;
  status: HealthStatus;
  reason: string | null;
  observed_at: Date;
}

/** An instance's vote, and how recent the other instances' votes must be to count. */
export interface Vote {
  readonly region: string;
  readonly instance: string;
  readonly status: HealthStatus;
  readonly reason: string | null;
  readonly freshForMs: number;
}

/**
 * Every query of the health module. Tables (migrations Health, ChangeFeed): region_health (the
 * shared verdict per region, jsonb RegionHealthState), health_events (transitions), health_votes
 * (each instance's probe verdict per region) and webhook_deliveries (webhook ids, for replays).
 * Rows for regions that no longer exist are never written: each write checks the region.
 */
@Injectable()
export class HealthRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly dbStatus: DatabaseStatus,
    private readonly audit: AuditTrail,
  ) {}

  /** Whether the database is connected now (it may not be at start: static stability). */
  get connected(): boolean {
    return this.ds.isInitialized;
  }

  /** Runs `fn` once the database is connected (at once if it is). */
  whenConnected(fn: () => void | Promise<void>): void {
    this.dbStatus.whenConnected(this.ds, fn);
  }

  /** Every region, for its health settings. */
  regions(): Promise<RegionEntity[]> {
    return this.ds.getRepository(RegionEntity).find();
  }

  /** The shared verdict of every region that has one. */
  verdicts(): Promise<{ region: string; state: RegionHealthState }[]> {
    return this.ds.query('SELECT region, state FROM region_health');
  }

  /**
   * Stores the verdict. With a transition it is a conditional update (only from the status the
   * caller saw in `before`), so when instances race exactly one records it; false when this one
   * lost (or the region is gone). The transition row is written by the same statement.
   */
  saveVerdict(region: string, before: RegionHealthState, state: RegionHealthState, t: HealthTransition | null, instance: string): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      // One statement (a webhook's acknowledgement waits for each round trip): the conditional
      // update, else the first row of a region that exists (RETURNING: TypeORM hands back the
      // rows, not a row count), and with a transition its row when either wrote. Without one,
      // health_events is not in the statement at all: its statement-level trigger would announce
      // a change to the other instances even for no row.
      const params: unknown[] = [region, JSON.stringify(state), t ? before.status : null];
      let event = '';
      if (t) {
        params.push(new Date(t.at), t.from, t.to, t.source, t.reason, t.instance ?? instance);
        event = `, event AS (
           INSERT INTO health_events (region, at, from_status, to_status, source, reason, instance)
           SELECT region, $4::timestamptz, $5::text, $6::text, $7::text, $8::text, $9::text FROM saved RETURNING id
         )`;
      }
      const rows = (await m.query(
        `WITH updated AS (
           UPDATE region_health SET state = $2::jsonb, updated_at = now() WHERE region = $1 AND ($3::text IS NULL OR state->>'status' = $3) RETURNING region
         ), inserted AS (
           INSERT INTO region_health (region, state, updated_at) SELECT $1, $2::jsonb, now()
            WHERE NOT EXISTS (SELECT 1 FROM updated) AND EXISTS (SELECT 1 FROM regions WHERE name = $1)
           ON CONFLICT (region) DO NOTHING RETURNING region
         ), saved AS (SELECT region FROM updated UNION ALL SELECT region FROM inserted)${event}
         SELECT count(*)::int AS saved FROM saved`,
        params,
      )) as { saved: number }[];
      if (rows[0]?.saved !== 1) return false;
      if (t) {
        await this.audit.record(m, [{ action: 'transition', kind: 'region-health', name: region, before: { status: t.from }, after: { status: t.to, source: t.source, reason: t.reason, instance: t.instance ?? instance } }]);
      }
      return true;
    });
  }

  /** Stores this instance's vote and counts the other instances' fresh votes, in one round trip. */
  async castVote(vote: Vote): Promise<Votes> {
    const rows: { status: string; n: number }[] = await this.ds.query(
      `WITH vote AS (
         INSERT INTO health_votes (region, instance_id, status, reason, observed_at) SELECT $1, $2, $3, $4, now() WHERE EXISTS (SELECT 1 FROM regions WHERE name = $1)
         ON CONFLICT (region, instance_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, observed_at = EXCLUDED.observed_at)
       SELECT status, count(*)::int AS n FROM health_votes
       WHERE region = $1 AND instance_id <> $2 AND observed_at > now() - ($5::int * interval '1 millisecond') GROUP BY status`,
      [vote.region, vote.instance, vote.status, vote.reason, vote.freshForMs],
    );
    const count = (status: HealthStatus) => rows.find((r) => r.status === status)?.n ?? 0;
    return { healthy: count('healthy'), unhealthy: count('unhealthy') };
  }

  /** Every instance's last vote for a region, by instance id. */
  votesOf(region: string): Promise<VoteRow[]> {
    return this.ds.query('SELECT instance_id, status, reason, observed_at FROM health_votes WHERE region = $1 ORDER BY instance_id', [region]);
  }

  /** Transitions, newest first: of one region or all, with ids below `beforeId` (a cursor). */
  transitions(query: { region?: string; beforeId: number | null; limit: number }): Promise<TransitionRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.region) {
      params.push(query.region);
      where.push(`region = $${params.length}`);
    }
    if (query.beforeId !== null) {
      params.push(query.beforeId);
      where.push(`id < $${params.length}`);
    }
    params.push(query.limit);
    return this.ds.query(
      `SELECT * FROM health_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /** Remembers a webhook id; false when it was already there (a replay). */
  async rememberWebhookId(id: string, region: string): Promise<boolean> {
    const res: unknown[] = await this.ds.query(
      'INSERT INTO webhook_deliveries (webhook_id, region) VALUES ($1, $2) ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id',
      [id, region],
    );
    return res.length === 1;
  }

  /** Forgets webhook ids received before `at`. */
  async forgetWebhookIdsBefore(at: Date): Promise<void> {
    await this.ds.query('DELETE FROM webhook_deliveries WHERE received_at < $1', [at]);
  }
}
