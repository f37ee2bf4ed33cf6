/**
 * TCP health probe: connect, then close. Passes when the connection is accepted within
 * `timeoutMs` (which bounds DNS and connect together). Never throws or rejects.
 */
import * as net from 'node:net';
import { describeNetworkError, settleProbe, type OutboundGuard, type ProbeResult } from './probe-result';

export interface TcpProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Aborts the probe (result: 'aborted'). */
  readonly signal?: AbortSignal;
  /** Replaces DNS resolution (e.g. to refuse private addresses). */
  readonly lookup?: net.LookupFunction;
  /** The outbound policy (common/outbound-policy.ts): checks an IP-literal host, resolves names (replaces `lookup`). */
  readonly policy?: OutboundGuard;
}

export function probeTcp(options: TcpProbeOptions): Promise<ProbeResult> {
  const { host, port, timeoutMs } = options;
  const prepare = (): true | string => {
    if (typeof host !== 'string' || host.length === 0) return 'invalid host';
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `invalid port ${String(port)}`;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return `invalid timeoutMs ${String(timeoutMs)}`;
    return options.policy?.literalRefusal(host) ?? true;
  };
  return settleProbe(options, prepare, (_ok, attempt) => {
    const lookup = options.policy?.lookup ?? options.lookup;
    const socket = net.connect({ host, port, ...(lookup ? { lookup } : {}) });
    attempt.hold(socket);
    socket.on('connect', () => attempt.finish(true, 'connected'));
    socket.on('error', (error) => attempt.finish(false, describeNetworkError(error)));
  });
}
