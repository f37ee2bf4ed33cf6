import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import express from 'express';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { SpooledBody, spooledBody } from './spooled-body';

/** A real Express server with the middleware; the handler describes what it received. */
async function serve(limitBytes: number): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(spooledBody({ type: ['text/plain'], limitBytes }));
  app.put('/', (req, res) => {
    const body: unknown = req.body;
    if (body instanceof SpooledBody) {
      res.json({
        kind: 'spooled',
        length: body.length,
        text: fs.readFileSync(body.file, 'utf8'),
        mode: fs.statSync(body.file).mode & 0o777,
        file: body.file,
      });
    } else {
      res.json({ kind: Buffer.isBuffer(body) ? 'buffer' : typeof body, text: Buffer.isBuffer(body) ? body.toString('utf8') : null });
    }
  });
  app.use((err: { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ type: err.type ?? null });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A PUT whose body is written in `parts` (no Content-Length when `chunked`). */
function put(url: string, parts: Buffer[], headers: Record<string, string>, chunked = false): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const length = parts.reduce((n, p) => n + p.length, 0);
    const req = http.request(url, { method: 'PUT', headers: chunked ? headers : { ...headers, 'content-length': String(length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('spooledBody', () => {
  let server: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    server = await serve(300_000);
  });
  afterAll(async () => {
    await server.close();
  });

  it('writes a large body to a private file as it arrives, removed once the response is done', async () => {
    const text = '1|2|-1\n'.repeat(40_000); // 280,000 bytes, several socket reads
    const res = await put(server.url, [Buffer.from(text.slice(0, 100_000)), Buffer.from(text.slice(100_000))], { 'content-type': 'text/plain' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'spooled', length: text.length, text, mode: 0o600 });
    expect(String(res.json.file).startsWith(os.tmpdir())).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(String(res.json.file))).toBe(false);
  });

  it('takes a body sent without Content-Length (chunked transfer encoding)', async () => {
    const res = await put(server.url, [Buffer.from('1|2|-1\n'), Buffer.from('2|3|0\n')], { 'content-type': 'text/plain' }, true);
    expect(res.json).toMatchObject({ kind: 'spooled', text: '1|2|-1\n2|3|0\n' });
  });

  it('answers 413 (entity.too.large) from a Content-Length over the limit, and from bytes that pass it', async () => {
    const big = Buffer.alloc(300_001, 0x31);
    expect(await put(server.url, [big], { 'content-type': 'text/plain' })).toEqual({ status: 413, json: { type: 'entity.too.large' } });
    expect(await put(server.url, [big.subarray(0, 200_000), big.subarray(200_000)], { 'content-type': 'text/plain' }, true)).toEqual({ status: 413, json: { type: 'entity.too.large' } });
  });

  it('leaves compressed bodies to express.raw (inflated, one Buffer) and other types alone', async () => {
    const gz = zlib.gzipSync(Buffer.from('1|2|-1\n'));
    expect((await put(server.url, [gz], { 'content-type': 'text/plain', 'content-encoding': 'gzip' })).json).toEqual({ kind: 'buffer', text: '1|2|-1\n' });
    expect((await put(server.url, [Buffer.from('{}')], { 'content-type': 'application/xml' })).json).toMatchObject({ kind: 'undefined' });
  });
});
