import { parseTtl, parseZoneFile } from './zone-file';
import { planZoneImport } from './zone-import';

const DIGEST = '2bb183af5f22588179a53b0a98631fad1a292118a4f3c8e1d7b6a5c4d3e2f1a0';

/** A master file as operators write them: directives, relative names, a blank owner, parentheses, comments. */
const ZONE = `; example.org, hand written
$TTL 1h
$ORIGIN example.org.
@   IN  SOA ns1 hostmaster (
        2024010101 ; serial (ignored)
        7200       ; refresh
        900        ; retry
        1209600    ; expire
        300 )      ; minimum
    IN  NS  ns1
    IN  NS  ns2.example.net.
    300 IN MX 10 mail
        IN 300 MX 20 mail.example.net.
    IN  TXT "v=spf1 mx -all" ; comment after a string
    IN  CAA 0 issue "letsencrypt.org"
    IN  HTTPS 1 . alpn=h2,h3 ( port=443
                               ipv4hint=192.0.2.1 )
ns1 IN  A   192.0.2.53
mail 60 IN A 192.0.2.25
mail IN 60 AAAA 2001:db8::25
www IN  CNAME app
_sip._udp IN SRV 10 60 5060 sip
sip IN A 192.0.2.60
_dns IN SVCB 1 doh alpn=h2 dohpath=/dns-query{?dns}
_443._tcp.www IN TLSA 3 1 1 ( ${DIGEST.slice(0, 32)}
                              ${DIGEST.slice(32)} )
naptr IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
ptr IN PTR www
child IN NS ns.child
child IN DS 12345 13 2 ${DIGEST}
ns.child IN A 192.0.2.77
$ORIGIN sub.example.org.
deep IN TXT "a \\"quoted\\" word" "and a second string"
*   IN  A 192.0.2.99
`;

describe('parseZoneFile', () => {
  test('directives, relative names, blank owners, TTL and class in either order, parentheses', () => {
    const { records, problems } = parseZoneFile(ZONE, 'example.org');
    expect(problems).toEqual([]);
    const brief = records.map((r) => `${r.line} ${r.owner} ${r.ttl} ${r.type} ${r.rdata.map((t) => t.raw).join(' ')}`);
    expect(brief).toEqual([
      '4 example.org 3600 SOA ns1 hostmaster 2024010101 7200 900 1209600 300',
      '10 example.org 3600 NS ns1',
      '11 example.org 3600 NS ns2.example.net.',
      '12 example.org 300 MX 10 mail',
      '13 example.org 300 MX 20 mail.example.net.',
      '14 example.org 3600 TXT "v=spf1 mx -all"',
      '15 example.org 3600 CAA 0 issue "letsencrypt.org"',
      '16 example.org 3600 HTTPS 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1',
      '18 ns1.example.org 3600 A 192.0.2.53',
      '19 mail.example.org 60 A 192.0.2.25',
      '20 mail.example.org 60 AAAA 2001:db8::25',
      '21 www.example.org 3600 CNAME app',
      '22 _sip._udp.example.org 3600 SRV 10 60 5060 sip',
      '23 sip.example.org 3600 A 192.0.2.60',
      '24 _dns.example.org 3600 SVCB 1 doh alpn=h2 dohpath=/dns-query{?dns}',
      `25 _443._tcp.www.example.org 3600 TLSA 3 1 1 ${DIGEST.slice(0, 32)} ${DIGEST.slice(32)}`,
      '27 naptr.example.org 3600 NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp',
      '28 ptr.example.org 3600 PTR www',
      '29 child.example.org 3600 NS ns.child',
      `30 child.example.org 3600 DS 12345 13 2 ${DIGEST}`,
      '31 ns.child.example.org 3600 A 192.0.2.77',
      '33 deep.sub.example.org 3600 TXT "a \\"quoted\\" word" "and a second string"',
      '34 *.sub.example.org 3600 A 192.0.2.99',
    ]);
  });

  test.each([
    ['$INCLUDE other.zone', 'directive'],
    ['$GENERATE 1-10 host$ A 192.0.2.$', 'directive'],
    ['www IN A (192.0.2.1', 'parentheses'],
    ['www IN A 192.0.2.1 )', 'parentheses'],
    ['www IN TXT "open', 'quote'],
    ['www CH TXT "x"', 'class'],
    ['www 300 IN', 'type'],
    ['   IN A 192.0.2.1', 'owner'],
  ])('%s -> %s', (text, rule) => {
    expect(parseZoneFile(text, 'example.org').problems.map((p) => p.rule)).toContain(rule);
  });

  test.each([
    ['3600', 3600],
    ['1h30m', 5400],
    ['1W', 604800],
    ['2d', 172800],
    ['1x', null],
  ])('TTL %s = %s', (text, seconds) => expect(parseTtl(text)).toBe(seconds));
});

