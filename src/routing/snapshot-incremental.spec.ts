import * as fc from 'fast-check';
import { ALL_REGIONS, ZONE } from './fixtures';
import { registeredPlansOf } from './service-plan';
import { SnapshotValidationError, buildSnapshot, buildSnapshotSteps, type ServiceInput, type SnapshotInput } from './snapshot';
import type { RoutingSnapshot } from './types';

const REGION_NAMES = ALL_REGIONS.map((r) => r.name);
const AT = new Date('2026-01-01T00:00:00Z');

/** A service input: a random subset of the pool, sometimes replicated with a write name. */
const serviceArb = (fqdn: string) =>
  fc.record({
    picks: fc.shuffledSubarray(REGION_NAMES, { minLength: 1, maxLength: 4 }),
    policy: fc.constantFrom('proximity' as const, 'failover' as const, 'weighted' as const),
    ttl: fc.integer({ min: 1, max: 300 }),
    // 0: not replicated; else the write name's number (small: two services may claim one).
    write: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 6 })),
  }).map(({ picks, policy, ttl, write }): ServiceInput => ({
    fqdn,
    policy,
    ttl,
    regions: picks,
    residency: 'none',
    replication: write === 0 ? null : { mode: 'active-passive', primary: picks[0], writeFqdn: `w${write}.example.com`, members: picks.map((region) => ({ region, lagMs: 10, reportedAt: AT.toISOString() })) },
  }));

/** One change to the list: a service edited (a new object), deleted, or added at the end. */
const changeArb = fc.oneof(
  fc.record({ kind: fc.constant('edit' as const), at: fc.nat(), service: serviceArb('') }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 100, max: 130 }), service: serviceArb('') }),
);

type Change = { kind: 'edit'; at: number; service: ServiceInput } | { kind: 'delete'; at: number } | { kind: 'add'; n: number; service: ServiceInput };

/** The list after the changes, as the snapshot store makes it: untouched inputs stay the same objects, in place. */
function applyChanges(list: readonly ServiceInput[], changes: readonly Change[]): ServiceInput[] {
  const out = [...list];
  for (const c of changes) {
    if (c.kind === 'add') {
      const fqdn = `n${c.n}.example.com`;
      if (!out.some((s) => s.fqdn === fqdn)) out.push({ ...c.service, fqdn });
    } else if (out.length > 0) {
      const i = c.at % out.length;
      if (c.kind === 'delete') out.splice(i, 1);
      else out[i] = { ...c.service, fqdn: out[i].fqdn };
    }
  }
  return out;
}

function build(input: SnapshotInput, version: number, previous?: RoutingSnapshot): RoutingSnapshot | readonly string[] {
  try {
    return buildSnapshot(input, version, AT, previous);
  } catch (err) {
    if (err instanceof SnapshotValidationError) return [...err.problems].sort();
    throw err;
  }
}

const byKey = <V>(map: ReadonlyMap<string, V>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('buildSnapshot from a previous snapshot, one change after another', () => {
  it('gives the services, plans and problems of a build from nothing, and keeps every untouched service object', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 40 }).chain((ids) =>
          fc.tuple(fc.tuple(...[...new Set(ids)].map((id) => serviceArb(`s${id}.example.com`))), fc.array(fc.array(changeArb, { maxLength: 4 }), { minLength: 1, maxLength: 6 })),
        ),
        ([services, rounds]) => {
          const input = (list: readonly ServiceInput[]): SnapshotInput => ({ zones: [ZONE], regions: ALL_REGIONS, services: list });
          let list: ServiceInput[] = services;
          let previous = build(input(list), 1);
          let version = 1;
          for (const changes of rounds) {
            const next = applyChanges(list, changes);
            version++;
            const full = build(input(next), version);
            if (Array.isArray(previous)) {
              // No snapshot in service (the first build failed): nothing to compare incrementally.
              list = next;
              previous = full;
              continue;
            }
            const incremental = build(input(next), version, previous as RoutingSnapshot);
            if (Array.isArray(full)) {
              expect(incremental).toEqual(full);
              continue; // the store keeps the old snapshot and its list
            }
            const inc = incremental as RoutingSnapshot;
            const whole = full as RoutingSnapshot;
            expect(byKey(inc.services)).toEqual(byKey(whole.services));
            expect(inc.services.size).toBe(whole.services.size);
            const plans = registeredPlansOf(inc)!;
            const wholePlans = registeredPlansOf(whole)!;
            expect([...plans.keys()].sort()).toEqual([...wholePlans.keys()].sort());
            for (const [name, plan] of wholePlans) expect(plans.get(name)).toEqual(plan);
            for (const service of next) {
              if (list.includes(service) && !service.replication) expect(inc.services.get(service.fqdn)).toBe((previous as RoutingSnapshot).services.get(service.fqdn));
            }
            list = next;
            previous = inc;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('buildSnapshotSteps: the same build, in steps', () => {
  const services = (n: number, ttl: number): ServiceInput[] =>
    Array.from({ length: n }, (_, k) => ({ fqdn: `s${k}.example.com`, policy: 'proximity', regions: [REGION_NAMES[k % REGION_NAMES.length]], ttl, residency: 'none' }));
  const input = (list: readonly ServiceInput[]): SnapshotInput => ({ zones: [ZONE], regions: ALL_REGIONS, services: list });

  it.each([
    ['from nothing', 0],
    ['from a previous snapshot, every service changed', 1],
  ])('%s: yields at least once per service, and two builds interleaved step by step give what each gives alone', (_what, fromPrevious) => {
    const previous = fromPrevious ? buildSnapshot(input(services(120, 30)), 1, AT) : undefined;
    const a = buildSnapshotSteps(input(services(120, 60)), 2, AT, previous);
    const b = buildSnapshotSteps(input(services(80, 90)), 3, AT, previous);
    let steps = 0;
    let ra = a.next();
    let rb = b.next();
    while (ra.done !== true || rb.done !== true) {
      if (ra.done !== true) {
        ra = a.next();
        steps++;
      }
      if (rb.done !== true) rb = b.next();
    }
    expect(steps).toBeGreaterThanOrEqual(120);
    const aloneA = buildSnapshot(input(services(120, 60)), 2, AT, previous);
    const aloneB = buildSnapshot(input(services(80, 90)), 3, AT, previous);
    expect(byKey(ra.value.services)).toEqual(byKey(aloneA.services));
    expect(byKey(rb.value.services)).toEqual(byKey(aloneB.services));
    for (const [name, plan] of registeredPlansOf(aloneA)!) expect(registeredPlansOf(ra.value)!.get(name)).toEqual(plan);
  });

  it('a build that fails throws from its last step, naming every problem', () => {
    const steps = buildSnapshotSteps(input([...services(3, 30), { fqdn: 'bad.example.com', policy: 'proximity', regions: ['nowhere'], ttl: 30, residency: 'none' }]), 2, AT);
    expect(() => {
      for (let r = steps.next(); r.done !== true; r = steps.next());
    }).toThrow(SnapshotValidationError);
  });
});
