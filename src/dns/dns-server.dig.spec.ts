/**
 * The server as BIND's dig sees it. dig is required (CI installs dnsutils): without it these tests
 * fail with a message saying so, they are not skipped.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { GeoLocator } from '../geo/geo-locator';
import { DnsResponder } from './responder';
import { EU_WEST_V4, GEOIP_TEST_DB, US_EAST_V4, fixtureSnapshot } from './test-fixtures';
import { DnsServer } from './udp-server';

const run = promisify(execFile);

function findDig(): string | null {
  for (const candidate of ['/usr/bin/dig', '/usr/local/bin/dig', '/opt/homebrew/bin/dig']) if (existsSync(candidate)) return candidate;
  return null;
}

describe('dig against the server', () => {
  const dig = findDig();
  let server: DnsServer;
  let port: number;

  beforeAll(async () => {
    const locator = await GeoLocator.open(GEOIP_TEST_DB);
    const responder = new DnsResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
    server = new DnsServer(responder, { host: '127.0.0.1', port: 0 });
    ({ port } = await server.listen());
  });

  afterAll(async () => {
    await server.close();
  });

  /** Runs dig asynchronously (the server answers from this same process). */
  async function ask(...args: string[]): Promise<string> {
    if (dig === null) throw new Error('dig is not installed (apt-get install dnsutils); the DNS interoperability tests need it');
    const { stdout } = await run(dig, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
    return stdout;
  }

  const status = (out: string): string | undefined => /status: (\w+)/.exec(out)?.[1];
  const flags = (out: string): string[] => (/;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '').trim().split(/\s+/);
  const answers = (out: string, type: string): string[] =>
    out
      .split('\n')
      .filter((l) => !l.startsWith(';') && l.includes(`\tIN\t${type}\t`))
      .map((l) => l.split('\t').at(-1)!);

  test('dig is installed', () => {
    expect(dig).not.toBeNull();
  });

  test('+subnet=81.2.69.160/27 (London) -> an eu-west-1 address, AA, CLIENT-SUBNET echoed with scope 27', async () => {
    const out = await ask('app.example.com', 'A', '+subnet=81.2.69.160/27');
    expect(status(out)).toBe('NOERROR');
    expect(flags(out)).toEqual(expect.arrayContaining(['qr', 'aa', 'rd']));
    expect(flags(out)).not.toContain('ra');
    expect(out).toContain('; CLIENT-SUBNET: 81.2.69.160/27/27');
    expect(out).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
    const got = answers(out, 'A');
    expect(got.length).toBeGreaterThan(0);
    expect(EU_WEST_V4).toEqual(expect.arrayContaining(got));
  });

  test('+subnet=81.2.69.0/24: not listed in the test database -> the service order, scope = the empty network (/25)', async () => {
    const out = await ask('app.example.com', 'A', '+subnet=81.2.69.0/24');
    expect(status(out)).toBe('NOERROR');
    expect(out).toContain('; CLIENT-SUBNET: 81.2.69.0/24/25');
    expect(answers(out, 'A')).toEqual(US_EAST_V4);
  });

  test('nope.example.com -> NXDOMAIN, AA, SOA in authority', async () => {
    const out = await ask('nope.example.com', 'A');
    expect(status(out)).toBe('NXDOMAIN');
    expect(flags(out)).toContain('aa');
    expect(out).toMatch(/AUTHORITY SECTION:\nexample\.com\.\s+300\s+IN\s+SOA\s+ns1\.example\.com\. hostmaster\.example\.com\. 2025010101/);
  });

  test('+edns=1 -> BADVERS with an OPT of version 0', async () => {
    const out = await ask('www.example.com', 'A', '+edns=1', '+noednsneg');
    expect(status(out)).toBe('BADVERS');
    expect(out).toMatch(/EDNS: version: 0/);
  });

  test('a large answer: TC over UDP without EDNS, all 40 records over TCP', async () => {
    const udp = await ask('big.example.com', 'A', '+noedns', '+ignore');
    expect(flags(udp)).toContain('tc');
    expect(answers(udp, 'A')).toEqual([]);
    const tcp = await ask('big.example.com', 'A', '+tcp');
    expect(flags(tcp)).not.toContain('tc');
    expect(answers(tcp, 'A')).toHaveLength(40);
  });

  test('CH version.bind -> REFUSED; +norec -> RD clear', async () => {
    expect(status(await ask('version.bind', 'TXT', 'CH'))).toBe('REFUSED');
    const out = await ask('www.example.com', 'A', '+norec');
    expect(flags(out)).toEqual(['qr', 'aa']);
  });
});
