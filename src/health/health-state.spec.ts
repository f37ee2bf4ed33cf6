import type { HealthStatus } from '../routing/types';
import {
  armHeartbeat,
  checkHeartbeat,
  initialHealthState,
  isNewerVerdict,
  isRoutable,
  record,
  verdictFromVotes,
  voteFreshnessMs,
  type HealthThresholds,
  type HealthTransition,
  type Observation,
  type ObservationSource,
  type RegionHealthState,
  type Votes,
} from './health-state';

const T0 = 1_700_000_000_000;
const SECOND = 1000;

/** A step of a scenario: 'P+' probe ok, 'P-' probe failure, 'W+' / 'W-' webhook healthy / unhealthy. */
type Step = 'P+' | 'P-' | 'W+' | 'W-';

function observation(step: Step, at: number): Observation {
  const source: ObservationSource = step[0] === 'P' ? 'probe' : 'webhook';
  const ok = step[1] === '+';
  return { source, ok, at, reason: ok ? 'status 200' : 'status 503 not in 200-399' };
}

/** Runs steps 10 s apart from `start`; returns the status after each step and every transition. */
function run(start: RegionHealthState, steps: Step[], thresholds: HealthThresholds) {
  let state = start;
  const statuses: HealthStatus[] = [];
  const transitions: HealthTransition[] = [];
  steps.forEach((step, i) => {
    const result = record(state, observation(step, start.since + (i + 1) * 10 * SECOND), thresholds);
    state = result.state;
    statuses.push(state.status);
    if (result.transition) transitions.push(result.transition);
  });
  return { state, statuses, transitions };
}

function stateWith(status: HealthStatus): RegionHealthState {
  return Object.freeze({ ...initialHealthState(T0), status });
}

const split = (s: string) => s.split(' ') as Step[];
const statuses = (s: string) => s.split(' ').map((c) => ({ u: 'unknown', h: 'healthy', x: 'unhealthy' })[c] as HealthStatus);

describe('initialHealthState', () => {
  it('starts unknown, which routes like healthy', () => {
    const state = initialHealthState(T0);
    expect(state).toEqual({
      status: 'unknown',
      since: T0,
      reason: null,
      consecutiveOk: 0,
      consecutiveFail: 0,
      lastObservationAt: null,
      lastWebhookAt: null,
      heartbeatFrom: T0,
      heartbeatExpired: false,
    });
    expect(Object.isFrozen(state)).toBe(true);
    expect(isRoutable(state.status)).toBe(true);
    expect(isRoutable('healthy')).toBe(true);
    expect(isRoutable('unhealthy')).toBe(false);
  });
});

