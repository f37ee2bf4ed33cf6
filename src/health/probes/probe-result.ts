/** What every probe returns. Probes never throw: failures are `ok: false` with a reason. */
export interface ProbeResult {
  readonly ok: boolean;
  /** From the start of the probe to its verdict, in milliseconds. */
  readonly latencyMs: number;
  /** For operators: 'status 200', 'connected', 'timeout after 2000 ms', 'connection refused', ... */
  readonly reason: string;
}

/** Where a probe may connect (common/outbound-policy.ts's OutboundPolicy fits). */
export interface OutboundGuard {
  /** The refusal for a host that is an IP literal, or null (names are left to `lookup`). */
  literalRefusal(host: string): string | null;
  /** Resolves names to allowed addresses only; fails with code ERR_OUTBOUND_POLICY. */
  readonly lookup: import('node:net').LookupFunction;
}

export function probeResult(ok: boolean, startedAt: number, reason: string): ProbeResult {
  return Object.freeze({ ok, latencyMs: Math.round((performance.now() - startedAt) * 100) / 100, reason });
}

/** What a probe's `connect` step gets: the way to settle, and where to hand the connection to release. */
export interface ProbeAttempt {
  /** Settles the probe with a verdict; only the first call counts. */
  finish(ok: boolean, reason: string): void;
  /** Whether a verdict was reached (late events should do nothing). */
  readonly settled: boolean;
  /** The connection to destroy when the probe settles, however it settles. */
  hold(connection: { destroy(): void }): void;
}

/**
 * The frame every probe shares: exactly one verdict however many events race for it, the time-out
 * (`timeout after N ms`), the abort signal (`aborted`), and the connection destroyed on the verdict.
 * `prepare` checks the options first and returns the reason they are unusable, or what `connect`
 * needs; `connect` opens the connection and settles through the attempt. A throw from `connect`
 * is a failed probe. Never rejects.
 */
export function settleProbe<T>(
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  prepare: () => T | string,
  connect: (prepared: T, attempt: ProbeAttempt) => void,
): Promise<ProbeResult> {
  const startedAt = performance.now();
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    let connection: { destroy(): void } | undefined;
    let timer: NodeJS.Timeout | undefined = undefined;
    const onAbort = () => finish(false, 'aborted');

    function finish(ok: boolean, reason: string): void {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      connection?.destroy();
      resolve(probeResult(ok, startedAt, reason));
    }

    const prepared = prepare();
    if (typeof prepared === 'string') return finish(false, prepared);
    if (options.signal?.aborted) return finish(false, 'aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => finish(false, `timeout after ${options.timeoutMs} ms`), options.timeoutMs);
    const attempt: ProbeAttempt = {
      finish,
      get settled() {
        return settled;
      },
      hold: (c) => {
        connection = c;
      },
    };
    try {
      connect(prepared, attempt);
    } catch (error) {
      finish(false, describeNetworkError(error));
    }
  });
}

const TLS_CODES = /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH$)/;

/** A short reason for a socket, DNS or TLS error. */
export function describeNetworkError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message.length > 0 ? message : String(error);
  switch (code) {
    case 'ERR_OUTBOUND_POLICY':
      return text;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `name lookup failed (${code})`;
  }
  // Node.js 26 appends advice for the operator of the client ("...; if the root CA is installed
  // locally, try running Node.js with --use-system-ca"): not about the region, and not the same
  // text on every supported Node.js, so it is left out.
  if (typeof code === 'string' && TLS_CODES.test(code)) return `tls: ${text.replace(/[;,.]?\s*[^;]*--use-system-ca\S*\s*$/, '')} (${code})`;
  // Anything else: the code only (messages may carry addresses and ports — the API shows reasons
  // to every token holder, and a reason should say no more than an operator needs).
  if (typeof code === 'string') return `network error (${code})`;
  return /^[a-z][a-z ]{0,60}$/i.test(text) ? text : 'network error';
}
