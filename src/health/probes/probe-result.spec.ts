/** describeNetworkError: the reason an operator reads, the same on every supported Node.js. */
import { describeNetworkError } from './probe-result';

const error = (code: string | undefined, message: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('describeNetworkError', () => {
  test.each([
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9', 'connection refused'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND x.invalid', 'name lookup failed (ENOTFOUND)'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'tls: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    // Node.js 26 adds advice for whoever runs the client; the reason stays Node.js 20's.
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
      'tls: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
    ],
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
      'tls: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    ],
    ['EPIPE', 'write EPIPE', 'network error (EPIPE)'],
    ['EADDRNOTAVAIL', 'connect EADDRNOTAVAIL 10.0.0.5:80 - Local (0.0.0.0:0)', 'network error (EADDRNOTAVAIL)'],
    ['ERR_OUTBOUND_POLICY', 'refused by the outbound policy: localhost: the address is loopback; allow it with OUTBOUND_ALLOW', 'refused by the outbound policy: localhost: the address is loopback; allow it with OUTBOUND_ALLOW'],
    [undefined, 'socket hang up', 'socket hang up'],
    [undefined, 'Parse Error: Expected HTTP/ at 10.0.0.5:8080', 'network error'],
  ])('%s: %s', (code, message, expected) => {
    expect(describeNetworkError(error(code, message))).toBe(expected);
  });
});
