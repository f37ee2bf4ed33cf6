import type { NextFunction, Request, RequestHandler, Response } from 'express';
import * as express from 'express';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A request body written to a file as it arrives (in a private temporary folder, removed when the
 * response is done). An 18 MB topology kept in memory until its end is promoted to the old
 * generation and then collected by a full GC on the event loop that answers DNS (a 30 ms pause in
 * a profiled upload); written out piece by piece, each piece dies young. The anycast worker reads
 * the file itself.
 */
export class SpooledBody {
  constructor(
    readonly file: string,
    readonly length: number,
  ) {}
}

/** An error shaped like body-parser's (ProblemFilter turns `type` and `status` into a problem document). */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, type, expose: true });
}

/**
 * express.raw({ type, limit }) for identity-encoded bodies, with the body as a SpooledBody (not
 * one Buffer): the same limit (413 from Content-Length before reading, or once the bytes pass it,
 * after the rest is read off), 400 when the bytes do not match Content-Length or the client goes
 * away. Compressed bodies (Content-Encoding) and other content types go to express.raw as before.
 */
export function spooledBody(options: { type: string[]; limitBytes: number }): RequestHandler {
  const fallback = express.raw({ type: options.type, limit: options.limitBytes });
  return (req: Request, res: Response, next: NextFunction) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity' || req.complete || !req.is(options.type)) {
      fallback(req, res, next);
      return;
    }
    const header = req.headers['content-length'];
    const declared = header === undefined ? null : Number(header);
    let received = 0;
    let failure: Error | null = declared !== null && declared > options.limitBytes ? bodyError(413, 'entity.too.large', 'request entity too large') : null;
    let finished = false;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-body-'));
    const file = path.join(dir, 'body');
    res.once('close', () => fs.rm(dir, { recursive: true, force: true }, () => undefined));
    const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
    const finish = (err: Error | null) => {
      if (finished) return;
      finished = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err !== null) {
        out.destroy();
        next(err);
        return;
      }
      out.end(() => {
        req.body = new SpooledBody(file, received);
        next();
      });
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (failure !== null) return; // read off and dropped, as body-parser does
      if (received > options.limitBytes) {
        failure = bodyError(413, 'entity.too.large', 'request entity too large');
        return;
      }
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => req.resume());
      }
    };
    const onEnd = () => {
      if (failure === null && declared !== null && received !== declared) failure = bodyError(400, 'request.size.invalid', 'request size did not match content length');
      finish(failure);
    };
    const onError = () => finish(bodyError(400, 'request.aborted', 'request aborted'));
    const onClose = () => finish(bodyError(400, 'request.aborted', 'request aborted'));
    out.on('error', (err) => finish(Object.assign(err, { status: 500 })));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  };
}
