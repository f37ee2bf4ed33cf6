import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ipaddr from 'ipaddr.js';
import { OutboundPolicy, outboundRefusal, redactUrlCredentials, type Cidr } from './outbound-policy';

const LOOPBACK_ALLOWED: Cidr[] = [ipaddr.parseCIDR('127.0.0.0/8'), ipaddr.parseCIDR('::1/128')];

describe('outboundRefusal', () => {
  it.each([
    // address, allow list, refused?, reason contains
    ['203.0.114.1', [], false, ''],
    ['8.8.8.8', [], false, ''],
    ['2606:4700::1111', [], false, ''],
    ['127.0.0.1', [], true, 'loopback; allow it with OUTBOUND_ALLOW'],
    ['::1', [], true, 'loopback'],
    ['10.1.2.3', [], true, 'private'],
    ['192.168.1.1', [], true, 'private'],
    ['172.16.5.4', [], true, 'private'],
    ['fd12::1', [], true, 'unique local'],
    ['100.64.1.1', [], true, 'shared address space'],
    ['192.0.2.10', [], true, 'special-purpose'],
    ['::ffff:127.0.0.1', [], true, 'loopback'],
    ['64:ff9b::a00:1', [], true, 'private'],
    ['127.0.0.1', LOOPBACK_ALLOWED, false, ''],
    ['::1', LOOPBACK_ALLOWED, false, ''],
    ['::ffff:127.0.0.1', LOOPBACK_ALLOWED, false, ''],
    ['10.1.2.3', LOOPBACK_ALLOWED, true, 'private'],
    ['0.0.0.0', LOOPBACK_ALLOWED, true, 'unspecified, never allowed'],
    ['::', [ipaddr.parseCIDR('::/0')], true, 'never allowed'],
    ['169.254.169.254', [ipaddr.parseCIDR('0.0.0.0/0')], true, 'cloud metadata address, never allowed'],
    ['169.254.1.1', [ipaddr.parseCIDR('169.254.0.0/16')], true, 'link-local, never allowed'],
    ['fe80::1', [ipaddr.parseCIDR('::/0')], true, 'link-local'],
    ['fd00:ec2::254', [ipaddr.parseCIDR('fc00::/7')], true, 'cloud metadata'],
    ['100.100.100.200', [ipaddr.parseCIDR('100.64.0.0/10')], true, 'cloud metadata'],
    ['224.0.0.1', [ipaddr.parseCIDR('0.0.0.0/0')], true, 'multicast'],
    ['255.255.255.255', [ipaddr.parseCIDR('0.0.0.0/0')], true, 'broadcast'],
  ] as [string, Cidr[], boolean, string][])('%s with allow %j: refused=%s', (address, allow, refused, reason) => {
    const result = outboundRefusal(address, allow);
    expect(result !== null).toBe(refused);
    if (refused) expect(result).toContain(reason);
  });
});

describe('OutboundPolicy', () => {
  it('refuses literals by the same rule (brackets too) and leaves names to lookup', () => {
    const policy = new OutboundPolicy([]);
    expect(policy.literalRefusal('127.0.0.1')).toMatch(/^refused by the outbound policy: 127\.0\.0\.1: the address is loopback/);
    expect(policy.literalRefusal('[::1]')).toMatch(/loopback/);
    expect(policy.literalRefusal('198.51.100.1')).toMatch(/special-purpose/);
    expect(policy.literalRefusal('8.8.8.8')).toBeNull();
    expect(policy.literalRefusal('localhost')).toBeNull();
  });

  it('refuses a name that resolves to loopback (localhost) at connect time, through a real request', async () => {
    const server = http.createServer((_req, res) => res.end('secret'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const get = (policy: OutboundPolicy) =>
      new Promise<string>((resolve) => {
        const req = http.get({ host: 'localhost', port, lookup: policy.lookup, agent: false }, (res) => {
          res.resume();
          resolve(`status ${res.statusCode}`);
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`${e.code}: ${e.message}`));
      });
    try {
      expect(await get(new OutboundPolicy([]))).toMatch(/^ERR_OUTBOUND_POLICY: refused by the outbound policy: localhost: the address is loopback/);
      expect(await get(new OutboundPolicy(LOOPBACK_ALLOWED))).toBe('status 200');
    } finally {
      server.close();
    }
  });
});

describe('redactUrlCredentials', () => {
  it.each([
    ['https://user:pa55@example.com/hook?x=1', 'https://***:***@example.com/hook?x=1'],
    ['https://token@example.com/', 'https://***@example.com/'],
    ['https://example.com/hook', 'https://example.com/hook'],
    ['not a url', 'not a url'],
  ])('%s', (input, expected) => {
    expect(redactUrlCredentials(input)).toBe(expected);
  });
});
