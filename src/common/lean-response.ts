import type { IncomingMessage, ServerResponse } from 'node:http';

/** A header list as node:http's writeHead takes it flat: name, value, name, value, ... */
export type FlatHeaders = (string | number)[];

/** Express-style middleware that only sets headers (helmet's). */
type HeaderMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The headers every response of the server carries (helmet's security headers), computed once and
 * written in one `writeHead` by the lean answerers in front of Express (issue 22).
 *
 * Why: helmet sets eleven headers per request with `res.setHeader`, each one validated,
 * lower-cased and stored in a dictionary-mode object before node:http serialises them again; on a
 * redirect that was a fifth of the request's CPU. Here the middleware runs once against a
 * recorder, at start-up, and the list it set is kept. Requests Express answers still get them
 * with setHeader (`setOn`), so both paths send the same names and values.
 *
 * Contract: the middleware must set the same headers whatever the request (helmet's do: no
 * nonces, no per-request directives); `fromMiddleware` refuses one that answers, fails or
 * does not call next.
 */
export class ServerHeaders {
  static readonly none = new ServerHeaders([]);

  private constructor(private readonly flat: readonly string[]) {}

  static fromMiddleware(middleware: HeaderMiddleware): ServerHeaders {
    const set = new Map<string, [string, string]>();
    const recorder = {
      setHeader(name: string, value: string | number | readonly string[]) {
        if (Array.isArray(value)) throw new Error(`server headers: ${name} has several values`);
        set.set(name.toLowerCase(), [name, String(value)]);
        return recorder;
      },
      removeHeader(name: string) {
        set.delete(name.toLowerCase());
      },
      getHeader(name: string) {
        return set.get(name.toLowerCase())?.[1];
      },
      hasHeader(name: string) {
        return set.has(name.toLowerCase());
      },
    };
    let passed = false;
    middleware({ method: 'GET', url: '/', headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
      if (err !== undefined) throw err instanceof Error ? err : new Error(String(err));
      passed = true;
    });
    if (!passed) throw new Error('server headers: the middleware did not call next()');
    return new ServerHeaders([...set.values()].flat());
  }

  /** Name/value pairs, for tests and documentation. */
  entries(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.flat.length; i += 2) out.push([this.flat[i], this.flat[i + 1]]);
    return out;
  }

  /** Sets every header on a response Express will answer (as the middleware would have). */
  setOn(res: ServerResponse): void {
    const flat = this.flat;
    for (let i = 0; i < flat.length; i += 2) res.setHeader(flat[i], flat[i + 1]);
  }

  /**
   * Writes the status line and headers of a lean answer: these headers, then `own` (the
   * answer's). When a listener before the answerer set headers already (another server-wide
   * listener), those are kept except where these name the same header (as with Express, where
   * `setOn` runs after such listeners), through the slower setHeader path.
   */
  writeHead(res: ServerResponse, status: number, own: FlatHeaders): void {
    const flat = this.flat;
    if (res.getHeaderNames().length === 0) {
      res.writeHead(status, flat.length === 0 ? own : flat.concat(own as string[]));
      return;
    }
    this.setOn(res);
    for (let i = 0; i < own.length; i += 2) res.setHeader(own[i] as string, own[i + 1]);
    res.writeHead(status);
  }
}
