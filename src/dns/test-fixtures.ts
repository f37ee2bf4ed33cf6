/**
 * Fixtures for the DNS specs: the example.com zone, three regions and a few services, built with
 * the real buildSnapshot, and the path of MaxMind's test database. Not used at runtime.
 *
 * Known test-database data: 81.2.69.160/27 London GB, 2.2.3.0/24 Boxford GB, 216.160.83.56/29
 * Milton US, 89.160.20.128/25 Linköping SE, 175.16.199.0/24 Changchun CN, 149.101.100.0/24 US.
 * 81.2.69.0 itself is not listed (unknown location).
 */
import * as path from 'node:path';
import { buildSnapshot, type SnapshotInput } from '../routing/snapshot';
import type { RoutingSnapshot } from '../routing/types';

/** CI keeps shared/ beside the repository. */
export const GEOIP_TEST_DB = path.resolve(__dirname, '../../../shared/fixtures/geoip/GeoIP2-City-Test.mmdb');

export const EU_WEST_V4 = ['192.0.2.10', '192.0.2.11'];
export const US_EAST_V4 = ['198.51.100.10'];
export const AP_NORTHEAST_V4 = ['203.0.113.10'];
export const EU_WEST_V6 = ['2001:db8::10'];
export const US_EAST_V6 = ['2001:db8::20'];
export const AP_NORTHEAST_V6 = ['2001:db8::30'];

/** 40 A records: 40 x 16 octets do not fit 512 octets. */
export const BIG_V4 = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 100}`);

export function fixtureInput(overrides: Partial<SnapshotInput> = {}): SnapshotInput {
  return {
    zones: [
      {
        name: 'example.com',
        serial: 2025010101,
        nameservers: ['ns1.example.com', 'ns2.example.com'],
        hostmaster: 'hostmaster@example.com',
        ttl: 3600,
        refresh: 7200,
        retry: 900,
        expire: 1209600,
        negativeTtl: 300,
        records: [
          { id: 'ns1', name: 'ns1.example.com', type: 'A', ttl: 3600, values: ['192.0.2.53'] },
          { id: 'ns2', name: 'ns2.example.com', type: 'A', ttl: 3600, values: ['198.51.100.53'] },
          { id: 'ns2-6', name: 'ns2.example.com', type: 'AAAA', ttl: 3600, values: ['2001:db8::53'] },
          { id: 'www', name: 'www.example.com', type: 'A', ttl: 300, values: ['192.0.2.80'] },
          { id: 'mx', name: 'example.com', type: 'MX', ttl: 300, values: ['10 mail.example.com'] },
          { id: 'mail', name: 'mail.example.com', type: 'A', ttl: 300, values: ['192.0.2.25'] },
          { id: 'txt', name: 'txt.example.com', type: 'TXT', ttl: 300, values: ['v=spf1 -all', 'hello world'] },
          { id: 'alias', name: 'alias.example.com', type: 'CNAME', ttl: 300, values: ['www.example.com'] },
          { id: 'go', name: 'go.example.com', type: 'CNAME', ttl: 300, values: ['app.example.com'] },
          { id: 'ext', name: 'ext.example.com', type: 'CNAME', ttl: 300, values: ['www.example.net'] },
          { id: 'caa', name: 'example.com', type: 'CAA', ttl: 3600, values: ['0 issue "letsencrypt.org"'] },
          { id: 'big', name: 'big.example.com', type: 'A', ttl: 60, values: BIG_V4 },
          { id: 'deep', name: 'deep.a.b.example.com', type: 'TXT', ttl: 300, values: ['deep'] },
          { id: 'wild', name: '*.wild.example.com', type: 'A', ttl: 120, values: ['192.0.2.99'] },
          { id: 'sub-ns', name: 'sub.example.com', type: 'NS', ttl: 3600, values: ['ns.sub.example.com'] },
          { id: 'sub-glue', name: 'ns.sub.example.com', type: 'A', ttl: 3600, values: ['192.0.2.77'] },
        ],
      },
    ],
    regions: [
      { name: 'eu-west-1', countryCode: 'IE', latitude: 53.35, longitude: -6.26, ipv4: EU_WEST_V4, ipv6: EU_WEST_V6 }, // Dublin
      { name: 'us-east-1', countryCode: 'US', latitude: 39.04, longitude: -77.49, ipv4: US_EAST_V4, ipv6: US_EAST_V6 }, // Ashburn
      { name: 'ap-northeast-1', countryCode: 'JP', latitude: 35.68, longitude: 139.69, ipv4: AP_NORTHEAST_V4, ipv6: AP_NORTHEAST_V6 }, // Tokyo
    ],
    services: [
      // us-east-1 first: an unlocated client gets us-east-1, so eu-west-1 for London is geography.
      { fqdn: 'app.example.com', policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'], ttl: 30, residency: 'none' },
      // GDPR-resident with no EU region: an EU client is refused (SERVFAIL + EDE).
      { fqdn: 'private.example.com', policy: 'proximity', regions: ['us-east-1', 'ap-northeast-1'], ttl: 30, residency: 'gdpr' },
      { fqdn: 'boom.example.com', policy: 'failover', regions: ['us-east-1'], ttl: 30, residency: 'none' },
    ],
    ...overrides,
  };
}

export function fixtureSnapshot(version = 1, overrides: Partial<SnapshotInput> = {}): RoutingSnapshot {
  return buildSnapshot(fixtureInput(overrides), version, new Date('2025-01-01T00:00:00Z'));
}

/** A record as dns-packet decodes it (typed loosely: its typings are a union without `data` on OPT). */
export interface DecodedRecord {
  name: string;
  type: string;
  ttl: number;
  class?: string;
  data?: any;
  [key: string]: unknown;
}

/** A reply as dns-packet decodes it (its typings omit rcode and the flag_* fields). */
export interface DecodedReply {
  id: number;
  type: string;
  opcode: string;
  rcode: string;
  flag_qr: boolean;
  flag_aa: boolean;
  flag_tc: boolean;
  flag_rd: boolean;
  flag_ra: boolean;
  flag_z: boolean;
  flag_ad: boolean;
  flag_cd: boolean;
  questions: Array<{ name: string; type: string; class: string }>;
  answers: DecodedRecord[];
  authorities: DecodedRecord[];
  additionals: DecodedRecord[];
}
