import { Clock, systemClock, TimerHandle } from "../../core/clock";
import { asError, InfraError, ProtocolError } from "../../core/errors";
import { formatTerm } from "../term";
import type { Term } from "../term/types";
import { ITER_CONTINUE, ITER_RECURSE, ITER_STOP, ITER_WANT_ATTR, ITER_WANT_P_CONTAINER } from "./constants";
import { Change, decodeDiffItem, DecodedItem, withLabel } from "./change";
import type { MaapiClient } from "./client";
import type { MaapiConnection } from "./connection";
import { parseSubtree, schemaKey, topFirst } from "./keypath";

/**
 * "What changed" in a commit, read while NSO holds the commit for us
 * (docs/nso-maapi.md): ATTACH, DIFF_ITER in name mode, labels through XPath
 * `string(.)`, DETACH. Every commit in NSO waits while this runs, so it is bounded three ways:
 * a time budget (a soft deadline stops the iteration cleanly; a hard timer at the budget
 * settles the result whatever the socket does), a cap on the number of changes, and an
 * optional subtree. It never rejects: every outcome is a result, so the caller can always
 * send the `{Th, done}` ack on the event socket — use `readCommitDiffAndAck` to make that
 * structural rather than a matter of discipline.
 */
export const DEFAULT_BUDGET_MS = 5000;
export const DEFAULT_MAX_CHANGES = 10000;

export interface CommitDiffRequest {
  /** Thandle of the COMMIT_DIFF event (element 4 of the event tuple). */
  thandle: number;
  /** Usid from the event's uinfo; omitted = attach as the transaction owner (`{0, useikp}`). */
  usid?: number;
  /** Whole time the commit may be held by us, ms; must stay below NSO's event-reply-timeout. */
  budgetMs?: number;
  maxChanges?: number;
  /** Only this subtree (DIFF_IKP_ITER): `/devices/device`, `/ncs:devices/device{ce0}`. */
  subtree?: string;
  /** Turn enum/bits/identityref values into labels (one XPath call per distinct leaf+value). */
  labels?: boolean;
  /** MOP_ATTR_SET items (tags, annotations). */
  wantAttrs?: boolean;
  /** MOP_MODIFIED for presence containers. */
  wantPresenceContainers?: boolean;
  /** ITER_CONTINUE on created entries: the entry only, not its leaves (much faster on bulk creates). */
  skipCreatedChildren?: boolean;
  /** Extra URI -> prefix names for paths. */
  prefixes?: ReadonlyMap<string, string>;
  /** Aborting (a redeploy) settles the result at once and drops the MAAPI socket. */
  signal?: AbortSignal;
  clock?: Clock;
}

export type TruncationReason = "budget" | "max-changes" | "error" | "aborted";

export interface CommitDiffResult {
  thandle: number;
  changes: Change[];
  /** True whenever `changes` may be incomplete: never pass a partial diff on as complete. */
  truncated: boolean;
  reason?: TruncationReason;
  error?: { code: string; message: string };
  stats: {
    /** Diff items NSO sent (including dropped ones). */
    items: number;
    /** Items that could not be read (counted in the client's DropCounter). */
    dropped: number;
    labelled: number;
    /** Enum/bits/identityref values left without a label (budget, or XPath refused). */
    unlabelled: number;
    detached: boolean;
    /** Time from the call to the result, ms. */
    durationMs: number;
  };
}

