import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BODY_MATCH_LIMIT_BYTES, probeHttp } from './http.probe';

const NEEDLE = 'STATUS-OK-MARKER';

/** Writes `prefix` filler bytes, then NEEDLE, then more filler, in 4000-byte chunks (not aligned to 64 KiB). */
function writeBody(res: http.ServerResponse, prefix: number): void {
  const body = Buffer.concat([Buffer.alloc(prefix, 'a'), Buffer.from(NEEDLE), Buffer.alloc(10_000, 'z')]);
  for (let offset = 0; offset < body.length; offset += 4000) res.write(body.subarray(offset, offset + 4000));
  res.end();
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/ok':
      res.end(`hello ${NEEDLE}`);
      return;
    case '/status': {
      res.statusCode = Number(url.searchParams.get('code'));
      res.end('status');
      return;
    }
    case '/redirect':
      res.writeHead(301, { location: url.searchParams.get('to') ?? '/ok' });
      res.end();
      return;
    case '/body':
      writeBody(res, Number(url.searchParams.get('at')));
      return;
    case '/stall-body':
      res.writeHead(200);
      res.write('partial');
      return; // never ends
    case '/hang':
      return; // never answers
    default:
      res.statusCode = 404;
      res.end();
  }
}

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: http.Server | https.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

