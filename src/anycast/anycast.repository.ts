import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';

/** The stored topology upload (one row, table `anycast_topology`), as uploaded. */
export interface StoredTopology {
  readonly format: string;
  readonly source: string;
  readonly uploadedAt: Date;
}

/** The anycast module's SQL: the one stored topology. */
@Injectable()
export class AnycastRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditTrail,
  ) {}

  async stored(): Promise<StoredTopology | null> {
    const rows: { format: string; source: string; uploaded_at: Date }[] = await this.ds.query('SELECT format, source, uploaded_at FROM anycast_topology WHERE id = 1');
    return rows.length === 0 ? null : { format: rows[0].format, source: rows[0].source, uploadedAt: rows[0].uploaded_at };
  }

  /** Replaces the stored topology with an upload that parsed and validated. */
  async store(format: string, source: string, summary: unknown, uploadedAt: Date): Promise<void> {
    await this.ds.transaction(async (m) => {
      const old: { format: string; summary: unknown; uploaded_at: Date }[] = await m.query('SELECT format, summary, uploaded_at FROM anycast_topology WHERE id = 1 FOR UPDATE');
      await m.query(
        `INSERT INTO anycast_topology (id, format, source, summary, uploaded_at) VALUES (1, $1, $2, $3::jsonb, $4)
         ON CONFLICT (id) DO UPDATE SET format = EXCLUDED.format, source = EXCLUDED.source, summary = EXCLUDED.summary, uploaded_at = EXCLUDED.uploaded_at`,
        [format, source, JSON.stringify(summary), uploadedAt],
      );
      // The source can be tens of MiB: the trail keeps the format and summary.
      const before = old.length ? { format: old[0].format, summary: old[0].summary, uploadedAt: old[0].uploaded_at } : null;
      await this.audit.record(m, [{ action: 'replace', kind: 'anycast-topology', name: 'topology', before, after: { format, summary, uploadedAt } }]);
    });
  }
}
