import { LOG_LINES_PER_TURN, withoutSecrets, writeLines } from './audit';

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

describe('writeLines: the log lines of a request, after its response', () => {
  it('writes a few lines at once', () => {
    const out: string[] = [];
    writeLines(['a', 'b', 'c'], (l) => out.push(l));
    expect(out).toEqual(['a', 'b', 'c']);
  });

  it('writes many lines in order, LOG_LINES_PER_TURN per turn of the event loop', async () => {
    const lines = Array.from({ length: LOG_LINES_PER_TURN * 3 + 7 }, (_, i) => `line ${i}`);
    const out: string[] = [];
    writeLines(lines, (l) => out.push(l));
    expect(out).toHaveLength(LOG_LINES_PER_TURN);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(out).toHaveLength(LOG_LINES_PER_TURN * 2);
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(out).toEqual(lines);
  });
});
