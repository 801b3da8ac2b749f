/**
 * Which owner (an input node) wants which event types. The server keeps one list per
 * connection, so a config node shared by several input nodes subscribes to the union and
 * delivers each event only to the owners that asked for its type.
 */
export class SubscriptionSet {
  private readonly byOwner = new Map<string, Set<string>>();

  set(owner: string, types: Iterable<string>): void {
    this.byOwner.set(owner, new Set(types));
  }

  add(owner: string, types: Iterable<string>): void {
    const s = this.byOwner.get(owner) ?? new Set<string>();
    for (const t of types) s.add(t);
    this.byOwner.set(owner, s);
  }

  remove(owner: string, types: Iterable<string>): void {
    const s = this.byOwner.get(owner);
    if (!s) return;
    for (const t of types) s.delete(t);
  }

  delete(owner: string): void {
    this.byOwner.delete(owner);
  }

  of(owner: string): string[] {
    return [...(this.byOwner.get(owner) ?? [])];
  }

  wants(owner: string, type: string): boolean {
    return this.byOwner.get(owner)?.has(type) ?? false;
  }

  union(): string[] {
    const u = new Set<string>();
    for (const s of this.byOwner.values()) for (const t of s) u.add(t);
    return [...u].sort();
  }
}
