import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';

/**
 * The size of one stored chunk of the compressed upload. `pg` copies a statement's parameters into
 * its message on the event loop in one go: a 1 MiB chunk took ~11 ms of it (profiled during the
 * 200,000-AS upload: 56 ms of the upload's 164 ms on the event loop were the five INSERTs), and
 * every UDP answer waited behind it when DNS shares that loop. 64 KiB is under a millisecond each.
 */
export const TOPOLOGY_CHUNK_BYTES = 64 * 1024;

/** The stored topology upload (one row, table `anycast_topology`): its text, gzip-compressed (or, stored before compression, as it was). */
export interface StoredTopology {
  readonly format: string;
  readonly bytes: Buffer;
  readonly compressed: boolean;
  readonly uploadedAt: Date;
}

/**
 * The anycast module's SQL: the one stored topology. The upload, gzip-compressed by the
 * simulator's worker process, is written as 64 KiB chunks, each its own short statement, so other queries run
 * between them; one short transaction then points `anycast_topology` at the new upload and
 * removes the previous one's chunks. A failed store removes its own chunks.
 */
@Injectable()
export class AnycastRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditTrail,
  ) {}

  async stored(): Promise<StoredTopology | null> {
    const rows: { format: string; source: string | null; upload_id: string | null; uploaded_at: Date }[] = await this.ds.query(
      'SELECT format, source, upload_id, uploaded_at FROM anycast_topology WHERE id = 1',
    );
    if (rows.length === 0) return null;
    const row = rows[0];
    if (row.upload_id === null) return { format: row.format, bytes: Buffer.from(row.source ?? '', 'utf8'), compressed: false, uploadedAt: row.uploaded_at };
    const chunks: { data: Buffer }[] = await this.ds.query('SELECT data FROM anycast_topology_chunks WHERE upload_id = $1 ORDER BY seq', [row.upload_id]);
    return { format: row.format, bytes: Buffer.concat(chunks.map((c) => c.data)), compressed: true, uploadedAt: row.uploaded_at };
  }

  /** Replaces the stored topology with an upload that parsed and validated (`compressed`: the gzip of its text). */
  async store(format: string, compressed: Buffer, summary: unknown, uploadedAt: Date): Promise<void> {
    const uploadId = randomUUID();
    try {
      for (let seq = 0, at = 0; at < compressed.length; seq++, at += TOPOLOGY_CHUNK_BYTES) {
        await this.ds.query('INSERT INTO anycast_topology_chunks (upload_id, seq, data) VALUES ($1, $2, $3)', [uploadId, seq, compressed.subarray(at, at + TOPOLOGY_CHUNK_BYTES)]);
      }
      await this.ds.transaction(async (m) => {
        const previous: { upload_id: string | null; format: string; summary: unknown; uploaded_at: Date }[] = await m.query(
          'SELECT upload_id, format, summary, uploaded_at FROM anycast_topology WHERE id = 1 FOR UPDATE',
        );
        await m.query(
          `INSERT INTO anycast_topology (id, format, source, upload_id, summary, uploaded_at) VALUES (1, $1, NULL, $2, $3::jsonb, $4)
           ON CONFLICT (id) DO UPDATE SET format = EXCLUDED.format, source = NULL, upload_id = EXCLUDED.upload_id, summary = EXCLUDED.summary, uploaded_at = EXCLUDED.uploaded_at`,
          [format, uploadId, JSON.stringify(summary), uploadedAt],
        );
        const old = previous[0]?.upload_id ?? null;
        if (old !== null) await m.query('DELETE FROM anycast_topology_chunks WHERE upload_id = $1', [old]);
        // The source can be tens of MiB: the trail keeps the format and summary.
        const before = previous.length ? { format: previous[0].format, summary: previous[0].summary, uploadedAt: previous[0].uploaded_at } : null;
        await this.audit.record(m, [{ action: 'replace', kind: 'anycast-topology', name: 'topology', before, after: { format, summary, uploadedAt } }]);
      });
    } catch (err) {
      await this.ds.query('DELETE FROM anycast_topology_chunks WHERE upload_id = $1', [uploadId]).catch(() => undefined);
      throw err;
    }
  }
}