describe('planZoneImport', () => {
  test('every supported type, names qualified, values canonical, SOA and apex NS as zone fields', () => {
    const plan = planZoneImport(ZONE, 'example.org', new Set());
    expect(plan.problems).toEqual([]);
    expect(plan.zone).toEqual({ nameservers: ['ns1.example.org', 'ns2.example.net'], hostmaster: 'hostmaster.example.org', ttl: 3600, refresh: 7200, retry: 900, expire: 1209600, negativeTtl: 300 });
    const sets = Object.fromEntries(plan.records.map((r) => [`${r.name} ${r.type}`, `${r.ttl} ${r.values.join(' | ')}`]));
    expect(sets).toEqual({
      'example.org MX': '300 10 mail.example.org | 20 mail.example.net',
      'example.org TXT': '3600 v=spf1 mx -all',
      'example.org CAA': '3600 0 issue "letsencrypt.org"',
      'example.org HTTPS': '3600 1 . alpn="h2,h3" port=443 ipv4hint=192.0.2.1',
      'ns1.example.org A': '3600 192.0.2.53',
      'mail.example.org A': '60 192.0.2.25',
      'mail.example.org AAAA': '60 2001:db8::25',
      'www.example.org CNAME': '3600 app.example.org',
      '_sip._udp.example.org SRV': '3600 10 60 5060 sip.example.org',
      'sip.example.org A': '3600 192.0.2.60',
      '_dns.example.org SVCB': '3600 1 doh.example.org alpn="h2" dohpath="/dns-query{?dns}"',
      '_443._tcp.www.example.org TLSA': `3600 3 1 1 ${DIGEST.toUpperCase()}`,
      'naptr.example.org NAPTR': '3600 100 10 "S" "SIP+D2U" "" _sip._udp.example.org',
      'ptr.example.org PTR': '3600 www.example.org',
      'child.example.org NS': '3600 ns.child.example.org',
      'child.example.org DS': `3600 12345 13 2 ${DIGEST.toUpperCase()}`,
      'ns.child.example.org A': '3600 192.0.2.77',
      'deep.sub.example.org TXT': '3600 "a \\"quoted\\" word" "and a second string"',
      '*.sub.example.org A': '3600 192.0.2.99',
    });
  });

  test('a long TXT split into 255-octet strings is one value again', () => {
    const long = 'x'.repeat(300);
    const plan = planZoneImport(`@ 300 IN TXT "${long.slice(0, 255)}" "${long.slice(255)}"`, 'example.org', new Set());
    expect(plan.records[0].values).toEqual([long]);
  });

  test.each([
    ['www 300 IN A 192.0.2.300', 'ipv4', 1],
    ['www 300 IN DNSKEY 257 3 13 abc', 'unsupported-type', 1],
    ['www 300 IN HTTPS 0 . port=443', 'svcb-alias-params', 1],
    ['www.example.net. 300 IN A 192.0.2.1', 'in-zone', 1],
    ['@ 300 IN CNAME other.example.net.', 'cname-apex', 1],
    ['x 300 IN CNAME a.example.net.\nx 300 IN TXT "t"', 'cname-exclusive', 1],
    ['x 300 IN DS 12345 13 2 ' + DIGEST, 'ds-delegation', 1],
    ['www IN A 192.0.2.1', 'ttl', 1],
    ['www 300 IN A 192.0.2.1\nwww 600 IN A 192.0.2.2', 'ttl-mismatch', 2],
    ['app 30 IN A 192.0.2.1', 'service-name', 1],
    ['www 300 IN SOA a b 1 2 3 4 5', 'soa', 1],
  ])('%s -> %s on line %s', (text, rule, line) => {
    const plan = planZoneImport(text, 'example.org', new Set(['app.example.org']));
    expect(plan.problems).toEqual(expect.arrayContaining([expect.objectContaining({ rule, line })]));
  });

  test('refused lines are left out of the plan, the rest stays', () => {
    const plan = planZoneImport('www 300 IN A 192.0.2.300\nok 300 IN A 192.0.2.1', 'example.org', new Set());
    expect(plan.records.map((r) => r.name)).toEqual(['ok.example.org']);
    expect(plan.problems.map((p) => p.line)).toEqual([1]);
  });
});
