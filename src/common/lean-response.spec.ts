import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from 'helmet';
import { ServerHeaders } from './lean-response';

/** A real server whose one listener is `listener`; returns the raw header list of one GET. */
async function rawHeadersOf(listener: http.RequestListener, before?: http.RequestListener): Promise<{ status: number; raw: string[] }> {
  const server = http.createServer();
  if (before) server.on('request', before);
  server.on('request', listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders }));
        })
        .on('error', reject);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const pairs = (raw: string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) if (!['date', 'connection', 'keep-alive'].includes(raw[i].toLowerCase())) out.push([raw[i], raw[i + 1]]);
  return out;
};

describe('ServerHeaders', () => {
  const middleware = helmet({ strictTransportSecurity: false, contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  const headers = ServerHeaders.fromMiddleware(middleware);

  it("records helmet's headers once, as helmet sets them on a real response", async () => {
    const viaHelmet = await rawHeadersOf((req, res) =>
      middleware(req, res, () => {
        res.writeHead(204);
        res.end();
      }),
    );
    expect(headers.entries().length).toBeGreaterThanOrEqual(10);
    expect(headers.entries()).toEqual(pairs(viaHelmet.raw));
    expect(headers.entries().map(([name]) => name)).toEqual(expect.arrayContaining(['Content-Security-Policy', 'X-Content-Type-Options', 'X-Frame-Options', 'Referrer-Policy']));
    expect(headers.entries().some(([name]) => name.toLowerCase() === 'strict-transport-security')).toBe(false);
  });

  it('writeHead sends the recorded headers and the answer own, in one status line', async () => {
    const got = await rawHeadersOf((_req, res) => {
      headers.writeHead(res, 307, ['Location', 'https://euw.web.test/', 'Content-Length', 0]);
      res.end();
    });
    expect(got.status).toBe(307);
    expect(pairs(got.raw)).toEqual([...headers.entries(), ['Location', 'https://euw.web.test/'], ['Content-Length', '0']]);
  });

  it('keeps what an earlier listener set, except the names it sets itself', async () => {
    const got = await rawHeadersOf(
      (_req, res) => {
        headers.writeHead(res, 200, ['Content-Length', 0]);
        res.end();
      },
      (_req, res) => {
        res.setHeader('X-Earlier', 'kept');
        res.setHeader('X-Frame-Options', 'DENY');
      },
    );
    const map = new Map(pairs(got.raw).map(([k, v]) => [k.toLowerCase(), v]));
    expect([got.status, map.get('x-earlier'), map.get('x-frame-options'), map.get('x-content-type-options')]).toEqual([200, 'kept', 'SAMEORIGIN', 'nosniff']);
  });

  it('setOn sets them for a response answered elsewhere', async () => {
    const got = await rawHeadersOf((_req, res) => {
      headers.setOn(res);
      res.statusCode = 404;
      res.end();
    });
    expect(got.status).toBe(404);
    expect(pairs(got.raw).filter(([k]) => k !== 'Content-Length')).toEqual(headers.entries());
  });

  it('refuses middleware that does not simply set headers', () => {
    expect(() => ServerHeaders.fromMiddleware(() => undefined)).toThrow(/did not call next/);
    expect(() => ServerHeaders.fromMiddleware((_req, _res, next) => next(new Error('boom')))).toThrow(/boom/);
    expect(() => ServerHeaders.fromMiddleware((_req, res, next) => (res.setHeader('Vary', ['a', 'b']), next()))).toThrow(/several values/);
  });

  it('none adds nothing', async () => {
    const got = await rawHeadersOf((_req, res) => {
      ServerHeaders.none.writeHead(res, 204, []);
      res.end();
    });
    expect([got.status, pairs(got.raw)]).toEqual([204, []]);
  });
});
