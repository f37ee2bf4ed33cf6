import { withoutSecrets } from './audit';

describe('withoutSecrets: what the audit trail stores of an object', () => {
  it.each<[string, unknown, unknown]>([
    ['plain values stay', { name: 'eu-west-1', weight: 100, drained: false }, { name: 'eu-west-1', weight: 100, drained: false }],
    ['a region webhook secret is hidden', { name: 'eu-west-1', webhookSecret: 'whsec_abc' }, { name: 'eu-west-1', webhookSecret: '(hidden)' }],
    ['a cleared secret stays null', { webhookSecret: null }, { webhookSecret: null }],
    ['nested: a replication notify secret', { replication: { mode: 'active-passive', notifySecret: 'x'.repeat(30) } }, { replication: { mode: 'active-passive', notifySecret: '(hidden)' } }],
    ['in arrays too', [{ token: 'grt_x' }, { secretHash: 'scrypt$...' }], [{ token: '(hidden)' }, { secretHash: '(hidden)' }]],
    ['any case', { WebhookSecret: 'x', Password: 'y' }, { WebhookSecret: '(hidden)', Password: '(hidden)' }],
    ['dates become ISO strings', { at: new Date('2026-01-01T00:00:00Z') }, { at: '2026-01-01T00:00:00.000Z' }],
    ['null and scalars pass', null, null],
    ['a secret-looking value under another key stays (keys decide)', { reason: 'secret rotated' }, { reason: 'secret rotated' }],
  ])('%s', (_name, input, expected) => {
    expect(withoutSecrets(input)).toEqual(expected);
  });
});
