/** What every probe returns. Probes never throw: failures are `ok: false` with a reason. */
export interface ProbeResult {
  readonly ok: boolean;
  /** From the start of the probe to its verdict, in milliseconds. */
  readonly latencyMs: number;
  /** For operators: 'status 200', 'connected', 'timeout after 2000 ms', 'connection refused', ... */
  readonly reason: string;
}

export function probeResult(ok: boolean, startedAt: number, reason: string): ProbeResult {
  return Object.freeze({ ok, latencyMs: Math.round((performance.now() - startedAt) * 100) / 100, reason });
}

const TLS_CODES = /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH$)/;

/** A short reason for a socket, DNS or TLS error. */
export function describeNetworkError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message.length > 0 ? message : String(error);
  switch (code) {
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
  if (typeof code === 'string' && TLS_CODES.test(code)) return `tls: ${text} (${code})`;
  return typeof code === 'string' ? `${text} (${code})` : text;
}
