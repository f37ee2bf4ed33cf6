/**
 * TCP health probe: connect, then close. Passes when the connection is accepted within
 * `timeoutMs` (which bounds DNS and connect together). Never throws or rejects.
 */
import * as net from 'node:net';
import { describeNetworkError, probeResult, type ProbeResult } from './probe-result';

export interface TcpProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Aborts the probe (result: 'aborted'). */
  readonly signal?: AbortSignal;
  /** Replaces DNS resolution (e.g. to refuse private addresses). */
  readonly lookup?: net.LookupFunction;
}

export function probeTcp(options: TcpProbeOptions): Promise<ProbeResult> {
  const startedAt = performance.now();
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    let socket: net.Socket | undefined;
    let timer: NodeJS.Timeout | undefined = undefined;
    const onAbort = () => finish(false, 'aborted');

    function finish(ok: boolean, reason: string): void {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve(probeResult(ok, startedAt, reason));
    }

    const { host, port, timeoutMs } = options;
    if (typeof host !== 'string' || host.length === 0) return finish(false, 'invalid host');
    if (!Number.isInteger(port) || port < 1 || port > 65535) return finish(false, `invalid port ${String(port)}`);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return finish(false, `invalid timeoutMs ${String(timeoutMs)}`);
    if (options.signal?.aborted) return finish(false, 'aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => finish(false, `timeout after ${timeoutMs} ms`), timeoutMs);
    try {
      socket = net.connect({ host, port, ...(options.lookup ? { lookup: options.lookup } : {}) });
      socket.on('connect', () => finish(true, 'connected'));
      socket.on('error', (error) => finish(false, describeNetworkError(error)));
    } catch (error) {
      finish(false, describeNetworkError(error));
    }
  });
}
