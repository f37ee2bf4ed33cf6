import * as dnsPacketModule from 'dns-packet';

/** dns-packet's per-type rdata encoders (exported, not in its typings). */
const dnsPacket = dnsPacketModule as unknown as Record<'srv' | 'ptr' | 'naptr' | 'ds' | 'tlsa', { encode(data: unknown): Buffer }>;
import { RdataError, canonicalModernValue, masterFileModernValue, modernAdditionalTarget, modernRdata, type ModernRecordType } from './modern-records';

/** dns-packet's own rdata encoders (they write RDLENGTH first): an encoder independent of ours. */
const packetRdata = (encoded: Buffer): string => encoded.subarray(2).toString('hex');
const DIGEST32 = 'ab'.repeat(32);

/** RFC 9460 Appendix D (wire format test vectors), hex. */
const RFC9460_VECTORS: ReadonlyArray<{ name: string; text: string; hex: string }> = [
  { name: 'D.1 AliasMode', text: '0 foo.example.com.', hex: '0000' + '03666f6f076578616d706c6503636f6d00' },
  { name: 'D.2 use the owner', text: '1 .', hex: '000100' },
  { name: 'D.2 port only', text: '16 foo.example.com. port=53', hex: '0010' + '03666f6f076578616d706c6503636f6d00' + '000300020035' },
  { name: 'D.2 unregistered key, unquoted', text: '1 foo.example.com. key667=hello', hex: '0001' + '03666f6f076578616d706c6503636f6d00' + '029b000568656c6c6f' },
  { name: 'D.2 unregistered key, quoted with \\DDD', text: '1 foo.example.com. key667="hello\\210qoo"', hex: '0001' + '03666f6f076578616d706c6503636f6d00' + '029b000968656c6c6fd2716f6f' },
  {
    name: 'D.2 two IPv6 hints',
    text: '1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"',
    hex: '0001' + '03666f6f076578616d706c6503636f6d00' + '00060020' + '20010db8000000000000000000000001' + '20010db8000000000000000000530001',
  },
  {
    name: 'D.2 unsorted keys and mandatory list',
    text: '16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1)'.replace(/[()]/g, ''),
    hex: '0010' + '03666f6f076578616d706c65036f726700' + '0000000400010004' + '00010009' + '026832' + '0568332d3139' + '00040004c0000201',
  },
];

describe('SVCB / HTTPS wire form: RFC 9460 Appendix D vectors', () => {
  test.each(RFC9460_VECTORS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(modernRdata('SVCB', v.text).toString('hex')).toBe(v.hex);
    expect(modernRdata('HTTPS', v.text).toString('hex')).toBe(v.hex);
    // The canonical text reads back to the same octets.
    expect(modernRdata('SVCB', canonicalModernValue('SVCB', v.text)).toString('hex')).toBe(v.hex);
  });
});