describe('probeHttp against a local server', () => {
  const server = http.createServer(handler);
  const sockets = new Set<Socket>();
  let base: string;
  beforeAll(async () => {
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => close(server));

  it('passes on 200 and measures latency', async () => {
    const result = await probeHttp({ url: `${base}/ok`, timeoutMs: 2000 });
    expect(result).toEqual({ ok: true, latencyMs: expect.any(Number), reason: 'status 200' });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.latencyMs).toBeLessThan(2000);
  });

  it.each([
    [204, '200-399', true, 'status 204'],
    [302, '200-399', true, 'status 302'],
    [404, '200-399', false, 'status 404 not in 200-399'],
    [503, '200-399', false, 'status 503 not in 200-399'],
    [204, '200,204', true, 'status 204'],
    [201, '200, 204', false, 'status 201 not in 200,204'],
    [503, '2xx,503', true, 'status 503'],
  ])('status %d with expectedStatus %j: ok=%s', async (code, expectedStatus, ok, reason) => {
    const result = await probeHttp({ url: `${base}/status?code=${code}`, timeoutMs: 2000, expectedStatus });
    expect(result).toMatchObject({ ok, reason });
  });

  it('does not follow a redirect: judges the 3xx by its status', async () => {
    const target = http.createServer((_req, res) => res.end('followed'));
    let hits = 0;
    target.on('request', () => hits++);
    const targetUrl = `http://127.0.0.1:${await listen(target)}/`;
    try {
      const url = `${base}/redirect?to=${encodeURIComponent(targetUrl)}`;
      expect(await probeHttp({ url, timeoutMs: 2000 })).toMatchObject({ ok: true, reason: 'status 301' });
      expect(await probeHttp({ url, timeoutMs: 2000, expectedStatus: '200' })).toMatchObject({
        ok: false,
        reason: 'status 301 not in 200',
      });
      expect(await probeHttp({ url, timeoutMs: 2000, bodyContains: 'followed' })).toMatchObject({ ok: false });
      expect(hits).toBe(0);
    } finally {
      await close(target);
    }
  });

  it('finds the body string in a small body', async () => {
    expect(await probeHttp({ url: `${base}/ok`, timeoutMs: 2000, bodyContains: NEEDLE })).toMatchObject({
      ok: true,
      reason: 'status 200, body matched',
    });
  });

  it('fails when the body does not contain the string', async () => {
    const result = await probeHttp({ url: `${base}/ok`, timeoutMs: 2000, bodyContains: 'absent' });
    expect(result).toMatchObject({
      ok: false,
      reason: `status 200, body does not contain "absent" in the first ${BODY_MATCH_LIMIT_BYTES} bytes`,
    });
  });

  it.each([
    ['early in the body', 1000, true],
    ['across a chunk boundary', 3990, true],
    ['ending on the last byte of the first 64 KiB', BODY_MATCH_LIMIT_BYTES - NEEDLE.length, true],
    ['straddling the 64 KiB limit', BODY_MATCH_LIMIT_BYTES - 4, false],
    ['past the first 64 KiB', BODY_MATCH_LIMIT_BYTES + 100, false],
  ])('body string %s (at byte %d): ok=%s', async (_name, at, ok) => {
    const result = await probeHttp({ url: `${base}/body?at=${at}`, timeoutMs: 5000, bodyContains: NEEDLE });
    expect(result).toMatchObject(
      ok
        ? { ok: true, reason: 'status 200, body matched' }
        : { ok: false, reason: `status 200, body does not contain "${NEEDLE}" in the first ${BODY_MATCH_LIMIT_BYTES} bytes` },
    );
  });

  it('times out on a server that never answers, and closes the connection', async () => {
    const result = await probeHttp({ url: `${base}/hang`, timeoutMs: 200 });
    expect(result).toMatchObject({ ok: false, reason: 'timeout after 200 ms' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(195);
    expect(result.latencyMs).toBeLessThan(1500);
    await waitFor(() => sockets.size === 0);
    expect(sockets.size).toBe(0);
  });

  it('times out on a body that never ends while looking for the string', async () => {
    const result = await probeHttp({ url: `${base}/stall-body`, timeoutMs: 200, bodyContains: NEEDLE });
    expect(result).toMatchObject({ ok: false, reason: 'timeout after 200 ms' });
  });

  it('reports connection refused on a closed port', async () => {
    const port = await closedPort();
    expect(await probeHttp({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2000 })).toMatchObject({
      ok: false,
      reason: 'connection refused',
    });
  });

  it('reports a failed name lookup', async () => {
    const lookup = ((_host: string, _options: unknown, callback: (error: NodeJS.ErrnoException) => void) => {
      callback(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    }) as unknown as import('node:net').LookupFunction;
    expect(await probeHttp({ url: 'http://region.invalid/', timeoutMs: 2000, lookup })).toMatchObject({
      ok: false,
      reason: 'name lookup failed (ENOTFOUND)',
    });
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = probeHttp({ url: `${base}/hang`, timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    expect(result).toMatchObject({ ok: false, reason: 'aborted' });
    expect(result.latencyMs).toBeLessThan(1000);
  });

  it.each([
    [{ url: 'not a url', timeoutMs: 1000 }, 'invalid url "not a url"'],
    [{ url: 'ftp://127.0.0.1/', timeoutMs: 1000 }, 'unsupported url scheme ftp:'],
    [{ url: 'http://127.0.0.1/', timeoutMs: 0 }, 'invalid timeoutMs 0'],
    [{ url: 'http://127.0.0.1/', timeoutMs: 1000, expectedStatus: '2xx-3xx' }, "expected status: '2xx-3xx' is not a code"],
  ])('returns ok:false for unusable options %j', async (options, reason) => {
    const result = await probeHttp(options);
    expect(result.ok).toBe(false);
    expect(result.reason).toContain(reason);
  });
});

describe('probeHttp over HTTPS with a self-signed certificate (generated with openssl)', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georoute-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    server = https.createServer({ key: await fs.readFile(key), cert: await fs.readFile(cert) }, handler);
    url = `https://127.0.0.1:${await listen(server)}/ok`;
  });
  afterAll(async () => {
    await close(server);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails certificate validation by default', async () => {
    const result = await probeHttp({ url, timeoutMs: 3000 });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^tls: .*self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/);
  });

  it('passes with insecureSkipVerify', async () => {
    expect(await probeHttp({ url, timeoutMs: 3000, insecureSkipVerify: true, bodyContains: NEEDLE })).toMatchObject({
      ok: true,
      reason: 'status 200, body matched',
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
