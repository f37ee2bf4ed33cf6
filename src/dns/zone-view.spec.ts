import * as dnsPacket from 'dns-packet';
import type { RoutingSnapshot, ServiceSnap, StaticRecordSnap, ZoneSnap } from '../routing/types';
import { GeoLocator } from '../geo/geo-locator';
import { DnsResponder, type Classifier } from './responder';
import { GEOIP_TEST_DB, fixtureSnapshot, type DecodedReply } from './test-fixtures';
import { TYPE } from './wire/constants';
import { RecordWriter, parseCaa, txtStrings } from './wire/encoder';
import { encodeQuery } from './wire/query-builder';
import { ZoneView, mailboxLabels } from './zone-view';

const decodeReply = (b: Buffer): DecodedReply => dnsPacket.decode(b) as unknown as DecodedReply;

let classifier: Classifier;
beforeAll(async () => {
  classifier = (await GeoLocator.open(GEOIP_TEST_DB)).classifier;
});

function zone(records: Partial<StaticRecordSnap>[], extra: Partial<ZoneSnap> = {}): ZoneSnap {
  return {
    name: 'example.com',
    serial: 7,
    nameservers: ['ns1.example.com'],
    hostmaster: 'hostmaster.example.com',
    ttl: 3600,
    refresh: 7200,
    retry: 900,
    expire: 1209600,
    negativeTtl: 300,
    records: records.map((r, i) => ({ id: String(i), name: 'x.example.com', type: 'A', ttl: 300, values: [], ...r }) as StaticRecordSnap),
    ...extra,
  };
}

/** A snapshot assembled by hand, bypassing buildSnapshot's validation (to test the view's own rules). */
function rawSnapshot(zones: ZoneSnap[], services: ServiceSnap[] = [], version = 1): RoutingSnapshot {
  return {
    version,
    builtAt: '2025-01-01T00:00:00Z',
    zones: new Map(zones.map((z) => [z.name, z])),
    regions: new Map(),
    services: new Map(services.map((s) => [s.fqdn, s])),
  };
}

function responderFor(snapshot: RoutingSnapshot): DnsResponder {
  const r = new DnsResponder({ classifier: () => classifier });
  r.setSnapshot(snapshot);
  return r;
}

function ask(r: DnsResponder, name: string, qtype: number): { raw: Buffer; msg: DecodedReply } {
  const raw = r.respond(encodeQuery({ name, qtype }), { address: '192.0.2.1', family: 4 }, 'tcp');
  if (raw === null) throw new Error('no reply');
  return { raw, msg: decodeReply(raw) };
}

describe('RecordWriter', () => {
  test('compresses names against the question and against names it wrote', () => {
    // Reply to "www.example.com": the question name sits at 12, "example.com" at 16.
    const w = new RecordWriter(12 + 17 + 4).knownName('www.example.com', 12);
    w.record('www.example.com', TYPE.CNAME, 60, (x) => x.name('web.example.com'));
    w.record('web.example.com', TYPE.A, 60, (x) => x.raw(Buffer.from([192, 0, 2, 1])));
    const b = w.bytes();
    // CNAME: owner C00C, rdata "web" + pointer to "example.com" (offset 16).
    expect(b.subarray(0, 2)).toEqual(Buffer.from([0xc0, 0x0c]));
    expect(b.subarray(12, 18)).toEqual(Buffer.from([3, 0x77, 0x65, 0x62, 0xc0, 16]));
    // A: owner points at the CNAME's rdata (message offset 33 + 12).
    expect(b.subarray(18, 20)).toEqual(Buffer.from([0xc0, 33 + 12]));
    expect(w.records).toBe(2);
  });

  test('without compression every name is written in full', () => {
    const w = new RecordWriter(0, false).knownName('example.com', 12);
    w.name('a.example.com');
    expect(w.bytes()).toEqual(Buffer.from([1, 0x61, 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0]));
  });

  test('rejects labels longer than 63 octets', () => {
    expect(() => new RecordWriter(0).name(`${'a'.repeat(64)}.com`)).toThrow(/bad label/);
  });
});

describe('value parsers', () => {
  test('TXT: plain text is one string, split every 255 octets; quoted strings are read as strings', () => {
    expect(txtStrings('hello world').map(String)).toEqual(['hello world']);
    const long = txtStrings('x'.repeat(600));
    expect(long.map((b) => b.length)).toEqual([255, 255, 90]);
    expect(txtStrings('"part one" "part \\"two\\""').map(String)).toEqual(['part one', 'part "two"']);
    expect(txtStrings('').map((b) => b.length)).toEqual([0]);
  });

  test('CAA: flags, tag and value', () => {
    const caa = parseCaa('128 issuewild "ca.example.net; account=1"');
    expect([caa.flags, caa.tag, caa.value.toString()]).toEqual([128, 'issuewild', 'ca.example.net; account=1']);
    expect(() => parseCaa('300 issue "x"')).toThrow();
  });

  test('RNAME from an e-mail address or a name', () => {
    expect(mailboxLabels('hostmaster@example.com', 'example.com')).toEqual(['hostmaster', 'example', 'com']);
    expect(mailboxLabels('dns.admin@example.com', 'example.com')).toEqual(['dns.admin', 'example', 'com']);
    expect(mailboxLabels('hostmaster.example.com.', 'example.com')).toEqual(['hostmaster', 'example', 'com']);
    expect(mailboxLabels('', 'example.com')).toEqual(['hostmaster', 'example', 'com']);
  });
});

