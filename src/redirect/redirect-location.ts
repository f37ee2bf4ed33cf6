/**
 * Builds a redirect Location from a registered base URL and the request's path and query, such
 * that no input can change the scheme, host or port, nor climb above the base path.
 */
const KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@/?]/;
export const MAX_TAIL_LENGTH = 4096;

export type LocationResult = { ok: true; location: string } | { ok: false; status: 400 | 414; detail: string };

/** Percent-encodes what may not stand raw in a URL (backslashes, controls, non-ASCII), keeping valid %XX escapes. */
export function encodeTail(tail: string): string {
  let out = '';
  for (let i = 0; i < tail.length; i++) {
    const c = tail[i];
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(tail.slice(i + 1, i + 3))) out += c;
    else if (KEEP.test(c)) out += c;
    else out += encodeURIComponent(c).replace(/%25/g, '%25');
  }
  return out;
}

export function buildLocation(baseUrl: string, rawTail: string): LocationResult {
  if (rawTail.length > MAX_TAIL_LENGTH) return { ok: false, status: 414, detail: `path and query are longer than ${MAX_TAIL_LENGTH} characters` };
  const raw = rawTail === '' ? '/' : rawTail.startsWith('/') ? rawTail : `/${rawTail}`;
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  // Backslashes count as separators here: some servers treat them as "/".
  for (const segment of rawPath.split(/[/\\]/)) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { ok: false, status: 400, detail: 'path has a malformed percent-encoding' };
    }
    if (decoded === '.' || decoded === '..') return { ok: false, status: 400, detail: 'path must not contain "." or ".." segments' };
    if (/%(2f|5c|[01][0-9a-f]|7f)/i.test(segment)) {
      // An encoded slash, backslash or control character: some servers decode it into a
      // separator or a header break; refuse rather than guess.
      return { ok: false, status: 400, detail: 'path segments must not hide "/", "\\" or control characters in percent-encoding' };
    }
  }
  const tail = encodeTail(raw);
  const base = new URL(baseUrl);
  const location = baseUrl.replace(/\/+$/, '') + tail;
  let parsed: URL;
  try {
    parsed = new URL(location);
  } catch {
    return { ok: false, status: 400, detail: 'path does not form a valid URL' };
  }
  const basePath = base.pathname.replace(/\/+$/, '');
  if (parsed.origin !== base.origin || !parsed.pathname.startsWith(basePath)) {
    return { ok: false, status: 400, detail: 'path would leave the region base URL' };
  }
  return { ok: true, location };
}

/**
 * buildLocation with the successful answers remembered per base URL (the redirect fast path):
 * a site's redirected paths repeat (/login, /download), and building one parses two URLs. At most
 * `perBase` tails a base URL; a full table is emptied and starts again. Refusals are not kept
 * (they go to the slower path, which answers them with a problem document).
 */
export class LocationCache {
  private readonly byBase = new Map<string, Map<string, string>>();

  constructor(private readonly perBase = 2048) {}

  build(baseUrl: string, rawTail: string): LocationResult {
    let tails = this.byBase.get(baseUrl);
    const known = tails?.get(rawTail);
    if (known !== undefined) return { ok: true, location: known };
    const built = buildLocation(baseUrl, rawTail);
    if (!built.ok) return built;
    if (tails === undefined) {
      if (this.byBase.size >= 256) this.byBase.clear();
      tails = new Map();
      this.byBase.set(baseUrl, tails);
    } else if (tails.size >= this.perBase) {
      tails.clear();
    }
    tails.set(rawTail, built.location);
    return built;
  }
}
