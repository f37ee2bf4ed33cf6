import { ipv4Text, ipv6Text } from './address-text';
import { TYPE } from './constants';
import { DecodedQuery, DecodeStatus, decodeQuery, type DecodeProblem } from './decoder';
import { ecsIpv4, ecsOption, encodeName, encodeOpt, encodeQuery, encodeRecord } from './query-builder';

const STATUS_NAME: Record<number, string> = {
  [DecodeStatus.DROP]: 'DROP',
  [DecodeStatus.FORMERR]: 'FORMERR',
  [DecodeStatus.NOTIMP]: 'NOTIMP',
  [DecodeStatus.BADVERS]: 'BADVERS',
  [DecodeStatus.QUERY]: 'QUERY',
};

function decode(msg: Buffer): DecodedQuery {
  return decodeQuery(msg, new DecodedQuery());
}

const label = (n: number, fill = 0x61): Buffer => Buffer.concat([Buffer.from([n]), Buffer.alloc(n, fill)]);

/** Header + question name built from raw octets + QTYPE A, QCLASS IN. */
function withRawName(raw: number[] | Buffer, extra: Parameters<typeof encodeQuery>[0] = {}): Buffer {
  return encodeQuery({ rawName: Buffer.from(raw), ...extra });
}

/** 127 compression pointers, each pointing at the one before it, behind a name at offset 12. */
function pointerChainInAdditional(): Buffer {
  const base = encodeQuery({ name: 'example.com' });
  const records: Buffer[] = [];
  let previous = 12;
  let offset = base.length;
  for (let i = 0; i < 127; i++) {
    const owner = Buffer.from([0xc0 | (previous >> 8), previous & 0xff]);
    records.push(encodeRecord(owner, TYPE.TXT));
    previous = offset;
    offset += 2 + 10;
  }
  return encodeQuery({ name: 'example.com', additionalRecords: records });
}

