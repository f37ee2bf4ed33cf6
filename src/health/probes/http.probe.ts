/**
 * HTTP(S) health probe on node:http / node:https, one fresh connection per probe.
 *
 * Contract:
 * - One GET; redirects are not followed (a 3xx is judged by `expectedStatus` alone, and
 *   following one could lead the checker to hosts nobody configured).
 * - `bodyContains` is searched in the first 64 KiB of the body only; the body is not read
 *   when no match is asked for.
 * - The whole probe (DNS, connect, TLS, headers, body) is bounded by `timeoutMs`; on time-out
 *   the socket is destroyed.
 * - HTTPS validates the certificate chain and host name unless `insecureSkipVerify`.
 * - Never throws or rejects: every failure is `ok: false` with a reason.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { describeNetworkError, settleProbe, type OutboundGuard, type ProbeResult } from './probe-result';
import { DEFAULT_EXPECTED_STATUS, parseStatusRanges, statusInRanges, type StatusRange } from './status-range';

export interface HttpProbeOptions {
  /** http:// or https:// URL. */
  readonly url: string;
  readonly timeoutMs: number;
  /** Status codes that pass, e.g. '200-399' (the default) or '200,204'. See status-range.ts. */
  readonly expectedStatus?: string;
  /** A string that must appear in the first 64 KiB of the body. */
  readonly bodyContains?: string;
  readonly insecureSkipVerify?: boolean;
  /** Aborts the probe (result: 'aborted'). */
  readonly signal?: AbortSignal;
  /** Which georoute instance is checking (sent as X-Georoute-Instance, so operators can tell checkers apart). */
  readonly instance?: string;
  /** Replaces DNS resolution (e.g. to refuse private addresses). */
  readonly lookup?: LookupFunction;
  /** The outbound policy (common/outbound-policy.ts): checks an IP-literal host, resolves names (replaces `lookup`). */
  readonly policy?: OutboundGuard;
}

export const BODY_MATCH_LIMIT_BYTES = 64 * 1024;
const USER_AGENT = 'georoute-health-probe/1';

export function probeHttp(options: HttpProbeOptions): Promise<ProbeResult> {
  return settleProbe(options, () => prepare(options), ({ url, ranges, rangesText, needle }, attempt) => {
    const { finish } = attempt;
    const requestOptions: https.RequestOptions = {
      method: 'GET',
      agent: false,
      headers: { 'user-agent': USER_AGENT, accept: '*/*', connection: 'close', ...(options.instance ? { 'x-georoute-instance': options.instance } : {}) },
      ...(options.policy ? { lookup: options.policy.lookup } : options.lookup ? { lookup: options.lookup } : {}),
      ...(url.protocol === 'https:' ? { rejectUnauthorized: options.insecureSkipVerify !== true } : {}),
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, requestOptions, (response) => {
      // Destroying the request later makes the response emit 'error' (aborted): expected.
      response.on('error', (error) => finish(false, describeNetworkError(error)));
      const status = response.statusCode ?? 0;
      if (!statusInRanges(status, ranges)) return finish(false, `status ${status} not in ${rangesText}`);
      if (needle === null) return finish(true, `status ${status}`);

      const notFound = `status ${status}, body does not contain ${JSON.stringify(options.bodyContains)} in the first ${BODY_MATCH_LIMIT_BYTES} bytes`;
      let body = Buffer.alloc(0);
      response.on('data', (chunk: Buffer) => {
        if (attempt.settled) return;
        body = Buffer.concat([body, chunk.subarray(0, BODY_MATCH_LIMIT_BYTES - body.length)]);
        if (body.includes(needle)) finish(true, `status ${status}, body matched`);
        else if (body.length >= BODY_MATCH_LIMIT_BYTES) finish(false, notFound);
      });
      response.on('end', () => finish(false, notFound));
    });
    attempt.hold(request);
    request.on('error', (error) => finish(false, describeNetworkError(error)));
    request.end();
  });
}

interface PreparedProbe {
  readonly url: URL;
  readonly ranges: readonly StatusRange[];
  readonly rangesText: string;
  readonly needle: Buffer | null;
}

/** Validated options, or the reason they are unusable. */
function prepare(options: HttpProbeOptions): PreparedProbe | string {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) return `invalid timeoutMs ${String(options.timeoutMs)}`;
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    return `invalid url ${JSON.stringify(options.url)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `unsupported url scheme ${url.protocol}`;
  const refused = options.policy?.literalRefusal(url.hostname) ?? null;
  if (refused !== null) return refused;
  const rangesText = (options.expectedStatus ?? DEFAULT_EXPECTED_STATUS).replace(/\s+/g, '');
  let ranges: readonly StatusRange[];
  try {
    ranges = parseStatusRanges(rangesText);
  } catch (error) {
    return (error as Error).message;
  }
  const needle = options.bodyContains ? Buffer.from(options.bodyContains, 'utf8') : null;
  if (needle !== null && needle.length > BODY_MATCH_LIMIT_BYTES) return 'bodyContains is longer than the searched body';
  return { url, ranges, rangesText, needle };
}
