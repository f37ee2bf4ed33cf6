import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadMappedFile, MAPPED_FILE_ADDON, readFileBytes, releasePages } from './mapped-file';

/** MaxMind's public test databases (fake data), in the shared folder beside the repository. */
const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/geoip');
const DATABASES = ['GeoIP2-City-Test.mmdb', 'GeoIP2-Country-Test.mmdb'].map((f) => path.join(FIXTURES, f));

describe('readFileBytes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georoute-mapped-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('finds the addon built by npm ci', () => {
    expect(loadMappedFile()).toHaveProperty('addon');
  });

  it.each(DATABASES)('maps %s: the same bytes as fs.readFile', async (file) => {
    const bytes = await readFileBytes(file);
    expect(bytes.memory).toBe('mapped');
    expect(bytes.reason).toBeNull();
    expect(Buffer.isBuffer(bytes.buffer)).toBe(true);
    expect(bytes.buffer.equals(await fs.readFile(file))).toBe(true);
  });

  it('is a mapping of the file (listed in /proc/self/maps), not a copy', async () => {
    const file = path.join(dir, 'listed.mmdb');
    await fs.copyFile(DATABASES[0], file);
    const bytes = await readFileBytes(file);
    const maps = await fs.readFile('/proc/self/maps', 'utf8');
    const line = maps.split('\n').find((l) => l.endsWith(` ${file}`));
    expect(line).toBeDefined();
    // Read-only and shared: r--s.
    expect(line!.split(' ')[1]).toBe('r--s');
    expect(bytes.buffer.length).toBe((await fs.stat(file)).size);
  });

  it('releasePages takes a mapping out of the resident set; its bytes read the same after', async () => {
    // A file of distinct pages, big enough to see in RssFile (kB) beside everything else.
    const file = path.join(dir, 'pages.bin');
    const content = Buffer.alloc(32 << 20);
    for (let i = 0; i < content.length; i += 4) content.writeUInt32LE(i, i);
    await fs.writeFile(file, content);
    const bytes = await readFileBytes(file);
    expect(bytes.memory).toBe('mapped');
    const rssFileKb = async (): Promise<number> => Number(/RssFile:\s+(\d+)/.exec(await fs.readFile('/proc/self/status', 'utf8'))![1]);
    const before = await rssFileKb();
    expect(bytes.buffer.equals(content)).toBe(true); // reads every page
    const touched = await rssFileKb();
    expect(touched - before).toBeGreaterThan(30 << 10);
    expect(releasePages(bytes)).toBe(true);
    const released = await rssFileKb();
    expect(touched - released).toBeGreaterThan(30 << 10);
    expect(bytes.buffer.equals(content)).toBe(true);
  });

  it('releasePages leaves read bytes alone, and the addon refuses memory it did not map', async () => {
    const read = await readFileBytes(DATABASES[0], path.join(dir, 'no-such-addon.node'));
    expect(read.memory).toBe('read');
    expect(releasePages(read)).toBe(false);
    expect(read.buffer.equals(await fs.readFile(DATABASES[0]))).toBe(true);
    const found = loadMappedFile();
    if (!('addon' in found)) throw new Error(found.reason);
    const heap = Buffer.alloc(1 << 20, 7);
    const mapped = await readFileBytes(DATABASES[0]);
    for (const other of [heap, mapped.buffer.subarray(0), Buffer.from(mapped.buffer)]) {
      expect(() => found.addon.release!(other)).toThrow('release: a Buffer made by map() is required');
    }
    expect(heap.every((v) => v === 7)).toBe(true);
  });

  it('reads the file when the addon is absent, and says why', async () => {
    const missing = path.join(dir, 'no-such-addon.node');
    expect(loadMappedFile(missing)).toEqual({ reason: expect.stringContaining('is not built') });
    for (const file of DATABASES) {
      const bytes = await readFileBytes(file, missing);
      expect(bytes.memory).toBe('read');
      expect(bytes.reason).toContain('no-such-addon.node is not built');
      expect(bytes.buffer.equals(await fs.readFile(file))).toBe(true);
    }
  });

  it('reads a file mmap cannot take (an empty one), and says why', async () => {
    const file = path.join(dir, 'empty.mmdb');
    await fs.writeFile(file, '');
    const bytes = await readFileBytes(file, MAPPED_FILE_ADDON);
    expect(bytes).toMatchObject({ memory: 'read', reason: expect.stringContaining('EINVAL') });
    expect(bytes.buffer.length).toBe(0);
  });

  it('fails for a missing file as fs.readFile does', async () => {
    const file = path.join(dir, 'missing.mmdb');
    await expect(readFileBytes(file)).rejects.toMatchObject({ code: 'ENOENT', path: file });
  });
});
