import * as dnsPacket from 'dns-packet';
import * as ipaddr from 'ipaddr.js';
import { ResponseRateLimiter, clientPrefix, slipReply } from './rate-limiter';

function reply(name: string, rcode: 'NOERROR' | 'NXDOMAIN' = 'NOERROR', type: 'A' | 'AAAA' = 'A'): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | (rcode === 'NXDOMAIN' ? 3 : 0),
    questions: [{ type, name, class: 'IN' }],
    answers: rcode === 'NOERROR' ? [{ type: 'A', name, ttl: 30, data: '192.0.2.1' }] : [],
  } as never);
}

const limiter = (over: Partial<ConstructorParameters<typeof ResponseRateLimiter>[0]> = {}) =>
  new ResponseRateLimiter({ responsesPerSecond: 10, errorsPerSecond: 5, slip: 2, exempt: [], ...over });

describe('ResponseRateLimiter', () => {
  it('keys clients by /24 (IPv4) and /56 (IPv6)', () => {
    expect(clientPrefix('203.0.113.7', 4)).toBe('203.0.113');
    expect(clientPrefix('::ffff:203.0.113.7', 6)).toBe('203.0.113');
    expect(clientPrefix('2001:db8:1:2300::1', 6)).toBe(clientPrefix('2001:db8:1:23ff::9', 6));
    expect(clientPrefix('2001:db8:1:2300::1', 6)).not.toBe(clientPrefix('2001:db8:1:2400::1', 6));
  });

  it('keeps every /24 apart, including neighbours and IPv4-mapped addresses', () => {
    const rrl = limiter({ slip: 0, responsesPerSecond: 1 });
    const r = reply('app.example.com');
    expect(rrl.check('10.1.2.3', 4, r, 0)).toBe('send');
    expect(rrl.check('10.1.2.200', 4, r, 0)).toBe('drop');
    expect(rrl.check('::ffff:10.1.2.9', 6, r, 0)).toBe('drop');
    for (const other of ['10.1.3.3', '10.2.2.3', '11.1.2.3', '2001:db8::1']) expect(rrl.check(other, other.includes(':') ? 6 : 4, r, 0)).toBe('send');
    expect(rrl.check('2001:db8:0:ff::2', 6, r, 0)).toBe('drop');
    expect(rrl.check('2001:db8:0:100::2', 6, r, 0)).toBe('send');
  });

  it('signed negative answers (RFC 9824 compact denials are NOERROR) share the error bucket; unsigned NODATA stays an answer', () => {
    const negative = (name: string, authorities: number): Buffer =>
      dnsPacket.encode({
        type: 'response',
        id: 7,
        flags: dnsPacket.AUTHORITATIVE_ANSWER,
        questions: [{ type: 'A', name, class: 'IN' }],
        answers: [],
        // The header counts are what the limiter reads: SOA, RRSIG, NSEC, RRSIG stand-ins.
        authorities: Array.from({ length: authorities }, () => ({ type: 'A', name: 'example.com', ttl: 300, data: '192.0.2.1' })),
      } as never);
    const rrl = limiter({ slip: 0 });
    const signed = Array.from({ length: 8 }, (_, i) => rrl.check('10.1.2.3', 4, negative(`r${i}.example.com`, 4), 0));
    expect(signed).toEqual(['send', 'send', 'send', 'send', 'send', 'drop', 'drop', 'drop']); // errorsPerSecond 5, one bucket
    const plain = Array.from({ length: 8 }, (_, i) => rrl.check('10.9.2.3', 4, negative(`r${i}.example.com`, 1), 0));
    expect(plain.every((d) => d === 'send')).toBe(true); // a bucket per response
  });

  it('errorLimited: true once the prefix has spent its error bucket, without spending anything itself', () => {
    const rrl = limiter({ slip: 0 });
    const nx = reply('x.example.com', 'NXDOMAIN');
    expect(rrl.errorLimited('10.1.2.3', 4, 0)).toBe(false);
    for (let i = 0; i < 5; i++) expect(rrl.check('10.1.2.3', 4, nx, 0)).toBe('send');
    expect(rrl.errorLimited('10.1.2.9', 4, 0)).toBe(true);
    expect(rrl.errorLimited('10.1.3.3', 4, 0)).toBe(false); // another /24
    expect(rrl.errorLimited('10.1.2.3', 4, 1000)).toBe(false); // refilled after a second
    expect(limiter({ exempt: [ipaddr.parseCIDR('10.0.0.0/8')] }).errorLimited('10.1.2.3', 4, 0)).toBe(false);
  });

  it('allows the rate, then slips every 2nd limited response and drops the rest', () => {
    const rrl = limiter();
    const r = reply('app.example.com');
    const out: string[] = [];
    for (let i = 0; i < 20; i++) out.push(rrl.check('203.0.113.7', 4, r, 1000));
    expect(out.slice(0, 10)).toEqual(Array(10).fill('send'));
    expect(out.slice(10)).toEqual(['drop', 'slip', 'drop', 'slip', 'drop', 'slip', 'drop', 'slip', 'drop', 'slip']);
    expect(rrl.counters).toEqual({ limited: 10, slipped: 5, dropped: 5 });
  });

  it('refills over time: full answers resume when the flood stops', () => {
    const rrl = limiter();
    const r = reply('app.example.com');
    for (let i = 0; i < 30; i++) rrl.check('203.0.113.7', 4, r, 1000);
    expect(rrl.check('203.0.113.7', 4, r, 1000)).not.toBe('send');
    expect(rrl.check('203.0.113.7', 4, r, 2000)).toBe('send');
  });

  it('shares the bucket inside a /24, not across prefixes; questions are case-folded', () => {
    const rrl = limiter({ slip: 0 });
    for (let i = 0; i < 10; i++) expect(rrl.check(`198.51.100.${i + 1}`, 4, reply(i % 2 ? 'APP.example.com' : 'app.example.com'), 0)).toBe('send');
    expect(rrl.check('198.51.100.200', 4, reply('app.example.com'), 0)).toBe('drop');
    expect(rrl.check('198.51.101.1', 4, reply('app.example.com'), 0)).toBe('send');
    expect(rrl.check('198.51.100.1', 4, reply('cdn.example.com'), 0)).toBe('send');
  });

  it('limits errors per prefix whatever the name (random-subdomain floods)', () => {
    const rrl = limiter({ slip: 0 });
    const out = Array.from({ length: 8 }, (_, i) => rrl.check('203.0.113.9', 4, reply(`x${i}.example.com`, 'NXDOMAIN'), 0));
    expect(out).toEqual(['send', 'send', 'send', 'send', 'send', 'drop', 'drop', 'drop']);
  });

  it('never limits exempt networks, and is off at 0 responses per second', () => {
    const rrl = limiter({ exempt: [ipaddr.parseCIDR('203.0.113.0/24')] });
    for (let i = 0; i < 100; i++) expect(rrl.check('203.0.113.7', 4, reply('app.example.com'), 0)).toBe('send');
    const off = limiter({ responsesPerSecond: 0 });
    for (let i = 0; i < 100; i++) expect(off.check('192.0.2.1', 4, reply('app.example.com'), 0)).toBe('send');
  });

  it('a slip reply is the question only, with TC set', () => {
    const slip = dnsPacket.decode(slipReply(reply('app.example.com'))) as unknown as { flag_tc: boolean; questions: unknown[]; answers: unknown[]; id: number };
    expect(slip.flag_tc).toBe(true);
    expect(slip.id).toBe(7);
    expect(slip.questions).toHaveLength(1);
    expect(slip.answers).toHaveLength(0);
  });
});
