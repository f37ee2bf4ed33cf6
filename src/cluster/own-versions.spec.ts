import { OwnVersions } from './own-versions';

describe('OwnVersions', () => {
  const cases: { name: string; own: number[]; seen: number; latest: number; only: boolean; left: number }[] = [
    { name: 'one own change', own: [6], seen: 5, latest: 6, only: true, left: 0 },
    { name: 'several own changes in a row', own: [6, 7, 8], seen: 5, latest: 8, only: true, left: 0 },
    { name: 'a foreign change between own ones', own: [6, 8], seen: 5, latest: 8, only: false, left: 0 },
    { name: 'a foreign change before an own one', own: [7], seen: 5, latest: 7, only: false, left: 0 },
    { name: 'nothing new', own: [], seen: 5, latest: 5, only: false, left: 0 },
    { name: 'own changes not reached yet are kept', own: [6, 9], seen: 5, latest: 6, only: true, left: 1 },
    { name: 'nothing own', own: [], seen: 5, latest: 6, only: false, left: 0 },
  ];
  it.each(cases)('$name', ({ own, seen, latest, only, left }) => {
    const versions = new OwnVersions();
    for (const v of own) versions.add(v);
    expect(versions.onlyOwnBetween(seen, latest)).toBe(only);
    expect(versions.size).toBe(left);
  });
});
