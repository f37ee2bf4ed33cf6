/**
 * D39 (a CI-sized slice): random and mutated messages never make the decoder or the responder
 * throw, and every reply is a well-formed DNS message (re-parsed by dns-packet, an independent
 * decoder) that never outgrows a malformed request.
 */
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { GeoLocator } from '../../geo/geo-locator';
import { DnsResponder } from '../responder';
import { GEOIP_TEST_DB, fixtureSnapshot } from '../test-fixtures';
import { TYPE } from './constants';
import { DecodedQuery, DecodeStatus, decodeQuery } from './decoder';
import { ecsIpv4, ecsOption, encodeQuery, encodeRecord } from './query-builder';

const RUNS = 50_000;

const SEEDS: Buffer[] = [
  encodeQuery({ name: 'www.example.com' }),
  encodeQuery({ name: 'APP.example.com', qtype: TYPE.AAAA, edns: { udpSize: 4096, options: [ecsIpv4('81.2.69.160', 27)] } }),
  encodeQuery({ name: 'app.example.com', edns: { options: [ecsOption(2, 48, 0, Buffer.from([0x20, 0x01, 0x02, 0x18, 0, 0]))] } }),
  encodeQuery({ name: 'big.example.com', edns: { udpSize: 512 } }),
  encodeQuery({ name: 'nope.example.com', qtype: TYPE.ANY }),
  encodeQuery({ name: 'x.wild.example.com', qtype: TYPE.TXT, edns: { version: 1 } }),
  encodeQuery({ name: 'www.sub.example.com', opcode: 4 }),
  encodeQuery({ name: 'go.example.com', answerRecords: [encodeRecord([0xc0, 0x0c], TYPE.A, Buffer.from([1, 2, 3, 4]))] }),
  encodeQuery({ name: 'private.example.com', edns: { options: [{ code: 65001, data: Buffer.from([1, 2]) }, ecsIpv4('89.160.20.128', 25)] } }),
];

function mutated(): fc.Arbitrary<Buffer> {
  const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('set', 'insert', 'delete') });
  return fc
    .tuple(fc.constantFrom(...SEEDS), fc.array(edit, { minLength: 1, maxLength: 8 }), fc.option(fc.nat(), { nil: undefined }), fc.uint8Array({ maxLength: 24 }))
    .map(([seed, edits, cut, tail]) => {
      let bytes = [...seed];
      for (const e of edits) {
        const at = bytes.length === 0 ? 0 : e.at % (bytes.length + 1);
        if (e.kind === 'set' && at < bytes.length) bytes[at] = e.value;
        else if (e.kind === 'insert') bytes.splice(at, 0, e.value);
        else if (e.kind === 'delete') bytes.splice(at, 1);
      }
      if (cut !== undefined) bytes = bytes.slice(0, cut % (bytes.length + 1));
      return Buffer.concat([Buffer.from(bytes), Buffer.from(tail)]);
    });
}

const randomBytes = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => Buffer.from(b));
/** Random bytes behind a plausible header (QR=0, QDCOUNT=1) so they get past the first checks. */
const randomBody = fc
  .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 300 }))
  .map(([id, an, ar, body]) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(0x0100, 2);
    h.writeUInt16BE(1, 4);
    h.writeUInt16BE(an, 6);
    h.writeUInt16BE(ar, 10);
    return Buffer.concat([h, Buffer.from(body)]);
  });

describe('fuzz', () => {
  const q = new DecodedQuery();
  let responder: DnsResponder;
  beforeAll(async () => {
    const locator = await GeoLocator.open(GEOIP_TEST_DB);
    responder = new DnsResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
  });
  const peer = { address: '198.51.100.7', family: 4 as const };

  /** True when the reply (or its absence) is right for `msg`; plain checks, no expect() per run. */
  function replyIsSound(msg: Buffer, transport: 'udp' | 'tcp'): boolean {
    const reply = responder.respond(msg, peer, transport);
    const decoded = decodeQuery(msg, q);
    if (decoded.status === DecodeStatus.DROP) return reply === null;
    if (reply === null) return false;
    if (reply.readUInt16BE(0) !== msg.readUInt16BE(0) || (reply[2] & 0x80) === 0) return false;
    if (transport === 'udp' && reply.length > 1232) return false;
    // Amplification: a reply to a malformed request is never larger than the request.
    if (decoded.status !== DecodeStatus.QUERY && reply.length > msg.length) return false;
    const parsed = dnsPacket.decode(reply); // throws on a malformed message
    return parsed.id === msg.readUInt16BE(0) && parsed.type === 'response';
  }

  test(`decoder: ${RUNS} random messages never throw`, () => {
    fc.assert(
      fc.property(randomBytes, (msg) => {
        decodeQuery(msg, q);
        return q.status >= DecodeStatus.DROP && q.status <= DecodeStatus.QUERY;
      }),
      { numRuns: RUNS },
    );
  });

  test(`decoder: ${RUNS} mutated valid queries never throw, and a QUERY result is consistent`, () => {
    fc.assert(
      fc.property(mutated(), (msg) => {
        decodeQuery(msg, q);
        if (q.status !== DecodeStatus.QUERY) return true;
        return q.questionEnd <= msg.length && q.qnameWireLength <= 255 && q.udpSize >= 512;
      }),
      { numRuns: RUNS },
    );
  });

  test(`responder: ${RUNS} mutated queries over UDP get a well-formed reply or none`, () => {
    fc.assert(
      fc.property(mutated(), (msg) => replyIsSound(msg, 'udp')),
      { numRuns: RUNS },
    );
  });

  test(`responder: ${RUNS / 2} random bodies over UDP and ${RUNS / 5} random messages over TCP`, () => {
    fc.assert(
      fc.property(randomBody, (msg) => replyIsSound(msg, 'udp')),
      { numRuns: RUNS / 2 },
    );
    fc.assert(
      fc.property(randomBytes, (msg) => replyIsSound(msg, 'tcp')),
      { numRuns: RUNS / 5 },
    );
    expect(responder.stats().handlerErrors).toBe(0);
  });
});
