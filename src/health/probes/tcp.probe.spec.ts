import type { LookupFunction } from 'node:net';
import * as net from 'node:net';
import { probeTcp } from './tcp.probe';

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function close(server: net.Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A resolver that never answers: the connect cannot start, so only the time-out can end the probe. */
const silentLookup = (() => undefined) as unknown as LookupFunction;

describe('probeTcp', () => {
  it('passes when the connection is accepted, and closes it', async () => {
    const closed: Promise<void>[] = [];
    const server = net.createServer((socket) => closed.push(new Promise((resolve) => socket.on('close', () => resolve()))));
    const port = await listen(server);
    try {
      const result = await probeTcp({ host: '127.0.0.1', port, timeoutMs: 2000 });
      expect(result).toEqual({ ok: true, latencyMs: expect.any(Number), reason: 'connected' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(closed).toHaveLength(1);
      await closed[0];
    } finally {
      await close(server);
    }
  });

  it('passes for a host name', async () => {
    const server = net.createServer((socket) => socket.destroy());
    const port = await listen(server);
    try {
      const lookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
        if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      }) as unknown as LookupFunction;
      expect(await probeTcp({ host: 'region.example', port, timeoutMs: 2000, lookup })).toMatchObject({ ok: true });
    } finally {
      await close(server);
    }
  });

  it('reports connection refused on a closed port', async () => {
    const server = net.createServer();
    const port = await listen(server);
    await close(server);
    expect(await probeTcp({ host: '127.0.0.1', port, timeoutMs: 2000 })).toMatchObject({
      ok: false,
      reason: 'connection refused',
    });
  });

  it('times out when the connection cannot be made in time', async () => {
    const result = await probeTcp({ host: 'region.example', port: 443, timeoutMs: 150, lookup: silentLookup });
    expect(result).toMatchObject({ ok: false, reason: 'timeout after 150 ms' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(145);
    expect(result.latencyMs).toBeLessThan(1500);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = probeTcp({ host: 'region.example', port: 443, timeoutMs: 5000, lookup: silentLookup, signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, reason: 'aborted' });
  });

  it.each([
    [{ host: '', port: 80, timeoutMs: 100 }, 'invalid host'],
    [{ host: '127.0.0.1', port: 0, timeoutMs: 100 }, 'invalid port 0'],
    [{ host: '127.0.0.1', port: 70000, timeoutMs: 100 }, 'invalid port 70000'],
    [{ host: '127.0.0.1', port: 80, timeoutMs: -1 }, 'invalid timeoutMs -1'],
  ])('returns ok:false for unusable options %j', async (options, reason) => {
    expect(await probeTcp(options)).toMatchObject({ ok: false, reason });
  });
});
