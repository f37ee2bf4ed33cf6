/**
 * The registry versions this instance's own transactions produced, so that its change feed can
 * tell "only my own changes happened" (nothing to reload: each was applied incrementally by the
 * REGISTRY_CHANGED event its writer emitted) from "someone else changed something" (reload).
 * Pure: fed by OwnCommitsSubscriber, asked by ChangeFeedService.
 */
export class OwnVersions {
  private readonly versions = new Set<number>();

  /** A version one of this instance's transactions committed. */
  add(version: number): void {
    this.versions.add(version);
  }

  /**
   * True when every version after `seen` up to and including `latest` is this instance's own.
   * Forgets the versions up to `latest` either way: the feed has moved past them.
   */
  onlyOwnBetween(seen: number, latest: number): boolean {
    let own = latest > seen;
    for (let v = seen + 1; own && v <= latest; v++) own = this.versions.has(v);
    for (const v of this.versions) if (v <= latest) this.versions.delete(v);
    return own;
  }

  get size(): number {
    return this.versions.size;
  }
}
