import * as dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { rcodeOf, sendTcp } from './support/dns-client';

/**
 * UDP response rate limiting against the real server: a flood from one /24 (127.0.0.2) is limited
 * while normal traffic from another /24 (127.0.1.2) is answered in full; limited responses are
 * every 2nd one sent truncated (slip), the rest dropped; TCP is never limited; errors share one
 * bucket per prefix; exempt addresses are never limited.
 */
const RATE = 20;
const ERRORS = 10;

interface Prober {
  send(name: string, type: dnsPacket.RecordType, id: number): void;
  replies: dnsPacket.Packet[];
  close(): void;
}

function prober(localAddress: string, port: number): Promise<Prober> {
  const socket = dgram.createSocket('udp4');
  const replies: dnsPacket.Packet[] = [];
  socket.on('message', (m) => replies.push(dnsPacket.decode(m)));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: localAddress, port: 0 }, () =>
      resolve({
        replies,
        send: (name, type, id) => socket.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] }), port, '127.0.0.1'),
        close: () => socket.close(),
      }),
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends n queries in bursts of 20 with a pause between, so the server's socket buffer never overflows (a loss would look like a drop). */
async function burst(p: Prober, n: number, name: (i: number) => string): Promise<void> {
  for (let i = 0; i < n; i++) {
    p.send(name(i), 'A', i);
    if (i % 20 === 19) await sleep(3);
  }
}
const truncated = (p: dnsPacket.Packet) => ((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;

describe('DNS response rate limiting (UDP, per client /24)', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, {
      CONFIG_FILE: '',
      RRL_RESPONSES_PER_SECOND: String(RATE),
      RRL_ERRORS_PER_SECOND: String(ERRORS),
      RRL_SLIP: '2',
      RRL_EXEMPT: '127.0.0.4/32',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('limits a flood of identical answers from one /24, slips every 2nd limited reply, and keeps answering another /24 and TCP', async () => {
    const flood = await prober('127.0.0.2', app.dnsPort);
    const normal = await prober('127.0.1.2', app.dnsPort);
    try {
      const N = 400;
      await burst(flood, N, () => 'app.example.com');
      // Normal traffic from another /24, the same question, during and after the flood.
      for (let i = 0; i < 10; i++) {
        normal.send('app.example.com', 'A', 1000 + i);
        await sleep(30);
      }
      // The same /24 asking something else has its own bucket.
      flood.send('www.example.com', 'A', 5000);
      await sleep(300);

      const floodAnswers = flood.replies.filter((p) => p.id! < N);
      const full = floodAnswers.filter((p) => !truncated(p));
      const slipped = floodAnswers.filter((p) => truncated(p));
      const limited = N - full.length;
      // The bucket starts full (RATE tokens) and refills at RATE per second while the flood lasts.
      expect(full.length).toBeGreaterThanOrEqual(RATE);
      expect(full.length).toBeLessThan(RATE * 3);
      for (const p of full) expect(p.answers!.length).toBeGreaterThan(0);
      // Every 2nd limited response is sent truncated: question only, so the client retries over TCP.
      expect(slipped.length).toBe(Math.floor(limited / 2));
      for (const p of slipped) {
        expect(rcodeOf(p)).toBe('NOERROR');
        expect(p.questions).toEqual([{ name: 'app.example.com', type: 'A', class: 'IN' }]);
        expect(p.answers).toEqual([]);
        expect(p.authorities).toEqual([]);
      }

      expect(normal.replies).toHaveLength(10);
      for (const p of normal.replies) {
        expect(truncated(p)).toBe(false);
        expect(p.answers!.length).toBeGreaterThan(0);
      }
      const other = flood.replies.find((p) => p.id === 5000);
      expect(other && truncated(other)).toBe(false);
      expect(other!.answers!.map((a) => a.type)).toContain('CNAME');

      // TCP from the flooding /24 is answered: the retry a slipped reply asks for works.
      const question = dnsPacket.encode({ type: 'query', id: 7, flags: 0, questions: [{ name: 'app.example.com', type: 'A', class: 'IN' }] });
      const overTcp = dnsPacket.decode(await sendTcp(app.dnsPort, question, 2000, { localAddress: '127.0.0.2' }));
      expect(overTcp.answers!.length).toBeGreaterThan(0);

      // The bucket refills: after a second the flooding address is answered again.
      await sleep(1100);
      const before = flood.replies.length;
      flood.send('app.example.com', 'A', 6000);
      await sleep(200);
      const again = flood.replies.slice(before).find((p) => p.id === 6000);
      expect(again && truncated(again)).toBe(false);

      const metrics = (await app.http.get('/metrics')).text;
      const slipMetric = Number(/georoute_dns_rate_limited_total\{action="slip"\} (\d+)/.exec(metrics)?.[1]);
      const dropMetric = Number(/georoute_dns_rate_limited_total\{action="drop"\} (\d+)/.exec(metrics)?.[1]);
      expect(slipMetric).toBe(slipped.length);
      expect(dropMetric).toBe(limited - slipped.length);
    } finally {
      flood.close();
      normal.close();
    }
  });

  it('puts every error response of a /24 in one bucket (a random-subdomain flood)', async () => {
    const flood = await prober('127.0.0.3', app.dnsPort);
    try {
      const N = 100;
      await burst(flood, N, (i) => `r${i}-${Math.random().toString(36).slice(2)}.example.com`);
      await sleep(300);
      const full = flood.replies.filter((p) => !truncated(p));
      for (const p of full) expect(rcodeOf(p)).toBe('NXDOMAIN');
      expect(full.length).toBeGreaterThanOrEqual(ERRORS);
      expect(full.length).toBeLessThan(ERRORS * 3);
      expect(flood.replies.length - full.length).toBe(Math.floor((N - full.length) / 2));
    } finally {
      flood.close();
    }
  });

  it('never limits an exempt address', async () => {
    const exempt = await prober('127.0.0.4', app.dnsPort);
    try {
      const N = 300;
      await burst(exempt, N, () => 'app.example.com');
      const deadline = Date.now() + 3000;
      while (exempt.replies.length < N && Date.now() < deadline) await sleep(20);
      expect(exempt.replies).toHaveLength(N);
      expect(exempt.replies.filter(truncated)).toHaveLength(0);
    } finally {
      exempt.close();
    }
  });
});
