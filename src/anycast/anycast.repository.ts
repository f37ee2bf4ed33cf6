import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** The size of one stored chunk of the compressed upload. */
export const TOPOLOGY_CHUNK_BYTES = 1024 * 1024;

/** The stored topology upload (one row, table `anycast_topology`), as uploaded. */
export interface StoredTopology {
  readonly format: string;
  readonly source: string;
  readonly uploadedAt: Date;
}

/**
 * The anycast module's SQL: the one stored topology. The upload is gzip-compressed (in libuv's
 * thread pool) and written as 1 MiB chunks, each its own short statement, so other queries run
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
    let source = row.source ?? '';
    if (row.upload_id !== null) {
      const chunks: { data: Buffer }[] = await this.ds.query('SELECT data FROM anycast_topology_chunks WHERE upload_id = $1 ORDER BY seq', [row.upload_id]);
      source = (await gunzip(Buffer.concat(chunks.map((c) => c.data)))).toString('utf8');
    }
    return { format: row.format, source, uploadedAt: row.uploaded_at };
  }

  /** Replaces the stored topology with an upload that parsed and validated. */
  async store(format: string, source: string, summary: unknown, uploadedAt: Date): Promise<void> {
    const compressed = await gzip(Buffer.from(source, 'utf8'));
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
