import { asError, InfraError } from "../../core/errors";
import type { CommitDiffRequest, CommitDiffResult } from "./read-diff";
import { parseSubtree, renderKeypath } from "./keypath";

/**
 * One commit, several nodes that want to know what changed in it. NSO holds the commit while
 * anyone reads it, and a second read after the first consumer let go would find it gone
 * ("Not attached to trans"), so the diff is read once, with settings that cover every reader,
 * and each reader gets its own view cut to its own settings:
 *
 * - budget: the shortest (no reader holds the commit longer than it allowed);
 * - cap: the largest, each view then cut to its own cap;
 * - subtree: the common one if all readers name the same, else none, and each view keeps the
 *   changes under its own subtree.
 *
 * A view is truncated whenever the read was (it may lack changes of that reader's part) or its
 * own cap was reached; a partial list is never passed on as complete.
 */
export interface DiffWish {
  budgetMs: number;
  maxChanges: number;
  subtree?: string;
}

export function mergeWishes(wishes: readonly DiffWish[]): DiffWish {
  if (wishes.length === 0) throw new RangeError("no diff reader");
  const subtrees = new Set(wishes.map((w) => w.subtree ?? ""));
  return {
    budgetMs: Math.min(...wishes.map((w) => w.budgetMs)),
    maxChanges: Math.max(...wishes.map((w) => w.maxChanges)),
    subtree: subtrees.size === 1 ? wishes[0].subtree : undefined,
  };
}

/** `/ncs:devices/device{ce0}` as change paths spell it (`/devices/device{ce0}`). */
export function canonicalSubtree(subtree: string): string {
  return renderKeypath(parseSubtree(subtree).slice().reverse());
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root + "/") || path.startsWith(root + "{");
}

/**
 * A reader's view of the one read (`read` is what was asked of NSO); with `copy` its own copy of
 * the changes, so one flow changing its message cannot change another's.
 */
export function viewFor(r: CommitDiffResult, wish: DiffWish, read: DiffWish, copy = true): CommitDiffResult {
  let changes = r.changes;
  if (wish.subtree && wish.subtree !== read.subtree) {
    const root = canonicalSubtree(wish.subtree);
    changes = changes.filter((c) => under(c.path, root));
  }
  const out: CommitDiffResult = { ...r, stats: { ...r.stats }, changes: changes.slice(0, wish.maxChanges) };
  if (copy) out.changes = structuredClone(out.changes);
  // A solo read stops when it reaches its cap: so does a view.
  if (changes.length >= wish.maxChanges && (wish.maxChanges < read.maxChanges || r.truncated)) {
    out.truncated = true;
    out.reason = r.reason === "error" || r.reason === "aborted" ? r.reason : "max-changes";
  }
  return out;
}

function failed(thandle: number, reason: "error" | "aborted", err: Error): CommitDiffResult {
  return {
    thandle,
    changes: [],
    truncated: true,
    reason,
    error: { code: err instanceof InfraError ? err.code : "error", message: err.message },
    stats: { items: 0, dropped: 0, labelled: 0, unlabelled: 0, detached: false, durationMs: 0 },
  };
}

/**
 * The one read of one commit for its readers (by id). Started by the first reader that asks;
 * aborted only when every reader has left (closed), so one node's redeploy does not cut
 * another node's read short.
 */
export class SharedCommitDiff {
  readonly read: DiffWish;
  private result: Promise<CommitDiffResult> | undefined;
  private readonly abort = new AbortController();
  private readonly staying: Set<string>;

  constructor(
    private readonly run: (req: CommitDiffRequest) => Promise<CommitDiffResult>,
    private readonly commit: { thandle: number; usid?: number },
    private readonly wishes: ReadonlyMap<string, DiffWish>,
  ) {
    this.read = mergeWishes([...wishes.values()]);
    this.staying = new Set(wishes.keys());
  }

  /** Reader `id`'s view. Aborting `signal` leaves the read: that view settles at once as aborted. */
  view(id: string, signal?: AbortSignal): Promise<CommitDiffResult> {
    const wish = this.wishes.get(id);
    if (!wish || !this.staying.has(id))
      return Promise.resolve(failed(this.commit.thandle, "error", new InfraError("maapi-not-a-reader", `${id} is not a reader of this commit`)));
    if (signal?.aborted) {
      this.leave(id);
      return Promise.resolve(failed(this.commit.thandle, "aborted", new InfraError("maapi-aborted", "reading the commit diff was aborted (node closed)")));
    }
    this.result ??= this.start();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.leave(id);
        resolve(failed(this.commit.thandle, "aborted", new InfraError("maapi-aborted", "reading the commit diff was aborted (node closed)")));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      void this.result!.then((r) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(viewFor(r, wish, this.read, this.wishes.size > 1));
      });
    });
  }

  /** Reader `id` will not read (it closed, or never reads this type); the last one leaving aborts. */
  leave(id: string): void {
    if (!this.staying.delete(id)) return;
    if (this.staying.size === 0) this.abort.abort();
  }

  private start(): Promise<CommitDiffResult> {
    const req: CommitDiffRequest = {
      ...this.commit,
      budgetMs: this.read.budgetMs,
      maxChanges: this.read.maxChanges,
      subtree: this.read.subtree,
      signal: this.abort.signal,
    };
    // run() may throw before it reads (no MAAPI client: a bad server setting): still a result.
    return Promise.resolve()
      .then(() => this.run(req))
      .catch((e: unknown) => failed(this.commit.thandle, "error", asError(e)));
  }
}
