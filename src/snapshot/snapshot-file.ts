import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SnapshotInput } from '../routing/snapshot';
import { yieldToForeground } from '../common/foreground';

/**
 * The last good snapshot on disk (<DATA_DIR>/snapshot.json): the input it was built from, so an
 * instance that starts while the database is unreachable can still answer DNS and redirects.
 * Written atomically (temporary file, then rename) after each successful build.
 */
export interface SnapshotFile {
  format: 1;
  version: number;
  builtAt: string;
  input: SnapshotInput;
}

export function snapshotPath(dataDir: string): string {
  return path.join(dataDir, 'snapshot.json');
}

export function hasSnapshotOnDisk(dataDir: string): boolean {
  return fs.existsSync(snapshotPath(dataDir));
}

let sequence = 0;

/**
 * The JSON of each zone, region and service input object already serialised. Inputs are immutable
 * and an incremental rebuild keeps the objects of the rows it did not re-read, so after a PATCH of
 * one service out of 10,000 the file is 9,999 cached strings and one new one (a whole
 * JSON.stringify of the registry took tens of milliseconds on the event loop that answers DNS).
 */
const rowJson = new WeakMap<object, string>();

function jsonOf(row: unknown): string {
  if (row === null || typeof row !== 'object') return JSON.stringify(row) ?? 'null';
  let json = rowJson.get(row);
  if (json === undefined) {
    json = JSON.stringify(row) ?? 'null';
    rowJson.set(row, json);
  }
  return json;
}

/** The file's text: the same JSON as JSON.stringify(file) (a spec checks), from cached rows. */
export function snapshotFileJson(file: SnapshotFile): string {
  const list = (rows: readonly unknown[] | undefined) => (rows === undefined ? undefined : `[${rows.map(jsonOf).join(',')}]`);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(file.input)) {
    if (value === undefined) continue;
    const json = Array.isArray(value) ? list(value) : JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}:${json}`);
  }
  return `{"format":${file.format},"version":${JSON.stringify(file.version)},"builtAt":${JSON.stringify(file.builtAt)},"input":{${parts.join(',')}}}`;
}

/** Rows per encoded block of the file (a block of 10,000 services' rows is about 70 KB). */
const ROWS_PER_BLOCK = 256;

/**
 * The UTF-8 bytes of each block of rows already encoded, by the block's first row, with the rows
 * it held. A block whose rows are the same objects as last time is written from these bytes:
 * after a PATCH of one service out of 10,000 one block of 256 rows is joined and encoded, the
 * other 39 are not (joining and encoding the whole file took about 10 ms per write).
 */
const blocks = new WeakMap<object, { readonly rows: readonly unknown[]; readonly bytes: Buffer }>();

/** The bytes of rows[from, to), from the block cache when the same rows were written before. */
function blockBytes(rows: readonly unknown[], from: number, to: number): { bytes: Buffer; fresh: boolean } {
  const first = rows[from];
  const key = first !== null && typeof first === 'object' ? first : null;
  const cached = key === null ? undefined : blocks.get(key);
  if (cached !== undefined && cached.rows.length === to - from && cached.rows.every((row, i) => row === rows[from + i])) return { bytes: cached.bytes, fresh: false };
  const own = rows.slice(from, to);
  const bytes = Buffer.from(own.map(jsonOf).join(','), 'utf8');
  if (key !== null) blocks.set(key, { rows: own, bytes });
  return { bytes, fresh: true };
}

/**
 * The file's bytes in pieces whose concatenation is snapshotFileJson(file) (a spec checks): the
 * rows of each list in blocks (blockBytes), a yield to the event loop after each block encoded
 * anew, so that no turn holds DNS answers and API requests behind the whole file.
 */
export async function snapshotFileParts(file: SnapshotFile): Promise<Buffer[]> {
  const parts: Buffer[] = [Buffer.from(`{"format":${file.format},"version":${JSON.stringify(file.version)},"builtAt":${JSON.stringify(file.builtAt)},"input":{`)];
  let first = true;
  for (const [key, value] of Object.entries(file.input)) {
    if (value === undefined) continue;
    const head = `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!Array.isArray(value)) {
      parts.push(Buffer.from(head + JSON.stringify(value)));
      continue;
    }
    parts.push(Buffer.from(`${head}[`));
    const rows = value as readonly unknown[];
    for (let from = 0; from < rows.length; from += ROWS_PER_BLOCK) {
      if (from > 0) parts.push(COMMA);
      const block = blockBytes(rows, from, Math.min(rows.length, from + ROWS_PER_BLOCK));
      parts.push(block.bytes);
      if (block.fresh) await yieldTurn();
    }
    parts.push(CLOSE_LIST);
  }
  parts.push(Buffer.from('}}'));
  return parts;
}

const COMMA = Buffer.from(',');
const CLOSE_LIST = Buffer.from(']');

/** A turn of the event loop, and the API requests in progress first (common/foreground.ts). */
function yieldTurn(): Promise<void> {
  return yieldToForeground();
}

/** Rows serialised between two yields to the event loop while the file's rows are prepared (about a millisecond). */
const ROWS_PER_SLICE = 100;

/**
 * Serialises the rows not cached yet, ROWS_PER_SLICE at a time with a yield to the event loop in
 * between: the first write after a 10,000-service apply does not hold DNS answers and webhooks
 * behind one long JSON.stringify.
 */
async function prepareRows(file: SnapshotFile): Promise<void> {
  let made = 0;
  for (const rows of Object.values(file.input)) {
    if (!Array.isArray(rows)) continue;
    for (const row of rows as unknown[]) {
      if (row === null || typeof row !== 'object' || rowJson.has(row)) continue;
      jsonOf(row);
      if (++made % ROWS_PER_SLICE === 0) await yieldTurn();
    }
  }
}

/** Writes the file atomically (a temporary file, then rename), its pieces in one writev. */
export async function writeSnapshotFile(dataDir: string, file: SnapshotFile): Promise<void> {
  const target = snapshotPath(dataDir);
  const tmp = `${target}.${process.pid}.${++sequence}.tmp`;
  try {
    await prepareRows(file);
    const parts = await snapshotFileParts(file);
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.writev(parts);
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, target);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

export function readSnapshotFile(dataDir: string): SnapshotFile | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(snapshotPath(dataDir), 'utf8')) as SnapshotFile;
    return parsed.format === 1 && parsed.input ? parsed : null;
  } catch {
    return null;
  }
}