describe('record: probe hysteresis', () => {
  it.each([
    // name, start, thresholds [up, down], steps, statuses after each step
    ['unknown -> healthy exactly at the 3rd success', 'unknown', [3, 3], 'P+ P+ P+ P+', 'u u h h'],
    ['unknown -> unhealthy exactly at the 3rd failure', 'unknown', [3, 3], 'P- P- P- P-', 'u u x x'],
    ['unknown stays unknown on mixed results', 'unknown', [3, 3], 'P+ P- P+ P+ P- P-', 'u u u u u u'],
    ['healthy: 1 failure then success stays up (H4)', 'healthy', [3, 3], 'P- P+ P- P- P+', 'h h h h h'],
    ['healthy -> unhealthy exactly at the 3rd consecutive failure (H5)', 'healthy', [3, 3], 'P- P- P- P-', 'h h x x'],
    ['recovery needs 3 consecutive successes; a failure restarts the count', 'unhealthy', [3, 3], 'P+ P+ P- P+ P+ P+', 'x x x x x h'],
    ['separate thresholds: up 2, down 5', 'healthy', [2, 5], 'P- P- P- P- P- P+ P+', 'h h h h x x h'],
    ['threshold 1 moves at once both ways', 'healthy', [1, 1], 'P- P+ P- P+', 'x h x h'],
  ] as const)('%s', (_name, start, [up, down], steps, expected) => {
    const result = run(stateWith(start), split(steps), { healthyThreshold: up, unhealthyThreshold: down });
    expect(result.statuses).toEqual(statuses(expected));
  });

  it.each([
    ['healthy', 2, 2],
    ['unhealthy', 2, 2],
    ['unknown', 2, 2],
    ['healthy', 3, 3],
    ['unhealthy', 2, 5],
  ] as const)('flapping from %s (up %d, down %d): 60 alternating results, no transition (H6)', (start, up, down) => {
    const steps = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'P-' : 'P+') as Step);
    const result = run(stateWith(start), steps, { healthyThreshold: up, unhealthyThreshold: down });
    expect(result.transitions).toEqual([]);
    expect(result.state.status).toBe(start);
    expect(result.state.since).toBe(T0);
  });

  it('reports the transition with its time, source, reason and instance', () => {
    let state = stateWith('healthy');
    const thresholds = { healthyThreshold: 2, unhealthyThreshold: 3 };
    for (let i = 1; i <= 2; i++) {
      const result = record(state, { source: 'probe', ok: false, at: T0 + i * SECOND, reason: 'timeout after 2000 ms' }, thresholds);
      expect(result.transition).toBeNull();
      state = result.state;
    }
    const third = record(
      state,
      { source: 'probe', ok: false, at: T0 + 3 * SECOND, reason: 'connection refused', instance: 'eu-1' },
      thresholds,
    );
    expect(third.transition).toEqual({
      from: 'healthy',
      to: 'unhealthy',
      at: T0 + 3 * SECOND,
      source: 'probe',
      reason: '3 consecutive probe failures: connection refused',
      instance: 'eu-1',
    });
    expect(third.state).toMatchObject({
      status: 'unhealthy',
      since: T0 + 3 * SECOND,
      reason: '3 consecutive probe failures: connection refused',
      consecutiveFail: 3,
      consecutiveOk: 0,
      lastObservationAt: T0 + 3 * SECOND,
    });
  });

  it('never mutates its input and returns frozen objects', () => {
    const start = stateWith('healthy');
    const copy = { ...start };
    const result = record(start, { source: 'probe', ok: false, at: T0 + SECOND }, { healthyThreshold: 1, unhealthyThreshold: 1 });
    expect(start).toEqual(copy);
    expect(result.state).not.toBe(start);
    expect(Object.isFrozen(result.state)).toBe(true);
    expect(Object.isFrozen(result.transition)).toBe(true);
  });

  it.each([
    [{ healthyThreshold: 0, unhealthyThreshold: 3 }, 'healthyThreshold must be an integer >= 1, got 0'],
    [{ healthyThreshold: 3, unhealthyThreshold: 1.5 }, 'unhealthyThreshold must be an integer >= 1, got 1.5'],
  ])('rejects bad thresholds %j', (thresholds, message) => {
    expect(() => record(initialHealthState(T0), { source: 'probe', ok: true, at: T0 }, thresholds)).toThrow(message);
  });
});

describe('record: webhooks apply at once', () => {
  const thresholds = { healthyThreshold: 3, unhealthyThreshold: 5 };

  it.each([
    ['unknown + webhook healthy', 'unknown', 'W+', 'h'],
    ['unknown + webhook unhealthy', 'unknown', 'W-', 'x'],
    ['healthy + webhook unhealthy (threshold 5 does not apply)', 'healthy', 'W-', 'x'],
    ['unhealthy + webhook healthy', 'unhealthy', 'W+', 'h'],
  ] as const)('%s', (_name, start, step, expected) => {
    expect(run(stateWith(start), [step], thresholds).statuses).toEqual(statuses(expected));
  });

  it('gives probes their full threshold to overrule a webhook', () => {
    const result = run(stateWith('healthy'), split('P- P- P- P- W+ P- P- P- P- P-'), thresholds);
    expect(result.statuses).toEqual(statuses('h h h h h h h h h x'));
  });

  it('uses the webhook reason', () => {
    const result = record(
      stateWith('healthy'),
      { source: 'webhook', ok: false, at: T0 + SECOND, reason: 'database failover in progress' },
      thresholds,
    );
    expect(result.transition).toMatchObject({ source: 'webhook', reason: 'webhook reported unhealthy: database failover in progress' });
    expect(result.state.lastWebhookAt).toBe(T0 + SECOND);
  });

  it('ignores a webhook older than the newest one recorded (W12)', () => {
    const newer = record(stateWith('unknown'), { source: 'webhook', ok: true, at: T0 + 20 * SECOND }, thresholds).state;
    const older = record(newer, { source: 'webhook', ok: false, at: T0 + 10 * SECOND }, thresholds);
    expect(older.transition).toBeNull();
    expect(older.state).toBe(newer);
  });
});

