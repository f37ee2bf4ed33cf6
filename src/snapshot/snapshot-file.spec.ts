import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SnapshotInput } from '../routing/snapshot';
import { readSnapshotFile, SnapshotFile, snapshotFileJson, snapshotFileParts, writeSnapshotFile } from './snapshot-file';

describe('snapshot file', () => {
  const file = (input: SnapshotInput, version = 7): SnapshotFile => ({ format: 1, version, builtAt: '2026-12-06T00:00:00.000Z', input });
  const base: SnapshotInput = {
    zones: [
      {
        name: 'example.com', serial: 7, nameservers: ['ns1.example.com'], hostmaster: 'hostmaster@example.com', ttl: 3600, refresh: 7200, retry: 900, expire: 1209600, negativeTtl: 300,
        records: [{ id: 'r1', name: 'www.example.com', type: 'TXT', ttl: 300, values: ['v=spf1 -all', 'a "quoted" \\ value'] }],
      },
    ],
    regions: [
      { name: 'eu-west-1', countryCode: 'IE', latitude: 53.35, longitude: -6.26, ipv4: ['192.0.2.10'], ipv6: ['2001:db8::10'], health: 'healthy', healthReason: null },
      { name: 'us-east-1', countryCode: 'US', latitude: 39.04, longitude: -77.49, ipv4: ['198.51.100.10'], ipv6: [], drained: true },
    ],
    services: [
      { fqdn: 'app.example.com', policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], ttl: 30, residency: 'none' },
      { fqdn: 'geo.example.com', zone: 'example.com', policy: 'geolocation', regions: ['eu-west-1'], geolocation: { DE: ['eu-west-1'], '*': ['eu-west-1'] }, ttl: 60, residency: 'gdpr', answerCount: 1 },
    ],
  };
  const cases: { name: string; input: SnapshotInput }[] = [
    { name: 'the fixture registry', input: base },
    { name: 'an empty registry', input: { zones: [], regions: [], services: [] } },
    { name: 'strings that need escaping', input: { ...base, regions: base.regions.map((r, i) => (i === 0 ? { ...r, healthReason: 'a "quoted"\nline\u2028' } : r)) } },
    { name: 'one service replaced (the rest reused from the cache)', input: { ...base, services: base.services.map((s, i) => (i === 0 ? { ...s, ttl: 5 } : s)) } },
  ];

  it.each(cases)('is exactly JSON.stringify of the file: $name', ({ input }) => {
    expect(snapshotFileJson(file(input))).toBe(JSON.stringify(file(input)));
  });

  it.each(cases)('in pieces, the same text: $name', async ({ input }) => {
    expect(Buffer.concat(await snapshotFileParts(file(input))).toString('utf8')).toBe(JSON.stringify(file(input)));
  });

  it('in pieces, blocks of rows: a changed, added or deleted row is written anew, the untouched blocks from their bytes', async () => {
    const many = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ fqdn: `s${from + i}.example.com`, policy: 'proximity' as const, regions: ['eu-west-1'], ttl: 30 }));
    const services = many(1000);
    const big = { ...base, services };
    const first = await snapshotFileParts(file(big));
    // 1,000 rows: blocks of 256 at 0, 256, 512 and 768; the count is of those blocks reused.
    const blocksOf = (parts: Buffer[]) => parts.filter((p) => p.length > 1000);
    expect(blocksOf(first)).toHaveLength(4);
    const edits: [string, SnapshotInput['services'], number][] = [
      ['one edited', services.map((s, i) => (i === 700 ? { ...s, ttl: 99 } : s)), 3],
      ['one added', [...services, ...many(1, 5000)], 3],
      ['one deleted (every later block shifts)', services.filter((_, i) => i !== 3), 0],
      ['unchanged', services, 4],
    ];
    for (const [what, list, reused] of edits) {
      const before = blocksOf(await snapshotFileParts(file(big))); // the first list's write just before
      const parts = await snapshotFileParts(file({ ...big, services: list }));
      expect([what, Buffer.concat(parts).toString('utf8')]).toEqual([what, JSON.stringify(file({ ...big, services: list }))]);
      expect([what, blocksOf(parts).filter((p) => before.includes(p)).length]).toEqual([what, reused]);
    }
  });

  it('a changed row object is serialised anew, never taken from the cache of the old one', () => {
    const first = snapshotFileJson(file(base));
    const changed = { ...base, services: [{ ...base.services[0], ttl: 11 }, ...base.services.slice(1)] };
    const second = snapshotFileJson(file(changed));
    expect(second).not.toBe(first);
    expect(JSON.parse(second).input.services[0].ttl).toBe(11);
  });

  it('round-trips through the disk', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-snapfile-'));
    try {
      await writeSnapshotFile(dir, file(base, 42));
      expect(readSnapshotFile(dir)).toEqual(JSON.parse(JSON.stringify(file(base, 42))));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