/** Every row: the test-plan ID, the input, and the expected status and problem. */
const ROWS: ReadonlyArray<{ id: string; input: string; msg: () => Buffer; status: string; problem: DecodeProblem }> = [
  { id: 'D1', input: 'empty datagram', msg: () => Buffer.alloc(0), status: 'DROP', problem: 'short-header' },
  { id: 'D1', input: '1 octet', msg: () => Buffer.from([0x12]), status: 'DROP', problem: 'short-header' },
  { id: 'D1', input: '11 octets', msg: () => Buffer.alloc(11), status: 'DROP', problem: 'short-header' },
  { id: 'D8', input: 'QR = 1', msg: () => encodeQuery({ extraFlags: 0x8000 }), status: 'DROP', problem: 'response' },
  { id: 'D2', input: 'pointer to itself (c0 0c at 12)', msg: () => withRawName([0xc0, 0x0c]), status: 'FORMERR', problem: 'name-pointer' },
  { id: 'D2', input: 'forward pointer', msg: () => withRawName([0x01, 0x61, 0xc0, 0x20]), status: 'FORMERR', problem: 'name-pointer' },
  { id: 'D2', input: 'pointer into the header', msg: () => withRawName([0x01, 0x61, 0xc0, 0x02]), status: 'FORMERR', problem: 'name-pointer' },
  {
    id: 'D3',
    input: 'question name made of a pointer chain',
    msg: () => {
      // c0 0e -> c0 10 -> ... : every hop is still a pointer in the question, rejected at the first.
      const raw: number[] = [];
      for (let i = 0; i < 127; i++) raw.push(0xc0, 14 + 2 * i);
      raw.push(0);
      return withRawName(raw);
    },
    status: 'FORMERR',
    problem: 'name-pointer',
  },
  { id: 'D3', input: '127 backward pointers in the additional section', msg: pointerChainInAdditional, status: 'QUERY', problem: '' },
  { id: 'D4', input: 'label length 64', msg: () => withRawName(Buffer.concat([label(64), Buffer.from([0])])), status: 'FORMERR', problem: 'label-type' },
  { id: 'D4', input: '0x40 extended label type', msg: () => withRawName([0x41, 0x00, 0x00]), status: 'FORMERR', problem: 'label-type' },
  { id: 'D4', input: '0x80 label type', msg: () => withRawName([0x80, 0x00]), status: 'FORMERR', problem: 'label-type' },
  {
    id: 'D5',
    input: 'name of 5 x 63-octet labels (321 octets)',
    msg: () => withRawName(Buffer.concat([label(63), label(63), label(63), label(63), label(63), Buffer.from([0])])),
    status: 'FORMERR',
    problem: 'name-too-long',
  },
  {
    id: 'D5',
    input: 'name of exactly 256 octets',
    msg: () => withRawName(Buffer.concat([label(63), label(63), label(63), label(62), Buffer.from([0])])),
    status: 'FORMERR',
    problem: 'name-too-long',
  },
  { id: 'D6', input: 'QDCOUNT = 0', msg: () => encodeQuery({ omitQuestion: true }), status: 'FORMERR', problem: 'qdcount' },
  { id: 'D7', input: 'QDCOUNT = 2', msg: () => encodeQuery({ qdcount: 2 }), status: 'FORMERR', problem: 'qdcount' },
  { id: 'D9', input: 'OPCODE 15', msg: () => encodeQuery({ opcode: 15 }), status: 'NOTIMP', problem: '' },
  { id: 'D9', input: 'OPCODE 2 (STATUS)', msg: () => encodeQuery({ opcode: 2 }), status: 'NOTIMP', problem: '' },
  { id: 'D9', input: 'OPCODE 5 (UPDATE)', msg: () => encodeQuery({ opcode: 5, qtype: TYPE.SOA }), status: 'NOTIMP', problem: '' },
  { id: 'D10', input: 'OPCODE 4 (NOTIFY)', msg: () => encodeQuery({ opcode: 4, qtype: TYPE.SOA }), status: 'NOTIMP', problem: '' },
  { id: 'D22', input: 'OPT VERSION 1', msg: () => encodeQuery({ edns: { version: 1 } }), status: 'BADVERS', problem: '' },
  {
    id: 'D22',
    input: 'OPT VERSION 1 with an option we would reject in version 0',
    msg: () => encodeQuery({ edns: { version: 1, options: [ecsOption(3, 0, 0, Buffer.alloc(0))] } }),
    status: 'BADVERS',
    problem: '',
  },
  { id: 'D23', input: 'two OPT RRs', msg: () => encodeQuery({ edns: {}, additionalRecords: [encodeOpt({})] }), status: 'FORMERR', problem: 'opt-duplicate' },
  { id: 'D23', input: 'OPT in the answer section', msg: () => encodeQuery({ answerRecords: [encodeOpt({})] }), status: 'FORMERR', problem: 'opt-not-additional' },
  { id: 'D23', input: 'OPT in the authority section', msg: () => encodeQuery({ authorityRecords: [encodeOpt({})] }), status: 'FORMERR', problem: 'opt-not-additional' },
  { id: 'D23', input: 'OPT owner not the root', msg: () => encodeQuery({ edns: { owner: encodeName('a') } }), status: 'FORMERR', problem: 'opt-owner' },
  {
    id: 'D24',
    input: 'unknown EDNS option 65001',
    msg: () => encodeQuery({ edns: { options: [{ code: 65001, data: Buffer.from([0]) }] } }),
    status: 'QUERY',
    problem: '',
  },
  { id: 'D24', input: 'unknown EDNS flag bits', msg: () => encodeQuery({ edns: { flags: 0x7fff } }), status: 'QUERY', problem: '' },
  { id: 'D33', input: 'ECS family 1, source 33', msg: () => encodeQuery({ edns: { options: [ecsOption(1, 33, 0, Buffer.alloc(5))] } }), status: 'FORMERR', problem: 'ecs-source' },
  { id: 'D33', input: 'ECS family 2, source 129', msg: () => encodeQuery({ edns: { options: [ecsOption(2, 129, 0, Buffer.alloc(17))] } }), status: 'FORMERR', problem: 'ecs-source' },
  {
    id: 'D33',
    input: 'ECS /24 with 4 address octets',
    msg: () => encodeQuery({ edns: { options: [ecsOption(1, 24, 0, Buffer.from([81, 2, 69, 0]))] } }),
    status: 'FORMERR',
    problem: 'ecs-address-length',
  },
  {
    id: 'D33',
    input: 'ECS /24 with 2 address octets',
    msg: () => encodeQuery({ edns: { options: [ecsOption(1, 24, 0, Buffer.from([81, 2]))] } }),
    status: 'FORMERR',
    problem: 'ecs-address-length',
  },
  {
    id: 'D33',
    input: 'ECS /20 with bits set past the prefix',
    msg: () => encodeQuery({ edns: { options: [ecsOption(1, 20, 0, Buffer.from([81, 2, 69]))] } }),
    status: 'FORMERR',
    problem: 'ecs-address-bits',
  },
  { id: 'D34', input: 'ECS SCOPE 8 in a query', msg: () => encodeQuery({ edns: { options: [ecsIpv4('81.2.69.0', 24, 8)] } }), status: 'FORMERR', problem: 'ecs-scope' },
  { id: 'D35', input: 'ECS SOURCE 0', msg: () => encodeQuery({ edns: { options: [ecsOption(1, 0, 0, Buffer.alloc(0))] } }), status: 'QUERY', problem: '' },
  { id: 'D36', input: 'ECS FAMILY 3', msg: () => encodeQuery({ edns: { options: [ecsOption(3, 8, 0, Buffer.from([10]))] } }), status: 'FORMERR', problem: 'ecs-family' },
  { id: 'D36', input: 'ECS option shorter than 4 octets', msg: () => encodeQuery({ edns: { options: [{ code: 8, data: Buffer.from([0, 1]) }] } }), status: 'FORMERR', problem: 'ecs-short' },
  {
    id: 'ECS',
    input: 'two ECS options',
    msg: () => encodeQuery({ edns: { options: [ecsIpv4('81.2.69.0', 24), ecsIpv4('81.2.69.0', 24)] } }),
    status: 'FORMERR',
    problem: 'ecs-duplicate',
  },
  {
    id: 'OPT',
    input: 'option length past the OPT RDATA',
    msg: () => {
      const opt = encodeOpt({ options: [{ code: 65001, data: Buffer.from([1, 2, 3, 4]) }] });
      opt.writeUInt16BE(20, 1 + 10 + 2); // the option's length field: 20 octets, only 4 present
      return encodeQuery({ additionalRecords: [opt] });
    },
    status: 'FORMERR',
    problem: 'option-truncated',
  },
  { id: 'Q', input: 'question name truncated', msg: () => encodeQuery({ name: 'example.com' }).subarray(0, 18), status: 'FORMERR', problem: 'name-truncated' },
  { id: 'Q', input: 'QTYPE/QCLASS truncated', msg: () => encodeQuery({ name: 'example.com' }).subarray(0, 12 + 13 + 2), status: 'FORMERR', problem: 'question-truncated' },
  {
    id: 'Q',
    input: 'ARCOUNT 1 with no record',
    msg: () => {
      const m = encodeQuery({ name: 'example.com' });
      m.writeUInt16BE(1, 10);
      return m;
    },
    status: 'FORMERR',
    problem: 'rr-truncated',
  },
  {
    id: 'Q',
    input: 'ARCOUNT 65535 with 3 records',
    msg: () => {
      const m = encodeQuery({ name: 'example.com', additionalRecords: [encodeRecord([0], TYPE.TXT), encodeRecord([0], TYPE.TXT), encodeRecord([0], TYPE.TXT)] });
      m.writeUInt16BE(65535, 10);
      return m;
    },
    status: 'FORMERR',
    problem: 'rr-truncated',
  },
  { id: 'Q', input: 'RDLENGTH past the end', msg: () => encodeQuery({ additionalRecords: [encodeRecord([0], TYPE.TXT, Buffer.alloc(4)).subarray(0, 13)] }), status: 'FORMERR', problem: 'rr-truncated' },
  { id: 'Q', input: 'forward pointer in an additional owner', msg: () => encodeQuery({ additionalRecords: [encodeRecord([0xc0, 0xff], TYPE.TXT)] }), status: 'FORMERR', problem: 'rr-name' },
  { id: 'Q', input: 'trailing octets after the declared sections (ignored)', msg: () => encodeQuery({ trailing: Buffer.from('garbage') }), status: 'QUERY', problem: '' },
  { id: 'Q', input: 'ANCOUNT 1 with a plain record (skipped)', msg: () => encodeQuery({ answerRecords: [encodeRecord(encodeName('x.example.com'), TYPE.A, Buffer.from([1, 2, 3, 4]))] }), status: 'QUERY', problem: '' },
  { id: 'Q', input: 'root name', msg: () => encodeQuery({ name: '' }), status: 'QUERY', problem: '' },
  {
    id: 'Q',
    input: 'name of exactly 255 octets',
    msg: () => withRawName(Buffer.concat([label(63), label(63), label(63), label(61), Buffer.from([0])])),
    status: 'QUERY',
    problem: '',
  },
];

