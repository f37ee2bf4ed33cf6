import type { AuditChange } from '../common/audit';
import { eventsOf, retryDelayMs } from './notification-events';

const transition = (from: string, to: string): AuditChange => ({ action: 'transition', kind: 'region-health', name: 'eu-west-1', before: { status: from }, after: { status: to, source: 'webhook', reason: 'disk full' } });

describe('eventsOf: which changes raise which notifications', () => {
  it.each<[string, AuditChange[], string[]]>([
    ['healthy -> unhealthy', [transition('healthy', 'unhealthy')], ['region.unhealthy']],
    ['unknown -> unhealthy', [transition('unknown', 'unhealthy')], ['region.unhealthy']],
    ['unhealthy -> healthy: recovered', [transition('unhealthy', 'healthy')], ['region.healthy']],
    ['unknown -> healthy: a first verdict, no alert', [transition('unknown', 'healthy')], []],
    ['a promotion', [{ action: 'promote', kind: 'service', name: 'app.example.com', before: { primary: 'eu-west-1' }, after: { primary: 'eu-central-1', trigger: 'automatic' } }], ['replication.promoted']],
    ['registry changes raise nothing', [{ action: 'update', kind: 'region', name: 'eu-west-1', before: {}, after: {} }], []],
    ['several in one transaction', [transition('healthy', 'unhealthy'), transition('unhealthy', 'healthy')], ['region.unhealthy', 'region.healthy']],
  ])('%s', (_name, changes, types) => {
    expect(eventsOf(changes).map((e) => e.type)).toEqual(types);
  });

  it('carries what a receiver needs', () => {
    expect(eventsOf([transition('healthy', 'unhealthy')])[0].data).toEqual({ region: 'eu-west-1', from: 'healthy', to: 'unhealthy', source: 'webhook', reason: 'disk full' });
    const [promoted] = eventsOf([{ action: 'promote', kind: 'service', name: 'app.example.com', before: { primary: 'eu-west-1' }, after: { primary: 'eu-central-1', trigger: 'automatic', forced: false } }]);
    expect(promoted.data).toEqual({ service: 'app.example.com', from: 'eu-west-1', to: 'eu-central-1', primary: 'eu-central-1', trigger: 'automatic', forced: false });
  });

  it.each([[1, 1000], [2, 2000], [3, 4000], [8, 128_000], [9, 256_000], [10, 300_000], [20, 300_000]])('after %i failed attempts, wait %i ms', (n, ms) => {
    expect(retryDelayMs(n)).toBe(ms);
  });
});
