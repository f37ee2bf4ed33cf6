/**
 * Instance identity over real sockets: NSID through `dig +nsid`, CHAOS TXT through `dig CH TXT`,
 * both rate limited like every other UDP answer, and FORMERR without ECS. dig is required (CI
 * installs dnsutils): without it these tests fail, they are not skipped.
 */
import { execFile } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import { GeoLocator } from '../geo/geo-locator';
import { DnsResponder } from './responder';
import { GEOIP_TEST_DB, fixtureSnapshot, type DecodedReply } from './test-fixtures';
import { DnsServer } from './udp-server';
import { TYPE } from './wire/constants';
import { ecsIpv4, encodeQuery } from './wire/query-builder';

const run = promisify(execFile);
const DIG = ['/usr/bin/dig', '/usr/local/bin/dig'].find((p) => existsSync(p)) ?? null;

let locator: GeoLocator;
const servers: DnsServer[] = [];

async function serve(identity: { id: string | null; version: string | null }, rateLimit?: ConstructorParameters<typeof DnsServer>[1]['rateLimit']): Promise<number> {
  const responder = new DnsResponder({ classifier: () => locator.classifier, identity });
  responder.setSnapshot(fixtureSnapshot());
  const server = new DnsServer(responder, { host: '127.0.0.1', port: 0, rateLimit });
  servers.push(server);
  return (await server.listen()).port;
}

async function dig(port: number, ...args: string[]): Promise<string> {
  if (DIG === null) throw new Error('dig is not installed (apt-get install dnsutils); the DNS interoperability tests need it');
  const { stdout } = await run(DIG, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
  return stdout;
}

const status = (out: string): string | undefined => /status: (\w+)/.exec(out)?.[1];

/** Sends each message from one socket and collects the replies that arrive within `waitMs`. */
function udpBurst(port: number, messages: Buffer[], waitMs = 500): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    socket.once('error', reject);
    for (const m of messages) socket.send(m, port, '127.0.0.1');
    setTimeout(() => {
      socket.close();
      resolve(replies);
    }, waitMs);
  });
}

beforeAll(async () => {
  locator = await GeoLocator.open(GEOIP_TEST_DB);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('identity through dig', () => {
  let port: number;
  let versionPort: number;
  beforeAll(async () => {
    port = await serve({ id: 'fra-2.georoute', version: null });
    versionPort = await serve({ id: 'fra-3.georoute', version: 'georoute 0.1.0' });
  });

  test('dig +nsid shows the instance id beside a normal answer', async () => {
    const out = await dig(port, 'www.example.com', 'A', '+nsid');
    expect(status(out)).toBe('NOERROR');
    expect(out).toMatch(/; NSID: 66 72 61 2d 32 2e 67 65 6f 72 6f 75 74 65 \("fra-2\.georoute"\)/);
    expect(out).toMatch(/www\.example\.com\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80/);
    expect(await dig(port, 'www.example.com', 'A')).not.toContain('NSID');
  });

  test('dig CH TXT id.server and hostname.bind answer the instance id', async () => {
    for (const name of ['id.server', 'hostname.bind']) {
      const out = await dig(port, 'CH', 'TXT', name);
      expect(status(out)).toBe('NOERROR');
      expect(out).toMatch(new RegExp(`^${name.replace('.', '\\.')}\\.\\s+0\\s+CH\\s+TXT\\s+"fra-2\\.georoute"$`, 'm'));
      expect(/;; flags: ([a-z ]+);/.exec(out)?.[1].split(' ')).toContain('aa');
    }
  });

  test('version.bind is REFUSED unless a version is configured', async () => {
    expect(status(await dig(port, 'CH', 'TXT', 'version.bind'))).toBe('REFUSED');
    const out = await dig(versionPort, 'CH', 'TXT', 'version.bind');
    expect(out).toMatch(/^version\.bind\.\s+0\s+CH\s+TXT\s+"georoute 0\.1\.0"$/m);
  });

  test('over TCP too', async () => {
    const out = await dig(port, '+tcp', 'CH', 'TXT', 'id.server');
    expect(out).toMatch(/CH\s+TXT\s+"fra-2\.georoute"/);
  });

  test('identity off: no NSID, id.server REFUSED', async () => {
    const off = await serve({ id: null, version: null });
    expect(await dig(off, 'www.example.com', '+nsid')).not.toContain('NSID');
    expect(status(await dig(off, 'CH', 'TXT', 'id.server'))).toBe('REFUSED');
  });
});

describe('identity answers are rate limited like every other UDP answer', () => {
  test('20 CHAOS queries in a burst from one /24: about the rate answered, the rest dropped', async () => {
    const port = await serve({ id: 'fra-2', version: null }, { responsesPerSecond: 2, errorsPerSecond: 2, slip: 0, exempt: [] });
    const queries = Array.from({ length: 20 }, (_, i) => encodeQuery({ id: i + 1, name: 'id.server', qtype: TYPE.TXT, qclass: 3 }));
    const replies = await udpBurst(port, queries);
    expect(replies.length).toBeGreaterThanOrEqual(1);
    expect(replies.length).toBeLessThanOrEqual(4);
    for (const r of replies) expect((dnsPacket.decode(r) as unknown as DecodedReply).answers[0]).toMatchObject({ type: 'TXT', class: 'CH' });
  });
});

describe('FORMERR over a real socket', () => {
  test('two ECS options: FORMERR, the OPT carries NSID when asked and no ECS option', async () => {
    const port = await serve({ id: 'fra-2', version: null });
    const msg = encodeQuery({ name: 'app.example.com', edns: { options: [{ code: 3, data: Buffer.alloc(0) }, ecsIpv4('81.2.69.0', 24), ecsIpv4('81.2.69.0', 24)] } });
    const [raw] = await udpBurst(port, [msg], 300);
    const reply = dnsPacket.decode(raw) as unknown as DecodedReply;
    expect(reply.rcode).toBe('FORMERR');
    const opt = reply.additionals.find((a) => a.type === 'OPT') as unknown as { options: { code: number }[] };
    expect(opt.options.map((o) => o.code)).toEqual([3]);
  });
});
