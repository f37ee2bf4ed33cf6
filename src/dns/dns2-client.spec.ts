/**
 * dns2 as georoute's DNS client (the `dns` health probe, `georoute query`), checked against
 * georoute's own server over real sockets: what it sends is answered, what it decodes is what the
 * server sent (compared with dns-packet's decoding of the same question), and the probe's verdicts.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import DNS from 'dns2';
import * as dnsPacket from 'dns-packet';
import { GeoLocator } from '../geo/geo-locator';
import { probeDns, type DnsProbeOptions } from '../health/probes/dns.probe';
import { DnsResponder } from './responder';
import { GEOIP_TEST_DB, fixtureSnapshot, type DecodedReply } from './test-fixtures';
import { DnsServer } from './udp-server';

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
  await server?.close();
});

/** The same question through dns-packet over UDP (the independent decoder). */
function packetQuery(name: string, type: string): Promise<DecodedReply> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('message', (m) => {
      socket.close();
      resolve(dnsPacket.decode(m) as unknown as DecodedReply);
    });
    socket.once('error', reject);
    socket.send(dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type: type as dnsPacket.RecordType, class: 'IN' }] }), port, '127.0.0.1');
  });
}

describe('dns2 client against georoute', () => {
  test.each([
    ['www.example.com', 'A', (a: Record<string, unknown>) => a.address],
    ['ns2.example.com', 'AAAA', (a: Record<string, unknown>) => a.address],
    ['example.com', 'MX', (a: Record<string, unknown>) => `${a.priority} ${a.exchange}`],
    ['txt.example.com', 'TXT', (a: Record<string, unknown>) => a.data],
    ['alias.example.com', 'CNAME', (a: Record<string, unknown>) => a.domain],
  ] as const)('%s %s: dns2 decodes what dns-packet decodes', async (name, type, pick) => {
    for (const transport of ['udp', 'tcp'] as const) {
      const client = transport === 'udp' ? DNS.UDPClient({ dns: '127.0.0.1', port, timeout: 2000 }) : DNS.TCPClient({ dns: '127.0.0.1', port });
      const reply = await client(name, type, 1, { recursive: false });
      const theirs = (reply.answers as unknown as Record<string, unknown>[]).filter((a) => a.type === DNS.Packet.TYPE[type]).map(pick).map(String).sort();
      const ours = (await packetQuery(name, type)).answers.filter((a) => a.type === type).map((a) => {
        const d = a.data;
        if (type === 'MX') return `${d.preference} ${d.exchange}`;
        if (type === 'TXT') return (d as Buffer[]).map((b) => b.toString()).join('');
        return String(d);
      });
      expect(theirs).toEqual(ours.sort());
      expect(theirs.length).toBeGreaterThan(0);
    }
  });

  test('ECS through dns2 reaches the routing tables: a London /27 gets eu-west-1, the scope is echoed', async () => {
    const reply = await DNS.UDPClient({ dns: '127.0.0.1', port, timeout: 2000 })('app.example.com', 'A', 1, { clientIp: '81.2.69.160/27', recursive: false });
    expect((reply.answers as unknown as { address: string }[]).map((a) => a.address)).toEqual(['192.0.2.10', '192.0.2.11']);
    const opt = reply.additionals.find((r) => r.type === DNS.Packet.TYPE.EDNS) as unknown as { rdata: { sourcePrefixLength: number; scopePrefixLength: number }[] };
    expect(opt.rdata[0]).toMatchObject({ sourcePrefixLength: 27, scopePrefixLength: 27 });
  });
});

describe('the dns health probe', () => {
  const base = (): DnsProbeOptions => ({ host: '127.0.0.1', port, queryName: 'www.example.com', queryType: 'A', transport: 'udp', expectRcode: 'NOERROR', timeoutMs: 1000 });

  test.each([
    ['udp, answer matches', { answerPattern: '^192\\.0\\.2\\.80$' }, true, /^NOERROR, 1 answer$/],
    ['tcp, answer matches', { transport: 'tcp', answerPattern: '^192\\.0\\.2\\.80$' }, true, /^NOERROR, 1 answer$/],
    ['NXDOMAIN expected and given', { queryName: 'nope.example.com', expectRcode: 'NXDOMAIN' }, true, /^NXDOMAIN, 0 answers$/],
    ['NOERROR expected, NXDOMAIN given', { queryName: 'nope.example.com' }, false, /^rcode NXDOMAIN, expected NOERROR$/],
    ['outside every zone', { queryName: 'example.org' }, false, /^rcode REFUSED, expected NOERROR$/],
    ['pattern does not match', { answerPattern: '^198\\.' }, false, /^no answer matches \/\^198\\\.\/ \(192\.0\.2\.80\)$/],
    ['tcp, MX', { transport: 'tcp', queryName: 'example.com', queryType: 'MX', answerPattern: 'mail\\.example\\.com' }, true, /^NOERROR, 1 answer$/],
  ] as const)('%s', async (_name, over, ok, reason) => {
    const result = await probeDns({ ...base(), ...(over as Partial<DnsProbeOptions>) });
    expect(result.ok).toBe(ok);
    expect(result.reason).toMatch(reason);
  });

  test('a UDP endpoint that never answers: timeout; a closed TCP port: connection refused', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as { port: number }).port;
    const timeout = await probeDns({ ...base(), port: silentPort, timeoutMs: 200 });
    silent.close();
    expect(timeout).toMatchObject({ ok: false, reason: 'timeout after 200 ms' });
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await probeDns({ ...base(), transport: 'tcp', port: closedPort })).toMatchObject({ ok: false, reason: 'connection refused' });
  });

  test('bad options fail without a query', async () => {
    expect((await probeDns({ ...base(), answerPattern: '(' })).reason).toMatch(/^invalid answerPattern/);
    expect((await probeDns({ ...base(), port: 0 })).reason).toBe('invalid port 0');
  });
});
