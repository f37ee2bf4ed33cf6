/**
 * A whole file as a Buffer whose memory every process shares: the file mapped read-only by the
 * native addon native/mapped_file.c (mmap PROT_READ, MAP_SHARED), so its pages are the kernel's
 * page cache, in memory once however many processes (the main one and each DNS worker) map it.
 * fs.readFile, the fallback, gives each process a private copy.
 *
 * The Buffer must never be written to (the pages are read-only: a write is a SIGSEGV), and the
 * file must not be rewritten in place while it is mapped (the bytes would change under the
 * reader; a file made shorter makes reads past its new end a SIGBUS): replace it by renaming a
 * new file over it (src/geo/README.md). The mapping is released when the Buffer and every view of
 * it are garbage-collected.
 */
import { promises as fs } from 'node:fs';
import { loadNativeAddon, nativeAddonPath } from '../common/native-addon';

export const MAPPED_FILE_ADDON = nativeAddonPath('mapped_file');

interface MappedFileAddon {
  /** The file mapped read-only; throws as node:fs does (code, errno, syscall, path). */
  map(file: string): Buffer;
  /** A mapping's pages out of this process's resident set (still in the page cache); throws for any other Buffer. */
  release?(buffer: Buffer): void;
}

/** How a file's bytes are held: 'mapped' (shared pages) or 'read' (fs.readFile, a private copy). */
export type FileMemory = 'mapped' | 'read';

export interface FileBytes {
  readonly buffer: Buffer;
  readonly memory: FileMemory;
  /** Why the file was read rather than mapped; null when mapped. */
  readonly reason: string | null;
}

const loaded = new Map<string, { addon: MappedFileAddon } | { reason: string }>();

/** The addon at `addonPath`, or why it cannot be used (loaded once per process and path). */
export function loadMappedFile(addonPath: string = MAPPED_FILE_ADDON): { addon: MappedFileAddon } | { reason: string } {
  let found = loaded.get(addonPath);
  if (found === undefined) {
    found = loadNativeAddon<MappedFileAddon>(addonPath);
    loaded.set(addonPath, found);
  }
  return found;
}

/**
 * The file's bytes, mapped when the addon loads and the kernel maps the file, else read with
 * fs.readFile (whose errors, for a missing or unreadable file, are thrown as they are).
 */
export async function readFileBytes(file: string, addonPath: string = MAPPED_FILE_ADDON): Promise<FileBytes> {
  const found = loadMappedFile(addonPath);
  let reason: string;
  if ('addon' in found) {
    try {
      return { buffer: found.addon.map(file), memory: 'mapped', reason: null };
    } catch (err) {
      // Also a missing file: fs.readFile then fails the same way and reports it as before.
      reason = `mmap failed (${(err as Error).message})`;
    }
  } else {
    reason = found.reason;
  }
  return { buffer: await fs.readFile(file), memory: 'read', reason };
}

/**
 * Takes a mapped file's pages out of this process's resident set (madvise MADV_DONTNEED in
 * native/mapped_file.c): they stay in the kernel's page cache, and a later read maps the page it
 * needs again. For after a walk over the whole file that later reads will not repeat. Returns
 * whether the pages were released (false for bytes that were read, not mapped, an addon built
 * before release existed, or madvise refused; never throws).
 */
export function releasePages(bytes: FileBytes, addonPath: string = MAPPED_FILE_ADDON): boolean {
  if (bytes.memory !== 'mapped') return false;
  const found = loadMappedFile(addonPath);
  if (!('addon' in found) || found.addon.release === undefined) return false;
  try {
    found.addon.release(bytes.buffer);
    return true;
  } catch {
    // Only a cost in memory: the pages stay where they are.
    return false;
  }
}
