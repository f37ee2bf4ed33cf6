import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadMappedFile, MAPPED_FILE_ADDON, readFileBytes } from './mapped-file';

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
