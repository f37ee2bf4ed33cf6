/**
 * Queries per second from two readings of the decision counters (pure): the dashboard's traffic
 * panel. A reading is the cumulative count per (service, region) answer at one instant; the rate
 * is the growth between the oldest and the newest reading of the window, per second.
 */

/** Cumulative DNS answers per answer key at one instant (ms since the epoch). */
export interface CounterReading {
  readonly at: number;
  /** `answerKey(service, region)` -> answers counted since the process started. */
  readonly answers: ReadonlyMap<string, number>;
  /** Every DNS reply sent (any name, any rcode), since the process started. */
  readonly replies: number;
}

export interface AnswerRate {
  readonly service: string;
  /** The region answered; '' when the answer named none (refused, no eligible region). */
  readonly region: string;
  readonly qps: number;
  readonly total: number;
}

export interface RegionRate {
  readonly region: string;
  readonly qps: number;
  readonly total: number;
}

export interface TrafficRates {
  /** Seconds between the two readings; 0 when there was only one. */
  readonly windowSeconds: number;
  readonly repliesPerSecond: number;
  /** Per region, busiest first, then by name. */
  readonly regions: RegionRate[];
  /** Per service and region, busiest first, then by service and region. */
  readonly answers: AnswerRate[];
}

const SEP = '\u0000';

export function answerKey(service: string, region: string): string {
  return `${service}${SEP}${region}`;
}

/** A counter that went down (a restart between readings) counts from zero. */
function growth(now: number, before: number | undefined): number {
  const d = now - (before ?? 0);
  return d >= 0 ? d : now;
}

/** Rounds to 2 decimals, so 1/3 qps reads 0.33 and tiny rates do not vanish below 0.01. */
function round(qps: number): number {
  return Math.round(qps * 100) / 100;
}

/**
 * Rates between `older` and `newer` (newer.at > older.at; with older === null, or the same
 * instant, every rate is 0 and only the totals say something).
 */
export function trafficRates(older: CounterReading | null, newer: CounterReading): TrafficRates {
  const seconds = older && newer.at > older.at ? (newer.at - older.at) / 1000 : 0;
  const per = (count: number) => (seconds > 0 ? count / seconds : 0);
  const answers: AnswerRate[] = [];
  const regions = new Map<string, { delta: number; total: number }>();
  for (const [key, total] of newer.answers) {
    const [service, region] = key.split(SEP);
    const delta = seconds > 0 ? growth(total, older?.answers.get(key)) : 0;
    answers.push({ service, region, qps: round(per(delta)), total });
    const r = regions.get(region) ?? { delta: 0, total: 0 };
    regions.set(region, { delta: r.delta + delta, total: r.total + total });
  }
  answers.sort((a, b) => b.qps - a.qps || a.service.localeCompare(b.service) || a.region.localeCompare(b.region));
  const byRegion = [...regions].map(([region, r]) => ({ region, qps: round(per(r.delta)), total: r.total }));
  byRegion.sort((a, b) => b.qps - a.qps || a.region.localeCompare(b.region));
  return {
    windowSeconds: Math.round(seconds * 10) / 10,
    repliesPerSecond: round(per(seconds > 0 ? growth(newer.replies, older?.replies) : 0)),
    regions: byRegion,
    answers,
  };
}

/** The reading to compare `newest` with: the oldest one at most `windowMs` older, else the newest before it. */
export function windowStart(readings: readonly CounterReading[], windowMs: number): CounterReading | null {
  const newest = readings[readings.length - 1];
  if (!newest) return null;
  for (const r of readings) if (r !== newest && newest.at - r.at <= windowMs) return r;
  return readings.length > 1 ? readings[readings.length - 2] : null;
}
