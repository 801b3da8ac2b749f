import { EventEmitter } from "node:events";
import { compileDiff, DiffSpecItem, SimDiffItem } from "./diff-spec";

/**
 * The seam between the notification side and the MAAPI side of the simulator: the commits
 * that are blocked on their COMMIT_DIFF acks. The notification server `block`s a commit when
 * it delivers the event and `release`s it when every subscriber acked, timed out or left
 * (docs/nso-maapi.md). The MAAPI side only reads: ATTACH works while a commit is
 * blocked, and an iteration running when the commit is released gets NSO's `badpath`.
 */
export type ReleaseReason = "acked" | "timeout" | "closed" | "no-subscribers";

export interface BlockedCommit {
  th: number;
  /** Usid of the committing session (uinfo element 1). */
  usid: number;
  items: SimDiffItem[];
  blockedAt: number;
}

export interface CommitStoreEvents {
  blocked: [BlockedCommit];
  released: [BlockedCommit, ReleaseReason];
}

export class BlockedCommitStore extends EventEmitter<CommitStoreEvents> {
  private readonly commits = new Map<number, BlockedCommit>();
  /** User sessions that outlive their commits (a MAAPI or web session; CLI sessions end). */
  private readonly sessions = new Set<number>();

  /** Holds `th` until `release`; `diff` is the scenario's list (see diff-spec.ts) or compiled items. */
  block(c: { th: number; usid: number; diff?: readonly DiffSpecItem[]; items?: SimDiffItem[] }): BlockedCommit {
    const commit: BlockedCommit = { th: c.th, usid: c.usid, items: c.items ?? compileDiff(c.diff ?? []), blockedAt: Date.now() };
    this.commits.set(c.th, commit);
    this.emit("blocked", commit);
    return commit;
  }

  release(th: number, reason: ReleaseReason): void {
    const c = this.commits.get(th);
    if (!c) return;
    this.commits.delete(th);
    this.emit("released", c, reason);
  }

  get(th: number): BlockedCommit | undefined {
    return this.commits.get(th);
  }

  /** The commit whose session is `usid`, or undefined. */
  byUsid(usid: number): BlockedCommit | undefined {
    for (const c of this.commits.values()) if (c.usid === usid) return c;
    return undefined;
  }

  get size(): number {
    return this.commits.size;
  }

  /** Declare a session that stays alive after its commits (attach after the ack then gets error 61). */
  addSession(usid: number): void {
    this.sessions.add(usid);
  }

  /** A usid NSO knows right now: a long-lived session, or the session of a blocked commit. */
  sessionAlive(usid: number): boolean {
    return this.sessions.has(usid) || this.byUsid(usid) !== undefined;
  }

  /** Resolves when `th` is released (or at once if it is not blocked). */
  whenReleased(th: number): Promise<ReleaseReason | "not-blocked"> {
    if (!this.commits.has(th)) return Promise.resolve("not-blocked");
    return new Promise((resolve) => {
      const on = (c: BlockedCommit, r: ReleaseReason): void => {
        if (c.th !== th) return;
        this.off("released", on);
        resolve(r);
      };
      this.on("released", on);
    });
  }
}

/**
 * The notification server's side of the seam, in one call: block `th` now (before any
 * subscriber can attach) and release it when the delivery's ack wait settles. `outcomes` is
 * the `done` promise of NsoSimServer.inject: one entry per blocking subscriber.
 */
export function trackCommit(
  store: BlockedCommitStore,
  c: { th: number; usid: number; diff?: readonly DiffSpecItem[] },
  outcomes: Promise<ReadonlyArray<"acked" | "timeout" | "closed">>,
): BlockedCommit {
  const commit = store.block(c);
  void outcomes.then(
    (o) => store.release(c.th, o.length === 0 ? "no-subscribers" : o.includes("timeout") ? "timeout" : o.includes("closed") ? "closed" : "acked"),
    () => store.release(c.th, "closed"),
  );
  return commit;
}
