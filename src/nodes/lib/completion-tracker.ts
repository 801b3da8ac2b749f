import type { NodeAPI } from "./red";

/**
 * Knows when the flow has finished a message an input node sent. Node-RED has no backpressure of
 * its own, but its messaging hooks see every delivery (`postDeliver`) and every `done()`
 * (`onComplete`, which Node-RED also fires for nodes that finish without calling done). A message
 * is finished when each delivery of it (clones on several wires, and the same message passed on
 * by the nodes downstream) has completed. A core delay node in rate-limit mode completes a
 * message when it releases it, so a window counted this way bounds its queue too.
 *
 * One tracker per runtime: the hooks see every message in Node-RED, so they are added once and
 * cost one Map lookup for messages that are not ours.
 */
export interface TrackedOwner {
  /** The flow finished one of this owner's messages (or it was written off, `timedOut`). */
  finished(timedOut: boolean): void;
}

/** Called for one message when the flow finished it (AMQP accepts its delivery then). */
export type OnFinished = (timedOut: boolean) => void;

interface Entry {
  owner: TrackedOwner;
  onFinished: OnFinished | undefined;
  pending: number;
  /** Still inside the owner's node.send: deliveries are being counted. */
  sending: boolean;
  at: number;
}

interface HookEvent {
  msg?: { _msgid?: string };
  destination?: { node?: { _expectedDoneCount?: number } };
}

const HOOK_SUFFIX = ".infra-events-flow-window";
const trackers = new WeakMap<object, CompletionTracker>();

export class CompletionTracker {
  private readonly open = new Map<string, Entry>();

  constructor(private readonly tracked = true) {}

  /**
   * The runtime's tracker; its hooks are added on first use. A runtime without messaging hooks
   * (only node-red-node-test-helper's mock runtime) gets a tracker that counts a message finished
   * as soon as it is sent: no flow control, and no stall.
   */
  static of(RED: NodeAPI): CompletionTracker {
    const hooks = (RED as unknown as { hooks?: { add(name: string, fn: (ev: HookEvent) => void): void } }).hooks;
    if (!hooks) return UNTRACKED;
    let t = trackers.get(hooks);
    if (!t) {
      const tracker = new CompletionTracker();
      // A node whose input handler takes no `done` (the pre-1.0 style, still common in contrib
      // packages) never completes a message: Node-RED counts such handlers out of
      // _expectedDoneCount, and so do we, or one such node would hold the window shut.
      hooks.add(`postDeliver${HOOK_SUFFIX}`, (ev) => {
        if (ev.destination?.node?._expectedDoneCount !== 0) tracker.delivered(ev.msg?._msgid);
      });
      hooks.add(`onComplete${HOOK_SUFFIX}`, (ev) => tracker.completed(ev.msg?._msgid));
      trackers.set(hooks, tracker);
      t = tracker;
    }
    return t;
  }

  get size(): number {
    return this.open.size;
  }

  /** Call right before the owner's node.send of the message with this id. */
  begin(msgid: string, owner: TrackedOwner, now: number, onFinished?: OnFinished): void {
    this.open.set(msgid, { owner, onFinished, pending: 0, sending: true, at: now });
  }

  /** Call right after that node.send returned: a message sent to no wire is finished at once. */
  end(msgid: string): void {
    const e = this.open.get(msgid);
    if (!e) return;
    e.sending = false;
    if (e.pending <= 0 || !this.tracked) this.finish(msgid, e, false);
  }

  /** Write off the owner's messages older than `before` (a node that never completes them). */
  expire(owner: TrackedOwner, before: number): number {
    let n = 0;
    for (const [id, e] of this.open) {
      if (e.owner === owner && e.at < before) {
        this.finish(id, e, true);
        n++;
      }
    }
    return n;
  }

  /**
   * The owner is closing: forget its messages. Their per-message callbacks are not called (an
   * AMQP delivery the flow did not finish goes back to the broker with the link instead).
   */
  drop(owner: TrackedOwner): void {
    for (const [id, e] of this.open) if (e.owner === owner) this.open.delete(id);
  }

  private delivered(id: string | undefined): void {
    if (id === undefined) return;
    const e = this.open.get(id);
    if (e) e.pending++;
  }

  private completed(id: string | undefined): void {
    if (id === undefined) return;
    const e = this.open.get(id);
    if (!e) return;
    e.pending--;
    if (e.pending <= 0 && !e.sending) this.finish(id, e, false);
  }

  private finish(id: string, e: Entry, timedOut: boolean): void {
    this.open.delete(id);
    e.onFinished?.(timedOut);
    e.owner.finished(timedOut);
  }
}

const UNTRACKED = new CompletionTracker(false);