describe('decodeQuery: test-plan rows', () => {
  test.each(ROWS.map((r) => [r.id, r.input, r] as const))('%s %s', (_id, _input, row) => {
    const q = decode(row.msg());
    expect({ status: STATUS_NAME[q.status], problem: q.problem }).toEqual({ status: row.status, problem: row.problem });
  });
});

describe('decodeQuery: fields', () => {
  test('reads ID, flags, question and the lower-case name; keeps the original octets for the echo', () => {
    const msg = encodeQuery({ id: 0xbeef, name: 'wWw.ExAmPle.CoM', qtype: TYPE.AAAA });
    const q = decode(msg);
    expect(q.status).toBe(DecodeStatus.QUERY);
    expect(q.id).toBe(0xbeef);
    expect(q.qname).toBe('www.example.com');
    expect(q.qnameWireLength).toBe(17);
    expect(q.qtype).toBe(TYPE.AAAA);
    expect(q.qclass).toBe(1);
    expect(q.questionEnd).toBe(12 + 17 + 4);
    expect(msg.subarray(12, q.questionEnd - 4).toString('latin1')).toContain('wWw');
    expect(q.hasOpt).toBe(false);
    expect(q.udpSize).toBe(512);
  });

  test('octets that would alias another name are escaped (\\DDD)', () => {
    const q = decode(withRawName([3, 0x61, 0x2e, 0x42, 3, 0x63, 0x6f, 0x6d, 0]));
    expect(q.qname).toBe('a\\046b.com');
    const spaced = decode(withRawName([3, 0x61, 0x20, 0xff, 0]));
    expect(spaced.qname).toBe('a\\032\\255');
  });

  test('root name is the empty string', () => {
    const q = decode(encodeQuery({ name: '' }));
    expect(q.qname).toBe('');
    expect(q.qnameWireLength).toBe(1);
  });

  test.each([
    [0, 512],
    [100, 512],
    [511, 512],
    [512, 512],
    [1232, 1232],
    [4096, 4096],
    [65535, 65535],
  ])('D25 EDNS UDP size %i is read as %i', (size, expected) => {
    const q = decode(encodeQuery({ edns: { udpSize: size } }));
    expect(q.status).toBe(DecodeStatus.QUERY);
    expect(q.hasOpt).toBe(true);
    expect(q.udpSize).toBe(expected);
  });

  test('DO bit is read', () => {
    expect(decode(encodeQuery({ edns: { flags: 0x8000 } })).dnssecOk).toBe(true);
    expect(decode(encodeQuery({ edns: { flags: 0 } })).dnssecOk).toBe(false);
  });

  test('ECS IPv4 /24 and IPv6 /56 are read', () => {
    const v4 = decode(encodeQuery({ edns: { options: [ecsIpv4('81.2.69.160', 24)] } }));
    expect(v4.hasEcs).toBe(true);
    expect([v4.ecsFamily, v4.ecsSourcePrefix, v4.ecsAddressLength]).toEqual([1, 24, 3]);
    expect(ipv4Text(v4.ecsAddress)).toBe('81.2.69.0');

    const addr = Buffer.from([0x20, 0x01, 0x02, 0x18, 0xab, 0xcd, 0xef]);
    const v6 = decode(encodeQuery({ edns: { options: [ecsOption(2, 56, 0, addr)] } }));
    expect([v6.status, v6.ecsFamily, v6.ecsSourcePrefix, v6.ecsAddressLength]).toEqual([DecodeStatus.QUERY, 2, 56, 7]);
    expect(ipv6Text(v6.ecsAddress)).toBe('2001:218:abcd:ef00::');
  });

  test('ECS address octets from a previous query do not leak into a shorter one', () => {
    const q = new DecodedQuery();
    decodeQuery(encodeQuery({ edns: { options: [ecsOption(2, 128, 0, Buffer.alloc(16, 0xff))] } }), q);
    decodeQuery(encodeQuery({ edns: { options: [ecsIpv4('10.1.0.0', 16)] } }), q);
    expect(ipv4Text(q.ecsAddress)).toBe('10.1.0.0');
    expect(q.ecsAddress.subarray(2).every((b) => b === 0)).toBe(true);
  });

  test('a bad ECS option keeps the OPT for the reply; a duplicate OPT drops it', () => {
    expect(decode(encodeQuery({ edns: { options: [ecsIpv4('81.2.69.0', 24, 8)] } })).hasOpt).toBe(true);
    expect(decode(encodeQuery({ edns: {}, additionalRecords: [encodeOpt({})] })).hasOpt).toBe(false);
  });

  test('FORMERR never keeps an ECS option for the reply, even when the first of two was sound', () => {
    const q = decode(encodeQuery({ edns: { options: [ecsIpv4('81.2.69.0', 24), ecsIpv4('81.2.69.0', 24)] } }));
    expect([q.status, q.problem, q.hasOpt, q.hasEcs]).toEqual([DecodeStatus.FORMERR, 'ecs-duplicate', true, false]);
    const opt = encodeOpt({ options: [ecsIpv4('81.2.69.0', 24), { code: 65001, data: Buffer.from([1, 2, 3, 4]) }] });
    opt.writeUInt16BE(20, 11 + 11 + 2); // the option after the (sound) ECS claims 20 octets, 4 present
    const afterBad = decode(encodeQuery({ additionalRecords: [opt] }));
    expect([afterBad.status, afterBad.problem, afterBad.hasOpt, afterBad.hasEcs]).toEqual([DecodeStatus.FORMERR, 'option-truncated', true, false]);
  });

  test('an NSID option (RFC 5001) is noted, with or without payload; absent otherwise', () => {
    expect(decode(encodeQuery({ edns: { options: [{ code: 3, data: Buffer.alloc(0) }] } })).wantsNsid).toBe(true);
    expect(decode(encodeQuery({ edns: { options: [ecsIpv4('81.2.69.0', 24), { code: 3, data: Buffer.from('x') }] } })).wantsNsid).toBe(true);
    expect(decode(encodeQuery({ edns: { options: [ecsIpv4('81.2.69.0', 24)] } })).wantsNsid).toBe(false);
    const q = new DecodedQuery();
    decodeQuery(encodeQuery({ edns: { options: [{ code: 3, data: Buffer.alloc(0) }] } }), q);
    decodeQuery(encodeQuery({ edns: {} }), q);
    expect(q.wantsNsid).toBe(false);
  });

  test('NOTIMP keeps the question for the echo; QDCOUNT 2 does not', () => {
    const notimp = decode(encodeQuery({ opcode: 15, name: 'example.com' }));
    expect(notimp.questionEnd).toBeGreaterThan(12);
    expect(notimp.opcode).toBe(15);
    expect(decode(encodeQuery({ qdcount: 2 })).questionEnd).toBe(12);
  });

  test('QDCOUNT 0 with an OPT still reads the OPT for the reply', () => {
    const q = decode(encodeQuery({ omitQuestion: true, edns: {} }));
    expect(q.status).toBe(DecodeStatus.FORMERR);
    expect(q.hasOpt).toBe(true);
  });

  test('BADVERS reports the version and keeps the OPT', () => {
    const q = decode(encodeQuery({ edns: { version: 3 } }));
    expect([q.status, q.ednsVersion, q.hasOpt]).toEqual([DecodeStatus.BADVERS, 3, true]);
  });

  test('a reused DecodedQuery is fully reset between messages', () => {
    const q = new DecodedQuery();
    decodeQuery(encodeQuery({ name: 'a.example.com', edns: { udpSize: 4096, options: [ecsIpv4('81.2.69.0', 24)] } }), q);
    decodeQuery(encodeQuery({ name: 'b.example.com' }), q);
    expect([q.qname, q.hasOpt, q.hasEcs, q.udpSize]).toEqual(['b.example.com', false, false, 512]);
    decodeQuery(Buffer.alloc(3), q);
    expect([q.status, q.qname, q.questionEnd]).toEqual([DecodeStatus.DROP, '', 12]);
  });
});

describe('address text', () => {
  test.each([
    ['::', Array(16).fill(0)],
    ['::1', [...Array(15).fill(0), 1]],
    ['2001:db8::1', [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]],
    ['2001:db8::', [0x20, 0x01, 0x0d, 0xb8, ...Array(12).fill(0)]],
    ['2001:db8:0:1::1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]],
    ['1:0:2:3:4:5:6:7', [0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7]],
    ['1::4:0:0:7:8', [0, 1, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 7, 0, 8]],
  ])('ipv6Text -> %s (RFC 5952)', (text, bytes) => {
    expect(ipv6Text(Buffer.from(bytes))).toBe(text);
  });
});
