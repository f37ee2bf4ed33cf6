/**
 * PreSigner: once it has run, DO=1 queries for every answer it can enumerate (static RRsets,
 * SOA, DNSKEY, NS, CNAME chains, DS, referrals, each single-region service variant) make no
 * signature on the query path, also after a re-signing; a variant first made by a DO=0 query is
 * signed in the background before its first DO=1 query. Signatures are counted by path.
 */
import * as dnsPacket from 'dns-packet';
import { randomBytes } from 'node:crypto';
import { FLAGS_KSK, dnskeyRdata, generateDnssecKey, keyTag, sealSecret } from '../common/dnssec-keys';
import { GeoLocator } from '../geo/geo-locator';
import type { ZoneDnssecSnap } from '../routing/types';
import { TYPE_DNSKEY } from './dnssec-signer';
import { PreSigner } from './pre-signer';
import { DnsResponder, type PeerAddress } from './responder';
import { EU_WEST_V4, GEOIP_TEST_DB, US_EAST_V4, fixtureInput, fixtureSnapshot, type DecodedReply } from './test-fixtures';
import { TYPE } from './wire/constants';
import { encodeQuery } from './wire/query-builder';

const KEK = randomBytes(32);

function signedZone(): ZoneDnssecSnap {
  const k = generateDnssecKey(13);
  const id = `csk-${randomBytes(4).toString('hex')}`;
  return {
    status: 'signed',
    keys: [
      {
        id,
        role: 'csk',
        algorithm: 13,
        flags: FLAGS_KSK,
        keyTag: keyTag(dnskeyRdata(FLAGS_KSK, 13, k.publicKey)),
        publicKey: k.publicKey.toString('base64'),
        privateKeySealed: sealSecret(KEK, k.privateKeyDer, id),
        state: 'active',
        cds: true,
      },
    ],
  };
}

const LONDON: PeerAddress = { address: '81.2.69.160', family: 4 };
const TOKYO: PeerAddress = { address: '175.16.199.5', family: 4 };
const US: PeerAddress = { address: '216.160.83.56', family: 4 };

interface Harness {
  responder: DnsResponder;
  presigner: PreSigner;
  clock: { now: number };
  /** Resolves when the pre-signer has nothing left to sign. */
  settled(): Promise<void>;
}

