import { ClientAddressReader, clientAddress, isCanonicalIpv4, parseIp } from './client-ip';

type Cidr = Parameters<typeof clientAddress>[2][number];
const cidr = (text: string): Cidr => {
  const [addr, bits] = text.split('/');
  return [parseIp(addr)!, Number(bits)] as const;
};

describe('isCanonicalIpv4', () => {
  it.each([
    ['1.2.3.4', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['159.50.195.155', true],
    ['256.1.1.1', false],
    ['01.2.3.4', false],
    ['1.2.3', false],
    ['1.2.3.4.5', false],
    ['1..3.4', false],
    ['1.2.3.4 ', false],
    [' 1.2.3.4', false],
    ['0x1.2.3.4', false],
    ['1.2.3.-4', false],
    ['::ffff:1.2.3.4', false],
    ['1.2.3.4,5.6.7.8', false],
    ['', false],
    ['1234.1.1.1', false],
  ])('%j -> %s', (text, expected) => {
    expect(isCanonicalIpv4(text)).toBe(expected);
  });
});

describe('ClientAddressReader gives what clientAddress gives', () => {
  const trusted = [cidr('127.0.0.1/32'), cidr('10.0.0.0/8'), cidr('::1/128')];
  const peers = [undefined, '', '127.0.0.1', '::ffff:127.0.0.1', '10.1.2.3', '192.0.2.7', '::1', '2001:db8::5', 'not-an-address'];
  const forwarded: (string | string[] | undefined)[] = [
    undefined,
    '',
    '159.50.195.155',
    '010.1.1.1',
    ' 159.50.195.155',
    '159.50.195.155, 10.0.0.9',
    '203.0.113.9, 159.50.195.155',
    '10.0.0.9',
    'garbage',
    '2001:db8::1',
    '::ffff:159.50.195.155',
    ['159.50.195.155', '10.0.0.2'],
    ['198.51.100.1'],
    '300.1.1.1',
  ];
  const reader = new ClientAddressReader(trusted);
  const untrusting = new ClientAddressReader([]);
  for (const peer of peers) {
    for (const xff of forwarded) {
      it(`peer ${JSON.stringify(peer)}, X-Forwarded-For ${JSON.stringify(xff)}`, () => {
        // Twice: the second read answers from the remembered peer.
        for (let i = 0; i < 2; i++) {
          expect(reader.read(peer, xff)).toEqual(clientAddress(peer, xff, trusted));
          expect(untrusting.read(peer, xff)).toEqual(clientAddress(peer, xff, []));
        }
      });
    }
  }

  it('forgets its peers when it has remembered too many, and still answers', () => {
    const small = new ClientAddressReader(trusted);
    for (let i = 0; i < 5000; i++) {
      const peer = `192.0.${i >> 8}.${i & 255}`;
      expect(small.read(peer, '159.50.195.155')).toEqual({ ip: peer, forwarded: false });
    }
    expect(small.read('127.0.0.1', '159.50.195.155')).toEqual({ ip: '159.50.195.155', forwarded: true });
  });
});
