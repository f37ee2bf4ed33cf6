/**
 * The CI-sized DNS fuzz run: the harness of test/fuzz/dns-fuzz.ts in-process against the real
 * application (demo configuration, embedded or DATABASE_URL database) for FUZZ_SECONDS (default
 * 60) of mutated and random packets over UDP and TCP (FUZZ_SEED, default 1). The full run with a
 * separate process and RSS figures is bench/fuzz.sh.
 *
 * RSS is not asserted here (the Jest process's memory is noise); responsiveness is: probes every
 * 2 s and a normal query at the end must be answered correctly.
 */
import { DnsService } from '../../src/dns/dns.service';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from '../support/test-app';
import { checkReply, formatReport, FuzzReport, genPacket, Rng, runFuzz, simulateTcpFraming, type ViolationKind } from './dns-fuzz';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
/** The demo configuration sends a London client (81.2.69.0/24, DB-IP) to eu-west-1. */
const PROBE = { name: 'app.example.com', subnet: '81.2.69.0/24', expect: '198.51.100.10' };

describe(`DNS fuzzing in-process for ${SECONDS} s (FUZZ_SECONDS), seed ${SEED} (FUZZ_SEED)`, () => {
  let db: TestDatabase;
  let app: TestApp;
  let report: FuzzReport;
  let handlerErrorsBefore = 0;
  let handlerErrorsAfter = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
    const responder = app.running.app.get(DnsService).responder;
    handlerErrorsBefore = responder.stats().handlerErrors;
    // An unhandled rejection or uncaught exception while this runs fails this hook (jest-circus
    // reports it as the error of the running hook or test), and so every test below.
    report = await runFuzz({ port: app.dnsPort }, { seed: SEED, seconds: SECONDS, packets: 1e9, probe: PROBE });
    handlerErrorsAfter = responder.stats().handlerErrors;
    process.stdout.write(`\nDNS fuzz, in-process, ${SECONDS} s:\n${formatReport(report)}\n`);
  }, SECONDS * 1000 + 120_000);

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('the reply checks themselves catch a malformed, mismatched or amplified reply (oracle self-test)', () => {
    const query = Buffer.from('12340100000100000000000003617070076578616d706c6503636f6d0000010001', 'hex');
    const good = Buffer.from('12348500000100010000000003617070076578616d706c6503636f6d0000010001c00c000100010000001e0004c6336e0a', 'hex');
    expect(checkReply(query, good, 'udp')).toEqual([]);
    const kinds = (reply: Buffer, transport: 'udp' | 'tcp' = 'udp') => checkReply(query, reply, transport).map((v) => v.kind);
    expect(kinds(good.subarray(0, good.length - 2))).toContain('unparseable');
    expect(kinds(Buffer.concat([good, Buffer.from([0])]))).toContain('trailing-octets');
    const otherId = Buffer.from(good);
    otherId[1] ^= 1;
    expect(kinds(otherId)).toContain('id-mismatch');
    const qrClear = Buffer.from(good);
    qrClear[2] &= 0x7f;
    expect(kinds(qrClear)).toContain('qr-clear');
    const otherCase = Buffer.from(good);
    otherCase[13] = 0x41; // 'A': the question is echoed with its original case, octet for octet
    expect(kinds(otherCase)).toContain('question-not-echoed');
    const big = Buffer.concat([good.subarray(0, 10), Buffer.from([0, 0])]);
    expect(kinds(Buffer.concat([big, Buffer.alloc(600)]))).toEqual(expect.arrayContaining(['amplification', 'udp-over-limit']));
    // TCP framing as the server reads it: a zero length or an unanswerable message closes.
    const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
    expect(simulateTcpFraming(Buffer.concat([frame(query), frame(query)])).answered).toHaveLength(2);
    expect(simulateTcpFraming(Buffer.concat([frame(query), Buffer.from([0, 0]), frame(query)]))).toMatchObject({ closes: true, answered: [{ query }] });
    expect(simulateTcpFraming(Buffer.concat([frame(query), Buffer.from([0xff, 0xff, 1, 2])]))).toMatchObject({ closes: false, answered: [{ query }] });
    // The corpus is reproducible from its seed.
    expect(genPacket(new Rng(7)).buf).toEqual(genPacket(new Rng(7)).buf);
  });

  it('sent a real load of every kind of packet over UDP and TCP', () => {
    expect(report.durationS).toBeGreaterThanOrEqual(SECONDS * 0.9);
    expect(report.udp.sent).toBeGreaterThan(SECONDS * 200);
    expect(report.tcp.messages).toBeGreaterThan(SECONDS * 20);
    for (const kind of ['valid', 'seed', 'mutated', 'garbage', 'header+garbage'] as const) expect(report.kinds[kind]).toBeGreaterThan(0);
    expect(report.replyRcodes).toEqual(expect.objectContaining({ NOERROR: expect.any(Number), NXDOMAIN: expect.any(Number), FORMERR: expect.any(Number), REFUSED: expect.any(Number), NOTIMP: expect.any(Number) }));
  });

  /** The violations of these kinds, with their samples (hex), so a failure shows the packets. */
  const found = (kinds: ViolationKind[]) =>
    Object.fromEntries(kinds.filter((k) => report.violations[k]).map((k) => [k, { count: report.violations[k], samples: report.samples[k] }]));

  it('every reply decodes with dns-packet to its last octet, with QR = 1, the query ID and OPCODE, and the question echoed', () => {
    expect(found(['unparseable', 'trailing-octets', 'qr-clear', 'id-mismatch', 'opcode-mismatch', 'question-not-echoed'])).toEqual({});
  });

  it('no UDP reply is larger than 10 x its request, nor than 512 octets without EDNS / 1232 with', () => {
    expect(found(['amplification', 'udp-over-limit'])).toEqual({});
    expect(report.udp.maxRatio).toBeLessThanOrEqual(10);
  });

  it('every answerable UDP message gets one reply, unanswerable ones none; TCP replies come in order, none missing or extra, no connection hangs', () => {
    expect(found(['udp-no-reply', 'udp-reply-to-unanswerable', 'tcp-missing-replies', 'tcp-extra-replies', 'tcp-bad-frame', 'tcp-hang', 'tcp-connect-error', 'tc-over-tcp'])).toEqual({});
    expect(report.udp.replies).toBe(report.udp.answerable);
    expect(report.tcp.replies).toBeGreaterThanOrEqual(report.tcp.expectedReplies - report.tcp.resets);
  });

  it('no exception reached the responder\'s SERVFAIL guard (handlerErrors stays 0)', () => {
    expect(handlerErrorsAfter - handlerErrorsBefore).toBe(0);
  });

  it('stayed responsive (probes every 2 s over UDP and TCP) and answers a normal query correctly afterwards', () => {
    expect(found(['probe-failed'])).toEqual({});
    expect(report.probes.sent).toBeGreaterThan(0);
    expect(report.probes.failed).toBe(0);
    expect(report.finalCheck).toEqual({ udp: 'ok', tcp: 'ok', ok: true });
  });
});