export function readCommitDiff(client: MaapiClient, req: CommitDiffRequest): Promise<CommitDiffResult> {
  const clock = req.clock ?? systemClock;
  const start = clock.now();
  const budget = req.budgetMs ?? DEFAULT_BUDGET_MS;
  const maxChanges = req.maxChanges ?? DEFAULT_MAX_CHANGES;
  // Leave room for the last round trip (ITER_STOP needs none, DETACH one) before the hard stop.
  const soft = start + budget - Math.max(5, Math.min(250, budget / 10));
  const changes: Change[] = [];
  const stats = { items: 0, dropped: 0, labelled: 0, unlabelled: 0, detached: false, durationMs: 0 };
  let truncated = false;
  let reason: TruncationReason | undefined;
  let settled = false;
  let active: MaapiConnection | undefined;
  /** Enum/bits/identityref changes waiting for (or given) a label. */
  const labelled: DecodedItem[] = [];

  return new Promise<CommitDiffResult>((resolve) => {
    let hard: TimerHandle = undefined;
    const settle = (why?: TruncationReason, err?: Error): void => {
      if (settled) return;
      settled = true;
      if (hard !== undefined) clock.clearTimeout(hard);
      req.signal?.removeEventListener("abort", onAbort);
      if (why) {
        truncated = true;
        reason ??= why;
      }
      stats.durationMs = clock.now() - start;
      stats.unlabelled = labelled.length - stats.labelled;
      const out: CommitDiffResult = { thandle: req.thandle, changes: changes.slice(), truncated, stats: { ...stats } };
      if (reason) out.reason = reason;
      if (err) out.error = { code: err instanceof InfraError ? err.code : "error", message: err.message };
      resolve(out);
    };
    const abandon = (why: TruncationReason, err: Error): void => {
      if (settled) return;
      // A reply may be in flight: this socket can no longer be trusted to be in step.
      active?.destroy(err);
      settle(why, err);
    };
    const onAbort = (): void => abandon("aborted", new InfraError("maapi-aborted", "reading the commit diff was aborted (node closed)"));

    if (!Number.isSafeInteger(req.thandle) || req.thandle < 0 || req.thandle > 0xffffffff) {
      return settle("error", new InfraError("maapi-bad-request", `thandle must be a 32-bit integer, got ${req.thandle}`));
    }
    if (req.usid !== undefined && (!Number.isSafeInteger(req.usid) || req.usid <= 0)) {
      // Usid 0 on the wire is an error (§8 pitfall 6): the owner is spelled by leaving it out.
      return settle("error", new InfraError("maapi-bad-request", `usid must be a positive integer (leave it out for the owner), got ${req.usid}`));
    }
    let subtree: Term[] | undefined;
    try {
      subtree = req.subtree ? parseSubtree(req.subtree, req.prefixes) : undefined;
    } catch (e) {
      return settle("error", new InfraError("maapi-bad-subtree", asError(e).message));
    }
    if (!(budget > 0) || !(maxChanges > 0)) return settle("error", new InfraError("maapi-bad-request", "budgetMs and maxChanges must be positive"));
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener("abort", onAbort, { once: true });
    hard = clock.setTimeout(() => abandon("budget", new InfraError("maapi-budget", `the diff was not read within the ${budget} ms budget`)), budget);

    const flags = (req.wantAttrs ? ITER_WANT_ATTR : 0) | (req.wantPresenceContainers ? ITER_WANT_P_CONTAINER : 0);

    const work = async (c: MaapiConnection): Promise<void> => {
      active = c;
      if (settled) return;
      await c.attach(req.thandle, req.usid);
      if (settled) return;
      try {
        await c.diffIterate(req.thandle, flags, subtree, (item) => {
          if (settled) return ITER_STOP;
          stats.items++;
          let d: DecodedItem;
          try {
            if (item instanceof ProtocolError) throw item;
            d = decodeDiffItem(item, req.prefixes);
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
            // One unreadable item costs that item; NSO still waits for an answer to go on.
            stats.dropped++;
            client.drops.add(e.code);
            return ITER_RECURSE;
          }
          changes.push(d.change);
          if (d.labelRaw) labelled.push(d);
          if (changes.length >= maxChanges) {
            reason = "max-changes";
            truncated = true;
            return ITER_STOP;
          }
          if (clock.now() >= soft) {
            reason = "budget";
            truncated = true;
            return ITER_STOP;
          }
          return req.skipCreatedChildren && d.change.op === "created" ? ITER_CONTINUE : ITER_RECURSE;
        });
      } catch (e) {
        // {error, badpath} (the commit ended under us) or {badstate, …}: the socket is in step.
        truncated = true;
        reason ??= "error";
        throw e;
      }
      if (req.labels !== false) await addLabels(c, labelled);
      if (settled || clock.now() >= soft) return;
      try {
        await c.detach(req.thandle);
        stats.detached = true;
      } catch (e) {
        // Detach is optional (the attachment ends with the transaction, §4.7); a refusal
        // leaves `detached: false` in the stats and the socket usable.
        if (!(e instanceof InfraError) || e.code !== "maapi-error") throw e;
      }
    };

    const addLabels = async (c: MaapiConnection, items: DecodedItem[]): Promise<void> => {
      for (const d of items) {
        if (settled) return;
        const key = schemaKey(d.ikp) + "=" + formatTerm(d.labelRaw!, 200);
        let label = c.labels.get(key);
        if (label === null) continue;
        if (label === undefined) {
          // Missing labels do not make the diff incomplete: stats.unlabelled says how many.
          if (clock.now() >= soft) continue;
          try {
            label = await c.xpath(req.thandle, "string(.)", topFirst(d.ikp));
          } catch (e) {
            if (!(e instanceof InfraError) || e.code !== "maapi-error") throw e;
            c.labels.set(key, null);
            continue;
          }
          c.labels.set(key, label);
        }
        d.change.value = withLabel(d.change.value, label);
        stats.labelled++;
      }
    };

    client.use(work, { connectTimeoutMs: Math.max(1, soft - clock.now()), signal: req.signal }).then(
      () => settle(),
      (e: unknown) => settle("error", asError(e)),
    );
  });
}

export interface AckedCommitDiffResult extends CommitDiffResult {
  /** The ack went out (the commit can proceed). */
  acked: boolean;
  ackError?: string;
}

/**
 * Reads the diff and then acks, in every outcome, exactly once, and only after the last MAAPI
 * call on the thandle (§8 pitfall 12). `ack` is the caller's `{Th, done}` sender on the event
 * socket (e.g. `() => nsoClient.ack(token)`).
 */
export async function readCommitDiffAndAck(client: MaapiClient, req: CommitDiffRequest, ack: () => unknown): Promise<AckedCommitDiffResult> {
  let result: CommitDiffResult;
  try {
    result = await readCommitDiff(client, req);
  } catch (e) {
    // readCommitDiff settles every outcome as a result; should a programming error escape
    // anyway, it becomes a truncated result here so the commit is still released below.
    const err = asError(e);
    result = {
      thandle: req.thandle,
      changes: [],
      truncated: true,
      reason: "error",
      error: { code: "internal", message: err.message },
      stats: { items: 0, dropped: 0, labelled: 0, unlabelled: 0, detached: false, durationMs: 0 },
    };
  }
  try {
    await ack();
    return { ...result, acked: true };
  } catch (e) {
    return { ...result, acked: false, ackError: asError(e).message };
  }
}
