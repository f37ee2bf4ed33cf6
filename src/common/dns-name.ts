/**
 * Host and domain names as the API accepts them: LDH labels (RFC 1035 §2.3.1, RFC 1123), each
 * 1-63 octets, the whole name at most 253 characters in text form (255 on the wire), an optional
 * "*" as the leftmost label of a record name (RFC 4592), internationalised names only in A-label
 * form (xn--). Names are stored lower case without the trailing dot.
 */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const UNDERSCORE_LABEL = /^_[a-z0-9-]{1,62}$/; // service labels such as _dmarc, _acme-challenge

export function normalizeName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** Returns null when valid, else the rule that failed. */
export function checkDomainName(name: string, opts: { allowWildcard?: boolean; allowUnderscore?: boolean } = {}): string | null {
  const n = normalizeName(name);
  if (n.length === 0) return 'must not be empty';
  if (n.length > 253) return 'must be at most 253 characters';
  const labels = n.split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l.length === 0) return 'must not contain an empty label (..)';
    if (l.length > 63) return `label "${l.slice(0, 20)}…" is longer than 63 characters`;
    if (l === '*') {
      if (!opts.allowWildcard || i !== 0) return 'a "*" label is only allowed as the leftmost label of a record name';
      continue;
    }
    if (opts.allowUnderscore && UNDERSCORE_LABEL.test(l)) continue;
    if (!LABEL.test(l)) {
      return `label "${l}" must contain only letters, digits and inner hyphens (internationalised names in xn-- form)`;
    }
  }
  return null;
}

/** True when `name` is `zone` or below it. Both normalised. */
export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith('.' + zone);
}
