import { parseReplicationLag } from './lag-format';

describe('metrics.replicationLagMs', () => {
  it.each<[string, unknown, unknown]>([
    ['a number: one lag for every replicated service of the region', { replicationLagMs: 120 }, { kind: 'all', lagMs: 120 }],
    ['zero', { replicationLagMs: 0 }, { kind: 'all', lagMs: 0 }],
    ['a fraction', { replicationLagMs: 0.5 }, { kind: 'all', lagMs: 0.5 }],
    ['absent', { cpu: 0.3 }, null],
    ['null', { replicationLagMs: null }, null],
    ['no metrics', undefined, null],
  ])('accepts %s', (_name, metrics, report) => {
    const parsed = parseReplicationLag(metrics);
    expect(parsed.problems).toEqual([]);
    expect(parsed.report).toEqual(report);
  });

  it('accepts an object of service names (normalised) to milliseconds', () => {
    const parsed = parseReplicationLag({ replicationLagMs: { 'App.Example.com.': 10, 'db.example.com': 2500 } });
    expect(parsed.problems).toEqual([]);
    expect(parsed.report).toEqual({ kind: 'per-service', lags: new Map([['app.example.com', 10], ['db.example.com', 2500]]) });
  });

  it.each<[string, unknown, string, string]>([
    ['a negative number', -1, 'metrics.replicationLagMs', 'lag-ms'],
    ['more than 10^12', 1e12 + 1, 'metrics.replicationLagMs', 'lag-ms'],
    ['a string', '120ms', 'metrics.replicationLagMs', 'lag-format'],
    ['a list', [120], 'metrics.replicationLagMs', 'lag-format'],
    ['a boolean', true, 'metrics.replicationLagMs', 'lag-format'],
    ['an empty object', {}, 'metrics.replicationLagMs', 'size'],
    ['a string value', { 'app.example.com': '5' }, 'metrics.replicationLagMs["app.example.com"]', 'lag-ms'],
    ['a negative value', { 'app.example.com': -5 }, 'metrics.replicationLagMs["app.example.com"]', 'lag-ms'],
    ['a key that is not a name', { 'app example': 5 }, 'metrics.replicationLagMs["app example"]', 'domain-name'],
  ])('refuses %s, naming the field', (_name, value, field, rule) => {
    const parsed = parseReplicationLag({ replicationLagMs: value });
    expect(parsed.report).toBeNull();
    expect(parsed.problems).toEqual([expect.objectContaining({ field, rule })]);
  });

  it('refuses more than 100 services', () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}.example.com`, i]));
    expect(parseReplicationLag({ replicationLagMs: many }).problems[0]).toMatchObject({ rule: 'size' });
  });
});
