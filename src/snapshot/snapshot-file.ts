import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SnapshotInput } from '../routing/snapshot';

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

/** Rows serialised between two yields to the event loop while the file's rows are prepared. */
const ROWS_PER_SLICE = 500;

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
      if (++made % ROWS_PER_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

export async function writeSnapshotFile(dataDir: string, file: SnapshotFile): Promise<void> {
  const target = snapshotPath(dataDir);
  const tmp = `${target}.${process.pid}.${++sequence}.tmp`;
  try {
    await prepareRows(file);
    await fs.promises.writeFile(tmp, snapshotFileJson(file));
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
