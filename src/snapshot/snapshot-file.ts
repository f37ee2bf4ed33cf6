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

export async function writeSnapshotFile(dataDir: string, file: SnapshotFile): Promise<void> {
  const target = snapshotPath(dataDir);
  const tmp = `${target}.${process.pid}.${++sequence}.tmp`;
  try {
    await fs.promises.writeFile(tmp, JSON.stringify(file));
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
