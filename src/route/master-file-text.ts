/**
 * Character strings in a master file (RFC 1035 §5.1), pure. Inside the quotes, `"` and `\` are
 * escaped with a backslash and every octet that is not printable ASCII (control characters such
 * as CR and LF, DEL, and the bytes of non-ASCII UTF-8) is written `\DDD`, its decimal value in
 * three digits. An exported file therefore holds one record per line whatever a TXT value
 * contains: no `$ORIGIN` or `$INCLUDE` line can be smuggled in through a value.
 */

/** The longest character-string (RFC 1035 §3.3: a length octet). */
export const CHARACTER_STRING_MAX_OCTETS = 255;

/** One quoted character-string for these octets (at most 255). */
export function quoteCharacterString(octets: Uint8Array): string {
  let out = '"';
  for (const b of octets) {
    if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += '\\' + String(b).padStart(3, '0');
  }
  return out + '"';
}

/** A TXT value as one or more quoted character-strings of at most 255 octets each. */
export function txtRdata(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += CHARACTER_STRING_MAX_OCTETS) {
    chunks.push(quoteCharacterString(bytes.subarray(i, i + CHARACTER_STRING_MAX_OCTETS)));
  }
  return chunks.join(' ');
}
