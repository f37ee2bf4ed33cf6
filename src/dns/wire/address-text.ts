/**
 * Address octets -> text, for ECS addresses on the query path (no ipaddr.js objects there).
 * IPv6 follows RFC 5952 (lower case, no leading zeros, the longest run of two or more zero
 * groups, the first on a tie, written as "::").
 */

export function ipv4Text(b: Uint8Array): string {
  return b[0] + '.' + b[1] + '.' + b[2] + '.' + b[3];
}

export function ipv6Text(b: Uint8Array): string {
  let bestStart = -1;
  let bestLength = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const zero = b[2 * i] === 0 && b[2 * i + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = i;
      const runLength = i - runStart + 1;
      if (runLength > bestLength) {
        bestLength = runLength;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }
  if (bestLength < 2) bestStart = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLength - 1;
      continue;
    }
    s += ((b[2 * i] << 8) | b[2 * i + 1]).toString(16);
    if (i < 7) s += ':';
  }
  return s;
}
