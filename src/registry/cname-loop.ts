/**
 * CNAME loops within one zone (RFC 1034 §3.6.2: a CNAME chain must end in data, and a resolver
 * following a loop only gives up after its chain limit). Pure: the zone's CNAMEs are an argument.
 */

/**
 * The chain that adding `owner CNAME target` would close into a loop, owner first and owner
 * last (`["a.example.com", "b.example.com", "a.example.com"]`), or null when it ends outside the
 * zone's CNAMEs. Names are normalised (lower case, no trailing dot); `existing` maps each
 * CNAME owner in the zone to its target.
 */
export function cnameLoop(owner: string, target: string, existing: ReadonlyMap<string, string>): string[] | null {
  const chain = [owner];
  const seen = new Set([owner]);
  let next: string | undefined = target;
  while (next !== undefined) {
    chain.push(next);
    if (next === owner) return chain;
    // A loop further down that does not come back to `owner` was refused when it was closed.
    if (seen.has(next)) return null;
    seen.add(next);
    next = next === owner ? undefined : existing.get(next);
  }
  return null;
}
