import * as fc from 'fast-check';
import { MODERN_RECORD_TYPES, RdataError, canonicalModernValue, modernRdata } from '../common/modern-records';
import { planZoneImport } from './zone-import';

/** Master-file-ish text: the characters the parser treats specially, names, numbers and types. */
const zoneText = fc
  .array(
    fc.oneof(
      fc.constantFrom('$ORIGIN ', '$TTL ', '@', ' ', '\t', '\n', '(', ')', ';', '"', '\\', '.', 'IN ', 'CH ', '300 ', '1h ', 'A ', 'AAAA ', 'TXT ', 'SRV ', 'HTTPS ', 'SVCB ', 'NAPTR ', 'DS ', 'TLSA ', 'PTR ', 'SOA ', 'NS ', 'CNAME ', 'MX '),
      fc.stringMatching(/^[a-z0-9_*-]{1,8}$/),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('zone import never throws on any text', () => {
  test('planZoneImport: records or per-line problems, never an exception', () => {
    fc.assert(
      fc.property(zoneText, (text) => {
        const plan = planZoneImport(text, 'example.org', new Set(['app.example.org']));
        for (const p of plan.problems) expect(p.line).toBeGreaterThanOrEqual(0);
        for (const r of plan.records) expect(r.name === 'example.org' || r.name.endsWith('.example.org')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('newer record types: only RdataError for bad text; the canonical form is a fixed point', () => {
  const rdataText = fc
    .array(fc.oneof(fc.constantFrom('0', '1', '16', '443', '65535', '99999', '.', 'foo.example.com', 'alpn=h2,h3', 'port=53', 'mandatory=alpn', 'ipv4hint=192.0.2.1', 'ipv6hint=2001:db8::1', 'no-default-alpn', 'ech=AEj+', 'key667="a b"', '"S"', '""', '"SIP+D2U"', 'ab'.repeat(32), 'AB', ' ', '\\'), fc.string({ maxLength: 5 })), { maxLength: 8 })
    .map((p) => p.join(' '));
  /** A valid value of each type, to which random fields are appended (some stay valid, e.g. more SvcParams). */
  const VALID: Readonly<Record<(typeof MODERN_RECORD_TYPES)[number], string>> = {
    SRV: '10 5 5060',
    HTTPS: '1 .',
    SVCB: '16 foo.example.com',
    TLSA: '3 1 0',
    PTR: '',
    NAPTR: '100 10 "S" "SIP+D2U" ""',
    DS: '12345 13 2',
  };
  test.each(MODERN_RECORD_TYPES.map((t) => [t]))('%s', (type) => {
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof(rdataText, rdataText.map((t) => `${VALID[type]} ${t}`)), (text) => {
        let canonical: string;
        try {
          canonical = canonicalModernValue(type, text);
        } catch (error) {
          expect(error).toBeInstanceOf(RdataError);
          return;
        }
        valid++;
        expect(canonicalModernValue(type, canonical)).toBe(canonical);
        expect(modernRdata(type, canonical).equals(modernRdata(type, text))).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(valid).toBeGreaterThan(0);
  });
});
