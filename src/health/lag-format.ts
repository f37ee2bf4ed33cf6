/**
 * The replication lag a region reports in its health webhook: `metrics.replicationLagMs`.
 *
 * - a number: the region's lag, in milliseconds, for every replicated service it serves;
 * - an object `{ "<service fqdn>": <ms>, ... }` (1-100 entries): per service, for regions
 *   that hold the data of several services with different lags.
 *
 * Each lag is a finite number from 0 to 10^12 ms. Anything else is a 400 for the whole delivery
 * (nothing is recorded, not even the health status). Names of services that do not exist, are
 * not replicated or do not list the region are ignored (logged): a region may report before the
 * service is configured. Absent or null: no lag report.
 */
import type { FieldProblem } from '../common/domain-error';
import type { LagReport } from '../common/events';
import { checkDomainName, normalizeName } from '../common/dns-name';
import { MAX_REPORTED_LAG_MS } from '../routing/replication';

export const LAG_FIELD = 'replicationLagMs';
export const MAX_LAG_ENTRIES = 100;

export interface ParsedLag {
  readonly report: LagReport | null;
  readonly problems: readonly FieldProblem[];
}

function lagProblem(value: unknown, field: string): FieldProblem | null {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_REPORTED_LAG_MS) return null;
  return { field, rule: 'lag-ms', message: `must be a number of milliseconds from 0 to ${MAX_REPORTED_LAG_MS}` };
}

/** Reads `metrics.replicationLagMs` of a webhook body (metrics as received; non-objects are someone else's 400). */
export function parseReplicationLag(metrics: unknown): ParsedLag {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return { report: null, problems: [] };
  const value = (metrics as Record<string, unknown>)[LAG_FIELD];
  const field = `metrics.${LAG_FIELD}`;
  if (value === undefined || value === null) return { report: null, problems: [] };
  if (typeof value === 'number') {
    const problem = lagProblem(value, field);
    return problem ? { report: null, problems: [problem] } : { report: { kind: 'all', lagMs: value }, problems: [] };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {
      report: null,
      problems: [{ field, rule: 'lag-format', message: 'must be a number of milliseconds, or an object of service names to milliseconds' }],
    };
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_LAG_ENTRIES) {
    return { report: null, problems: [{ field, rule: 'size', message: `must name 1 to ${MAX_LAG_ENTRIES} services` }] };
  }
  const problems: FieldProblem[] = [];
  const lags = new Map<string, number>();
  for (const [key, lag] of entries) {
    const at = `${field}["${key.slice(0, 253)}"]`;
    const nameProblem = checkDomainName(key);
    if (nameProblem !== null) {
      problems.push({ field: at, rule: 'domain-name', message: `the key must be a service name: ${nameProblem}` });
      continue;
    }
    const problem = lagProblem(lag, at);
    if (problem) problems.push(problem);
    else lags.set(normalizeName(key), lag as number);
  }
  return problems.length > 0 ? { report: null, problems } : { report: { kind: 'per-service', lags }, problems: [] };
}