describe('ZoneView from the fixture snapshot', () => {
  const view = ZoneView.build(fixtureSnapshot());
  const r = responderFor(fixtureSnapshot());

  test('builds without warnings and lists every owner name, empty non-terminals included', () => {
    expect(view.warnings).toEqual([]);
    expect(view.zoneNames).toEqual(['example.com']);
    for (const name of ['example.com', 'www.example.com', 'app.example.com', 'a.b.example.com', 'b.example.com', 'wild.example.com', '*.wild.example.com']) {
      expect(view.find(name)).toBeDefined();
    }
    expect(view.find('nope.example.com')).toBeUndefined();
  });

  test('answer RRs point at the question name (0xC00C) and are laid out for copying', () => {
    const node = view.find('www.example.com')!;
    const a = node.answers.get(TYPE.A)!;
    expect(a.ancount).toBe(1);
    expect(a.body).toEqual(Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4, 192, 0, 2, 80]));
  });

  test('service names carry one pre-encoded RR per address with the service TTL', () => {
    const app = view.find('app.example.com')!;
    expect(app.dynamic).not.toBeNull();
    const rr = app.dynamic!.service.addressRecord(4, '192.0.2.10');
    expect(rr).toEqual(Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 10]));
    const rr6 = app.dynamic!.service.addressRecord(6, '2001:db8::10');
    expect(rr6.length).toBe(28);
    expect(rr6.readUInt16BE(2)).toBe(TYPE.AAAA);
    // A CNAME to a service: the address RRs are owned by the CNAME target inside the reply.
    const go = view.find('go.example.com')!;
    expect(go.dynamic!.prefixCount).toBe(1);
    expect(go.dynamic!.ownerPointer).toBeGreaterThan(12);
  });

  test('the SOA answer has the zone TTL; negative answers min(SOA TTL, negativeTtl) (RFC 2308 §3)', () => {
    const soa = ask(r, 'example.com', TYPE.SOA).msg;
    expect(soa.answers![0]).toMatchObject({
      type: 'SOA',
      ttl: 3600,
      data: { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2025010101, minimum: 300 },
    });
    const nx = ask(r, 'nope.example.com', TYPE.A).msg;
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities![0]).toMatchObject({ name: 'example.com', type: 'SOA', ttl: 300 });
    const low = responderFor(rawSnapshot([zone([], { ttl: 60, negativeTtl: 300 })]));
    expect(ask(low, 'nope.example.com', TYPE.A).msg.authorities![0].ttl).toBe(60);
  });

  test('negative answers are built once per question length and reused', () => {
    const zoneData = view.find('example.com')!.zone;
    expect(zoneData.negative(3, 18)).toBe(zoneData.negative(3, 18));
    expect(zoneData.negative(3, 18)).not.toBe(zoneData.negative(3, 19));
  });

  test('apex NS carries glue for in-zone nameservers; MX carries the exchange address', () => {
    const ns = ask(r, 'example.com', TYPE.NS).msg;
    expect(ns.answers!.map((a) => a.data).sort()).toEqual(['ns1.example.com', 'ns2.example.com']);
    expect(ns.additionals!.map((a) => `${a.name} ${a.type} ${a.data}`).sort()).toEqual([
      'ns1.example.com A 192.0.2.53',
      'ns2.example.com A 198.51.100.53',
      'ns2.example.com AAAA 2001:db8::53',
    ]);
    const mx = ask(r, 'example.com', TYPE.MX).msg;
    expect(mx.answers![0].data).toEqual({ preference: 10, exchange: 'mail.example.com' });
    expect(mx.additionals![0]).toMatchObject({ name: 'mail.example.com', type: 'A', data: '192.0.2.25' });
  });

  test('TXT and CAA rdata', () => {
    const txt = ask(r, 'txt.example.com', TYPE.TXT).msg;
    expect(txt.answers!.map((a) => (a.data as Buffer[]).map(String).join(''))).toEqual(['v=spf1 -all', 'hello world']);
    const caa = ask(r, 'example.com', TYPE.CAA).msg;
    expect(caa.answers![0].data).toMatchObject({ flags: 0, tag: 'issue', value: 'letsencrypt.org' });
  });

  test('delegation: names at and below the cut are marked', () => {
    expect(view.find('sub.example.com')!.cut!.name).toBe('sub.example.com');
    expect(view.find('ns.sub.example.com')!.cut!.name).toBe('sub.example.com');
    expect(view.find('www.example.com')!.cut).toBeNull();
  });

  test('wildcard: the closest encloser of a missing name under it holds the "*" node', () => {
    const encloser = view.closestEncloser('x.wild.example.com')!;
    expect(encloser.name).toBe('wild.example.com');
    expect(encloser.wildcard!.name).toBe('*.wild.example.com');
    expect(view.closestEncloser('a.b.c.nope.example.com')!.name).toBe('example.com');
    expect(view.closestEncloser('example.org')).toBeUndefined();
    expect(view.closestEncloser('com')).toBeUndefined();
  });
});