async function harness(): Promise<Harness> {
  const locator = await GeoLocator.open(GEOIP_TEST_DB);
  const clock = { now: Date.now() - 8 * 86400_000 };
  const responder = new DnsResponder({
    classifier: () => locator.classifier,
    dnssec: { kek: KEK, validitySeconds: 14 * 86400, inceptionOffsetSeconds: 3600, now: () => clock.now },
  });
  let waiting: (() => void) | null = null;
  const presigner = new PreSigner(responder, () => {
    const w = waiting;
    waiting = null;
    w?.();
  });
  responder.onSigningWork = () => presigner.start();
  const input = fixtureInput();
  responder.setSnapshot(
    fixtureSnapshot(1, {
      zones: [{ ...input.zones[0], dnssec: signedZone() }],
      services: [
        ...input.services,
        { fqdn: 'pair.example.com', policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'], ttl: 30, residency: 'none', answerCount: 2 },
      ],
    }),
  );
  const settled = async (): Promise<void> => {
    // Every slice of the pass, however many: the pre-signer reports the end of each pass.
    for (let i = 0; i < 1000 && presigner.busy; i++) await new Promise<void>((resolve) => (waiting = resolve));
  };
  return { responder, presigner, clock, settled };
}

function ask(responder: DnsResponder, name: string, type: number, peer: PeerAddress, dnssecOk: boolean): DecodedReply {
  const reply = responder.respond(encodeQuery({ name, qtype: type, edns: { flags: dnssecOk ? 0x8000 : 0 } }), peer, 'tcp')!;
  return dnsPacket.decode(reply) as unknown as DecodedReply;
}

/** Every question whose DO=1 answer the pre-signer makes ahead (name, type, client). */
const PRESIGNED: readonly [string, number, PeerAddress][] = [
  ['www.example.com', TYPE.A, US],
  ['example.com', TYPE.SOA, US],
  ['example.com', TYPE.NS, US],
  ['example.com', TYPE.MX, US],
  ['example.com', TYPE.CAA, US],
  ['example.com', TYPE_DNSKEY, US],
  ['example.com', TYPE.ANY, US],
  ['txt.example.com', TYPE.TXT, US],
  ['big.example.com', TYPE.A, US],
  ['alias.example.com', TYPE.A, US],
  ['alias.example.com', TYPE.CNAME, US],
  ['ns2.example.com', TYPE.AAAA, US],
  ['www.sub.example.com', TYPE.A, US],
  ['ns.sub.example.com', TYPE.A, US],
  ...[LONDON, TOKYO, US].flatMap((peer) => [
    ['app.example.com', TYPE.A, peer] as [string, number, PeerAddress],
    ['app.example.com', TYPE.AAAA, peer] as [string, number, PeerAddress],
    ['go.example.com', TYPE.A, peer] as [string, number, PeerAddress],
    ['go.example.com', TYPE.AAAA, peer] as [string, number, PeerAddress],
  ]),
  ['boom.example.com', TYPE.A, US],
  ['private.example.com', TYPE.A, US],
  ['private.example.com', TYPE.AAAA, TOKYO],
];

/** A signed positive answer (or, for a referral, the signed proof at the cut). */
function hasRrsig(reply: DecodedReply): boolean {
  return reply.rcode === 'NOERROR' && [...reply.answers, ...reply.authorities].some((r) => r.type === 'RRSIG') && !reply.authorities.some((r) => r.type === 'SOA');
}

describe('PreSigner', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
    await h.settled();
  });
  afterAll(() => h.presigner.stop());

  test('the pass after the view is built signed in the background, nothing on the query path', () => {
    const sigs = h.responder.stats().dnssecSignatures;
    expect(sigs.background).toBeGreaterThan(PRESIGNED.length);
    expect(sigs.query).toBe(0);
  });

  test.each(PRESIGNED.map(([name, type, peer]) => [name, type, peer.address] as const))('%s type %i from %s: signed answer, no signature made for it', (name, type, address) => {
    const peer = [LONDON, TOKYO, US].find((p) => p.address === address)!;
    const before = h.responder.stats().dnssecSignatures.query;
    const reply = ask(h.responder, name, type, peer, true);
    expect(hasRrsig(reply)).toBe(true);
    expect(h.responder.stats().dnssecSignatures.query).toBe(before);
  });

  test.each([
    ['www.example.com', TYPE.TXT],
    ['example.com', TYPE.AAAA],
    ['app.example.com', TYPE.TXT],
    ['a.b.example.com', TYPE.A],
    ['sub.example.com', TYPE.DS],
    ['alias.example.com', TYPE.HTTPS],
  ])('NODATA %s type %i: the compact denial (signed SOA, NSEC and its RRSIG) was signed ahead', (name, type) => {
    const before = h.responder.stats().dnssecSignatures.query;
    const reply = ask(h.responder, name, type, US, true);
    expect(reply.rcode).toBe('NOERROR');
    if (name === 'alias.example.com') expect(reply.answers.map((r) => r.type)).toEqual(['CNAME', 'RRSIG']); // a CNAME answers every type
    else expect(reply.authorities.map((r) => r.type)).toEqual(['SOA', 'RRSIG', 'NSEC', 'RRSIG']);
    expect(h.responder.stats().dnssecSignatures.query).toBe(before);
  });

  test('a two-region variant asked first without DO is signed in the background before its first DO=1 query', async () => {
    const before = h.responder.stats().dnssecSignatures;
    const plain = ask(h.responder, 'pair.example.com', TYPE.A, LONDON, false);
    expect(new Set(plain.answers.filter((r) => r.type === 'A').map((r) => r.data))).toEqual(new Set([...EU_WEST_V4, ...US_EAST_V4]));
    expect(hasRrsig(plain)).toBe(false);
    await h.settled();
    const middle = h.responder.stats().dnssecSignatures;
    expect(middle.background).toBeGreaterThan(before.background);
    const signed = ask(h.responder, 'pair.example.com', TYPE.A, LONDON, true);
    expect(hasRrsig(signed)).toBe(true);
    expect(h.responder.stats().dnssecSignatures.query).toBe(before.query);
  });

  test('a two-region variant asked first with DO=1 is the inline fallback: signed on the query path, counted', () => {
    const before = h.responder.stats().dnssecSignatures.query;
    const signed = ask(h.responder, 'pair.example.com', TYPE.AAAA, TOKYO, true);
    expect(hasRrsig(signed)).toBe(true);
    expect(h.responder.stats().dnssecSignatures.query).toBe(before + 1);
  });

  test('re-signing: the old signatures serve until the new ones are made in the background, then the new ones, none made on the query path', async () => {
    const inception = (reply: DecodedReply): number => (reply.answers.find((r) => r.type === 'RRSIG')!.data as { inception: number }).inception;
    const old = inception(ask(h.responder, 'www.example.com', TYPE.A, US, true));
    const before = h.responder.stats().dnssecSignatures;
    h.clock.now = Date.now();
    expect(h.responder.maintain()).toBe(true);
    // Nothing signed yet: the answers still carry the old signatures (valid for half a window more).
    expect(h.responder.zoneView!.resigning).toBe(true);
    expect(inception(ask(h.responder, 'www.example.com', TYPE.A, US, true))).toBe(old);
    await h.settled();
    expect(h.responder.zoneView!.resigning).toBe(false);
    const after = h.responder.stats().dnssecSignatures;
    expect(after.background).toBeGreaterThan(before.background + PRESIGNED.length);
    for (const [name, type, peer] of PRESIGNED) {
      const reply = ask(h.responder, name, type, peer, true);
      expect(`${name} ${type}: ${hasRrsig(reply)}`).toBe(`${name} ${type}: true`);
    }
    expect(inception(ask(h.responder, 'www.example.com', TYPE.A, US, true))).toBeGreaterThan(old);
    // The variants made by queries before the re-signing were re-signed in the background too.
    ask(h.responder, 'pair.example.com', TYPE.A, LONDON, true);
    ask(h.responder, 'pair.example.com', TYPE.AAAA, TOKYO, true);
    expect(h.responder.stats().dnssecSignatures.query).toBe(after.query);
    expect(after.query).toBe(before.query);
  });

  test('without a pre-signer a re-signing swaps at once and answers are signed on first use (the fallback)', async () => {
    const locator = await GeoLocator.open(GEOIP_TEST_DB);
    let now = Date.now() - 8 * 86400_000;
    const responder = new DnsResponder({ classifier: () => locator.classifier, dnssec: { kek: KEK, validitySeconds: 14 * 86400, inceptionOffsetSeconds: 3600, now: () => now } });
    responder.setSnapshot(fixtureSnapshot(1, { zones: [{ ...fixtureInput().zones[0], dnssec: signedZone() }] }));
    expect(hasRrsig(ask(responder, 'www.example.com', TYPE.A, US, true))).toBe(true);
    expect(responder.stats().dnssecSignatures).toEqual({ background: 0, query: 1 });
    now = Date.now();
    expect(responder.maintain()).toBe(true);
    expect(responder.zoneView!.resigning).toBe(false);
    expect(hasRrsig(ask(responder, 'www.example.com', TYPE.A, US, true))).toBe(true);
    expect(responder.stats().dnssecSignatures).toEqual({ background: 0, query: 2 });
  });
});