describe('wire form against dns-packet (an independent encoder)', () => {
  const rows: ReadonlyArray<{ type: ModernRecordType; text: string; other: Buffer }> = [
    { type: 'SRV', text: '10 5 5060 sip.example.com', other: dnsPacket.srv.encode({ priority: 10, weight: 5, port: 5060, target: 'sip.example.com' }) },
    { type: 'SRV', text: '0 0 0 .', other: dnsPacket.srv.encode({ priority: 0, weight: 0, port: 0, target: '.' }) },
    { type: 'PTR', text: 'Host.Example.com.', other: dnsPacket.ptr.encode('host.example.com') },
    {
      type: 'NAPTR',
      text: '100 10 "S" "SIP+D2U" "" _sip._udp.example.com',
      other: dnsPacket.naptr.encode({ order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.com' }),
    },
    { type: 'DS', text: `60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118`, other: dnsPacket.ds.encode({ keyTag: 60485, algorithm: 5, digestType: 1, digest: Buffer.from('2BB183AF5F22588179A53B0A98631FAD1A292118', 'hex') }) },
    { type: 'DS', text: `12345 13 2 ${DIGEST32.slice(0, 20)} ${DIGEST32.slice(20)}`, other: dnsPacket.ds.encode({ keyTag: 12345, algorithm: 13, digestType: 2, digest: Buffer.from(DIGEST32, 'hex') }) },
    { type: 'TLSA', text: `3 1 1 ${DIGEST32}`, other: dnsPacket.tlsa.encode({ usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from(DIGEST32, 'hex') }) },
    { type: 'TLSA', text: '2 0 0 308201', other: dnsPacket.tlsa.encode({ usage: 2, selector: 0, matchingType: 0, certificate: Buffer.from('308201', 'hex') }) },
  ];
  test.each(rows.map((r) => [r.type, r.text, r] as const))('%s %s', (_t, _x, r) => {
    expect(modernRdata(r.type, r.text).toString('hex')).toBe(packetRdata(r.other));
  });
});

describe('canonical and master-file text', () => {
  test.each([
    ['SRV', '10 5 5060 SIP.Example.com.', '10 5 5060 sip.example.com', '10 5 5060 sip.example.com.'],
    ['PTR', 'www.example.com', 'www.example.com', 'www.example.com.'],
    ['NAPTR', '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .', '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .', '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .'],
    ['DS', `12345 13 2 ${DIGEST32}`, `12345 13 2 ${DIGEST32.toUpperCase()}`, `12345 13 2 ${DIGEST32.toUpperCase()}`],
    ['HTTPS', '1 . port=8443 alpn=h2,h3 ipv4hint=192.0.2.1', '1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1', '1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1'],
    ['SVCB', '1 doh.example.com alpn=h2 dohpath=/dns-query{?dns}', '1 doh.example.com alpn="h2" dohpath="/dns-query{?dns}"', '1 doh.example.com. alpn="h2" dohpath="/dns-query{?dns}"'],
    ['HTTPS', '1 . alpn=h3 no-default-alpn ech=AEj+CgBE ipv6hint=2001:DB8:0:0::1', '1 . alpn="h3" no-default-alpn ech=AEj+CgBE ipv6hint=2001:db8::1', '1 . alpn="h3" no-default-alpn ech=AEj+CgBE ipv6hint=2001:db8::1'],
  ] as const)('%s %s', (type, input, canonical, master) => {
    expect(canonicalModernValue(type, input)).toBe(canonical);
    expect(masterFileModernValue(type, input)).toBe(master);
    expect(canonicalModernValue(type, canonical)).toBe(canonical);
  });
});

describe('strict validation: the rule of each bad value', () => {
  test.each([
    ['SRV', '10 5 5060', 'srv'],
    ['SRV', '10 5 70000 sip.example.com', 'srv'],
    ['SRV', '10 5 5060 bad..name', 'srv'],
    ['PTR', '.', 'ptr'],
    ['NAPTR', '100 10 "S" "SIP+D2U" "!x!y!" _sip._udp.example.com', 'naptr-regexp-replacement'],
    ['NAPTR', '100 10 "S!" "SIP+D2U" "" .', 'naptr-flags'],
    ['NAPTR', '100 10 "S" "SIP+D2U" "unterminated', 'naptr'],
    ['DS', '12345 0 2 ' + DIGEST32, 'ds-algorithm'],
    ['DS', '12345 13 3 ' + DIGEST32, 'ds-digest-type'],
    ['DS', '12345 13 2 abcd', 'ds-digest'],
    ['DS', '12345 13 2 xyz0', 'ds-digest'],
    ['TLSA', '4 1 1 ' + DIGEST32, 'tlsa-usage'],
    ['TLSA', '3 2 1 ' + DIGEST32, 'tlsa-selector'],
    ['TLSA', '3 1 3 ' + DIGEST32, 'tlsa-matching-type'],
    ['TLSA', '3 1 1 abcd', 'tlsa-data'],
    ['SVCB', '0 foo.example.com alpn=h2', 'svcb-alias-params'],
    ['SVCB', '1 . mandatory=port', 'svcb-mandatory'],
    ['SVCB', '1 . mandatory=mandatory', 'svcb-mandatory'],
    ['SVCB', '1 . mandatory=alpn,alpn alpn=h2', 'svcb-mandatory'],
    ['SVCB', '1 . key123=abc key123=def', 'svcb-duplicate-key'],
    ['SVCB', '1 . no-default-alpn', 'svcb-no-default-alpn'],
    ['SVCB', '1 . no-default-alpn=abc alpn=h2', 'svcb-value'],
    ['HTTPS', '1 . alpn', 'svcb-value'],
    ['HTTPS', '1 . port', 'svcb-value'],
    ['HTTPS', '1 . ipv4hint=192.0.2.300', 'svcb-ipv4hint'],
    ['HTTPS', '1 . ipv6hint=192.0.2.1', 'svcb-ipv6hint'],
    ['HTTPS', '1 . ech=not*base64', 'svcb-ech'],
    ['HTTPS', '1 . foo=bar', 'svcb-key'],
    ['HTTPS', '1 . key65535=x', 'svcb-key'],
    ['SVCB', '1 . dohpath=/dns-query', 'svcb-dohpath'],
    ['HTTPS', '1', 'https'],
  ] as const)('%s "%s" -> %s', (type, text, rule) => {
    let error: unknown;
    try {
      canonicalModernValue(type, text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RdataError);
    expect((error as RdataError).rule).toBe(rule);
  });
});

describe('additional-section targets', () => {
  test.each([
    ['SRV', '10 5 5060 sip.example.com', 'sip.example.com'],
    ['SRV', '0 0 0 .', null],
    ['HTTPS', '1 . alpn=h2', '_owner_'],
    ['HTTPS', '0 pool.example.com', 'pool.example.com'],
    ['HTTPS', '0 .', null],
    ['SVCB', '1 doh.example.com alpn=h2', 'doh.example.com'],
    ['PTR', 'www.example.com', null],
  ] as const)('%s %s', (type, text, target) => {
    expect(modernAdditionalTarget(type, text, '_owner_')).toBe(target);
  });
});