describe('ZoneView data rules', () => {
  test('RRsets are de-duplicated and take the lowest TTL (RFC 2181 §5, §5.2)', () => {
    const r = responderFor(
      rawSnapshot([
        zone([
          { name: 'x.example.com', type: 'A', ttl: 300, values: ['192.0.2.1', '192.0.2.2'] },
          { name: 'x.example.com', type: 'A', ttl: 100, values: ['192.0.2.2', '192.0.2.3'] },
        ]),
      ]),
    );
    const answers = ask(r, 'x.example.com', TYPE.A).msg.answers!;
    expect(answers.map((a) => a.data)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(new Set(answers.map((a) => a.ttl))).toEqual(new Set([100]));
  });

  test('a CNAME excludes other data at its name; a CNAME at the apex is dropped (RFC 2181 §10.1)', () => {
    const snapshot = rawSnapshot([
      zone([
        { name: 'x.example.com', type: 'CNAME', values: ['y.example.com'] },
        { name: 'x.example.com', type: 'TXT', values: ['t'] },
        { name: 'example.com', type: 'CNAME', values: ['elsewhere.example.net'] },
      ]),
    ]);
    const view = ZoneView.build(snapshot);
    expect(view.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/TXT ignored beside a CNAME/), expect.stringMatching(/CNAME at a zone apex/)]));
    const r = responderFor(snapshot);
    const txt = ask(r, 'x.example.com', TYPE.TXT).msg;
    expect(txt.answers!.map((a) => a.type)).toEqual(['CNAME']);
    expect(ask(r, 'example.com', TYPE.CNAME).msg.answers).toEqual([]);
  });

  test('bad values are skipped with a warning; the rest of the zone is served', () => {
    const snapshot = rawSnapshot([
      zone([
        { name: 'x.example.com', type: 'A', values: ['999.1.1.1', '192.0.2.1'] },
        { name: 'y.example.com', type: 'MX', values: ['mail.example.com'] },
        { name: 'z.example.org', type: 'A', values: ['192.0.2.1'] },
      ]),
    ]);
    const view = ZoneView.build(snapshot);
    expect(view.warnings).toHaveLength(3);
    const r = responderFor(snapshot);
    expect(ask(r, 'x.example.com', TYPE.A).msg.answers!.map((a) => a.data)).toEqual(['192.0.2.1']);
    expect(ask(r, 'y.example.com', TYPE.MX).msg.rcode).toBe('NOERROR');
  });

  test('nested zones: a name belongs to the longest served zone', () => {
    const parent = zone([{ name: 'www.sub.example.com', type: 'A', values: ['192.0.2.1'] }]);
    const child = zone([{ name: 'www.sub.example.com', type: 'A', values: ['192.0.2.2'] }], { name: 'sub.example.com', nameservers: ['ns1.sub.example.com'] });
    const snapshot = rawSnapshot([parent, child]);
    const view = ZoneView.build(snapshot);
    expect(view.find('www.sub.example.com')!.zone.name).toBe('sub.example.com');
    expect(view.warnings.some((w) => w.includes('more specific served zone'))).toBe(true);
    const r = responderFor(snapshot);
    expect(ask(r, 'www.sub.example.com', TYPE.A).msg.answers![0].data).toBe('192.0.2.2');
    expect(ask(r, 'nope.sub.example.com', TYPE.A).msg.authorities![0].name).toBe('sub.example.com');
  });

  test('an unusable RNAME falls back to hostmaster.<zone>', () => {
    const view = ZoneView.build(rawSnapshot([zone([], { hostmaster: `${'x'.repeat(70)}@example.com` })]));
    expect(view.warnings.some((w) => w.includes('RNAME'))).toBe(true);
    const r = responderFor(rawSnapshot([zone([], { hostmaster: `${'x'.repeat(70)}@example.com` })]));
    expect((ask(r, 'example.com', TYPE.SOA).msg.answers![0].data as { rname: string }).rname).toBe('hostmaster.example.com');
  });

  test('static A at a service name is ignored (the engine answers it)', () => {
    const service: ServiceSnap = {
      fqdn: 'app.example.com',
      zone: 'example.com',
      policy: 'failover',
      regions: [],
      geolocation: null,
      ttl: 30,
      residency: 'none',
      unknownLocation: 'route',
      whenAllUnhealthy: 'fail-open',
      answerCount: 1,
    };
    const view = ZoneView.build(
      rawSnapshot([zone([{ name: 'app.example.com', type: 'A', values: ['192.0.2.1'] }, { name: 'app.example.com', type: 'TXT', values: ['kept'] }])], [service]),
    );
    const node = view.find('app.example.com')!;
    expect(node.answers.has(TYPE.A)).toBe(false);
    expect(node.answers.has(TYPE.TXT)).toBe(true);
    expect(view.warnings.some((w) => w.includes('static A ignored at a service name'))).toBe(true);
  });
});