describe('checkHeartbeat', () => {
  const thresholds = { healthyThreshold: 3, unhealthyThreshold: 3 };
  const timeout = 30;

  it('passes within the time-out from creation and expires exactly at it', () => {
    const state = initialHealthState(T0);
    expect(checkHeartbeat(state, T0 + 29_999, timeout)).toEqual({ state, transition: null });
    const expired = checkHeartbeat(state, T0 + 30_000, timeout);
    expect(expired.transition).toEqual({
      from: 'unknown',
      to: 'unhealthy',
      at: T0 + 30_000,
      source: 'heartbeat-timeout',
      reason: 'no webhook for 30 s (heartbeat timeout 30 s)',
    });
    expect(expired.state).toMatchObject({ status: 'unhealthy', since: T0 + 30_000, heartbeatExpired: true });
  });

  it('measures from the last webhook', () => {
    const reported = record(initialHealthState(T0), { source: 'webhook', ok: true, at: T0 + 20 * SECOND }, thresholds).state;
    expect(checkHeartbeat(reported, T0 + 45 * SECOND, timeout).transition).toBeNull();
    expect(checkHeartbeat(reported, T0 + 50 * SECOND, timeout).transition).toMatchObject({ from: 'healthy', to: 'unhealthy' });
  });

  it('is idempotent once expired', () => {
    const expired = checkHeartbeat(initialHealthState(T0), T0 + 31 * SECOND, timeout).state;
    const again = checkHeartbeat(expired, T0 + 90 * SECOND, timeout);
    expect(again.transition).toBeNull();
    expect(again.state).toBe(expired);
  });

  it('does not let probes revive a silent region; the next webhook does at once', () => {
    const expired = checkHeartbeat(initialHealthState(T0), T0 + 30 * SECOND, timeout).state;
    let state = expired;
    for (let i = 1; i <= 5; i++) {
      const result = record(state, { source: 'probe', ok: true, at: T0 + (30 + i) * SECOND }, thresholds);
      expect(result.transition).toBeNull();
      state = result.state;
    }
    expect(state).toMatchObject({ status: 'unhealthy', consecutiveOk: 5 });
    const webhook = record(state, { source: 'webhook', ok: true, at: T0 + 40 * SECOND }, thresholds);
    expect(webhook.transition).toMatchObject({ from: 'unhealthy', to: 'healthy', source: 'webhook' });
    expect(webhook.state.heartbeatExpired).toBe(false);
  });

  it('records the expiry without a transition when already unhealthy', () => {
    const result = checkHeartbeat(stateWith('unhealthy'), T0 + 60 * SECOND, timeout);
    expect(result.transition).toBeNull();
    expect(result.state).toMatchObject({ status: 'unhealthy', heartbeatExpired: true, since: T0 });
  });

  it('restarts the wait when armed, and clears an expiry', () => {
    const expired = checkHeartbeat(initialHealthState(T0), T0 + 30 * SECOND, timeout).state;
    const armed = armHeartbeat(expired, T0 + 100 * SECOND);
    expect(armed).toMatchObject({ heartbeatFrom: T0 + 100 * SECOND, heartbeatExpired: false, status: 'unhealthy' });
    expect(checkHeartbeat(armed, T0 + 129 * SECOND, timeout).transition).toBeNull();
    // With the expiry cleared, probes can bring it back.
    const recovered = run(armed, split('P+ P+ P+'), thresholds);
    expect(recovered.state.status).toBe('healthy');
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('requires no heartbeat for a time-out of %d', (value) => {
    const state = initialHealthState(T0);
    expect(checkHeartbeat(state, T0 + 86_400_000, value)).toEqual({ state, transition: null });
  });
});

describe('verdictFromVotes: the majority of fresh probe votes', () => {
  const AT = T0 + 60 * SECOND;
  const probe: Observation = { source: 'probe', ok: false, at: AT, reason: 'status 503 not in 200-399', instance: 'i-1' };
  /** This instance's own state machine after the result: its status, and whether the result changed it (with that reason). */
  const local = (status: HealthStatus, changed: boolean, reason: string | null = changed ? `became ${status}` : null) => ({
    local: Object.freeze({ ...stateWith(status), reason }),
    localChange: changed ? { from: 'unknown' as HealthStatus, to: status, at: AT, source: 'probe' as const, reason: reason ?? '' } : null,
  });
  const votes = (healthy: number, unhealthy: number): Votes => ({ healthy, unhealthy });

  it.each<[string, HealthStatus, ReturnType<typeof local>, Votes, HealthStatus | null, string | null]>([
    // name, shared verdict before, this instance, other instances' votes, verdict after (null: unchanged), reason
    ['one instance: its own verdict, healthy -> unhealthy', 'healthy', local('unhealthy', true), votes(0, 0), 'unhealthy', 'became unhealthy'],
    ['one instance: its own verdict, unknown -> healthy', 'unknown', local('healthy', true), votes(0, 0), 'healthy', 'became healthy'],
    ['one instance: unhealthy -> healthy', 'unhealthy', local('healthy', true), votes(0, 0), 'healthy', 'became healthy'],
    ['2 of 3 report unhealthy: a majority', 'healthy', local('unhealthy', true), votes(1, 1), 'unhealthy', '2 of 3 checkers report unhealthy; i-1: became unhealthy'],
    ['1 of 2 report unhealthy: a tie is no majority', 'healthy', local('unhealthy', true), votes(1, 0), null, null],
    ['1 of 3 report unhealthy: stays healthy', 'healthy', local('unhealthy', true), votes(2, 0), null, null],
    ['this instance recovers but 2 of 3 still report unhealthy', 'healthy', local('healthy', true), votes(0, 2), 'unhealthy', '2 of 3 checkers report unhealthy; i-1: became healthy'],
    ['this instance recovers and the others agree: healthy again', 'unhealthy', local('healthy', true), votes(2, 0), 'healthy', '0 of 3 checkers report unhealthy; i-1: became healthy'],
    ['only the others count unhealthy, still a minority with us', 'unhealthy', local('healthy', true), votes(0, 1), 'healthy', '1 of 2 checkers report unhealthy; i-1: became healthy'],
    ['no change of its own: the verdict is not reconsidered', 'healthy', local('unhealthy', false), votes(0, 5), null, null],
    ['no change of its own, but the region is still unknown', 'unknown', local('healthy', false, 'status 200'), votes(1, 0), 'healthy', '0 of 2 checkers report unhealthy; i-1: status 200'],
    ['its own status unknown: no vote yet', 'healthy', local('unknown', false), votes(0, 3), null, null],
    ['the majority is what the region already is', 'unhealthy', local('unhealthy', true), votes(0, 1), null, null],
  ])('%s', (_name, before, own, others, after, reason) => {
    const current = stateWith(before);
    const result = verdictFromVotes({ current, ...own, others, observation: probe, instance: 'i-1' });
    if (after === null) {
      expect(result).toEqual({ state: current, transition: null });
      expect(result.state).toBe(current);
      return;
    }
    expect(result.transition).toEqual({ from: before, to: after, at: AT, source: 'probe', reason, instance: 'i-1' });
    expect(result.state).toEqual({ ...current, status: after, since: AT, reason, lastObservationAt: AT });
    expect(Object.isFrozen(result.state) && Object.isFrozen(result.transition)).toBe(true);
  });

  it('falls back to the probe reason, then to "probe", when this instance has none', () => {
    const current = stateWith('unknown');
    const own = { local: stateWith('healthy'), localChange: null };
    expect(verdictFromVotes({ current, ...own, others: votes(0, 0), observation: probe, instance: 'i-1' }).state.reason).toBe('status 503 not in 200-399');
    const bare: Observation = { source: 'probe', ok: true, at: AT };
    expect(verdictFromVotes({ current, ...own, others: votes(0, 0), observation: bare, instance: 'i-1' }).state.reason).toBe('probe');
  });

  it.each([
    [1000, 3000],
    [2000, 6000],
    [30_000, 90_000],
  ])('counts votes cast within three probe intervals, at least 3 s (interval %d ms -> %d ms)', (interval, window) => {
    expect(voteFreshnessMs(interval)).toBe(window);
  });
});

describe('isNewerVerdict', () => {
  it.each<[string, RegionHealthState | undefined, RegionHealthState, boolean]>([
    ['nothing held yet', undefined, stateWith('healthy'), true],
    ['the stored verdict began later', stateWith('healthy'), { ...stateWith('unhealthy'), since: T0 + 1 }, true],
    ['the same moment: ours stays', stateWith('healthy'), stateWith('unhealthy'), false],
    ['the stored verdict is older (a read that raced our own write)', { ...stateWith('healthy'), since: T0 + 5 }, stateWith('unhealthy'), false],
  ])('%s', (_name, held, stored, newer) => {
    expect(isNewerVerdict(held, stored)).toBe(newer);
  });
});
