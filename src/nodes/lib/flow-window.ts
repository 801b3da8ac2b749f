import { CompletionTracker, OnFinished, TrackedOwner } from "./completion-tracker";
import type { Node, NodeAPI, NodeMessage } from "./red";

/**
 * A bounded in-flight window for one input node: it hands events to `node.send` in slices that
 * yield to the event loop, knows how many of its messages the flow has not finished
 * (CompletionTracker), and above the window asks the connection to stop reading ("hold", the
 * default: real backpressure to the peer) or drops the oldest waiting events and says so with a
 * gap ("drop-oldest", the user's explicit choice). Events that must not be dropped (blocking NSO
 * notifications) keep their place in the queue.
 */
export type OverflowMode = "hold" | "drop-oldest";

export interface FlowWindowOptions {
  /** At most this many of the node's messages unfinished in the flow (default 100); 0: off. */
  window?: number;
  mode?: OverflowMode;
  /** drop-oldest: at most this many events waiting at the node (default: the window). */
  maxQueued?: number;
  /** Sends per event-loop turn (default 8). */
  slice?: number;
  /** drop-oldest: while drops go on, a gap message at least this often (default 1 s). */
  announceMs?: number;
  /** A message the flow has not finished after this long is written off (default 5 min). */
  maxAgeMs?: number;
  now?: () => number;
}

/** How the window stops and starts the node's reading (a PauseGate of the shared connection). */
export interface ReadControl {
  pause(): void;
  resume(): void;
}

export interface DropEpisode {
  dropped: number;
  /** When the first and the last dropped event arrived. */
  since: number;
  until: number;
}

export interface FlowWindowStats {
  inFlight: number;
  queued: number;
  paused: boolean;
  dropped: number;
  writtenOff: number;
  window: number;
  mode: OverflowMode;
}

interface Item {
  out: NodeMessage | Array<NodeMessage | null>;
  msg: NodeMessage;
  keep: boolean;
  at: number;
  onFinished: OnFinished | undefined;
  onDropped: (() => void) | undefined;
}

export interface SendOptions {
  /** Never dropped, whatever the mode (blocking NSO notifications). */
  keep?: boolean;
  /** Called when the flow finished this message (or it was written off). */
  onFinished?: OnFinished;
  /** Called when drop-oldest dropped it before it was sent. */
  onDropped?: () => void;
}

const EXPIRY_CHECK_MS = 5000;
/**
 * Node-RED delivers each sent message in an event-loop turn of its own, but all the deliveries
 * queued before a turn run in it back to back: the slice is what one turn may cost. At 32 a 1 ms
 * function node held the loop ~32 ms at a time (lag p99 above 100 ms in the flow-control bench),
 * at 8 it stays near 34 ms; the extra setImmediate per 8 messages is not measurable.
 */
const DEFAULT_SLICE = 8;
const DEFAULT_ANNOUNCE_MS = 1000;

export class FlowWindow implements TrackedOwner {
  readonly window: number;
  readonly low: number;
  readonly mode: OverflowMode;
  private readonly maxQueued: number;
  private readonly slice: number;
  private readonly maxAgeMs: number;
  private readonly announceMs: number;
  private readonly now: () => number;
  private readonly tracker: CompletionTracker;
  private readonly queue: Item[] = [];
  private head = 0;
  private inFlight = 0;
  private pausedByUs = false;
  /** drop-oldest: reading held for the rest of this event-loop turn (see yieldReading). */
  private turnPaused = false;
  private drainScheduled = false;
  private closed = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private episode: (DropEpisode & { announced: number }) | undefined;
  dropped = 0;
  writtenOff = 0;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    opts: FlowWindowOptions,
    private readonly read: ReadControl | undefined,
    private readonly events: { dropped?(e: DropEpisode): void; writtenOff?(n: number): void; sendFailed?(err: unknown, msg: NodeMessage): void } = {},
  ) {
    // 0 is "off" (the user's explicit choice): no window, every message straight to node.send.
    this.window = opts.window === 0 ? 0 : Math.max(1, Math.floor(opts.window ?? 100));
    this.low = Math.max(0, Math.floor(this.window / 2));
    this.mode = opts.mode ?? "hold";
    this.maxQueued = Math.max(1, Math.floor(opts.maxQueued ?? this.window));
    this.slice = Math.max(1, Math.floor(opts.slice ?? DEFAULT_SLICE));
    this.announceMs = opts.announceMs ?? DEFAULT_ANNOUNCE_MS;
    this.maxAgeMs = opts.maxAgeMs ?? 300_000;
    this.now = opts.now ?? Date.now;
    this.tracker = CompletionTracker.of(RED);
  }

  get stats(): FlowWindowStats {
    return {
      inFlight: this.inFlight,
      queued: this.queue.length - this.head,
      paused: this.pausedByUs,
      dropped: this.dropped,
      writtenOff: this.writtenOff,
      window: this.window,
      mode: this.mode,
    };
  }

  /** Send `out` (what node.send takes; `msg` is the message inside it) when the window allows. */
  send(out: NodeMessage | Array<NodeMessage | null>, msg: NodeMessage, opts: SendOptions = {}): void {
    if (this.closed) return;
    if (this.window === 0) {
      // No flow control: sent at once, as before the window existed; finished as far as we know.
      this.node.send(out);
      opts.onFinished?.(false);
      return;
    }
    this.queue.push({ out, msg, keep: opts.keep ?? false, at: this.now(), onFinished: opts.onFinished, onDropped: opts.onDropped });
    if (this.mode === "drop-oldest") {
      if (this.dropOverflow() > 0) this.yieldReading();
    }
    // Hold back as soon as the node holds a window's worth, sent or waiting: a reader that hands
    // over events faster than the slices go out must stop too, not only a flow that is slow.
    else if (this.inFlight + this.queue.length - this.head >= this.window) this.setPaused(true);
    this.schedule();
  }

  finished(timedOut: boolean): void {
    this.inFlight--;
    if (timedOut) this.writtenOff++;
    if (!this.closed) this.schedule();
  }

  /** Stop: forget what the flow still holds, let the connection read again for the others. */
  close(): void {
    this.closed = true;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.tracker.drop(this);
    this.queue.length = 0;
    this.head = 0;
    this.setPaused(false);
    if (this.turnPaused) {
      this.turnPaused = false;
      this.read?.resume();
    }
  }

  private schedule(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    if (this.closed) return;
    let sent = 0;
    while (this.head < this.queue.length && this.inFlight < this.window && sent < this.slice) {
      const item = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as Item;
      this.dispatch(item);
      sent++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const waiting = this.queue.length - this.head;
    if (waiting === 0) {
      this.queue.length = 0;
      this.head = 0;
      this.endEpisode();
    }
    // Hold back the reader while the flow is behind; read again once it caught up to half.
    if (this.mode === "hold") {
      if (this.inFlight + waiting >= this.window) this.setPaused(true);
      else if (this.inFlight + waiting <= this.low) this.setPaused(false);
    }
    if (waiting > 0 && this.inFlight < this.window) this.schedule();
  }

  private dispatch(item: Item): void {
    const id = item.msg._msgid ?? (item.msg._msgid = this.RED.util.generateId());
    this.inFlight++;
    this.tracker.begin(id, this, this.now(), item.onFinished);
    try {
      this.node.send(item.out);
    } catch (e) {
      // node.send throws when Node-RED cannot clone the message for a second wire; from this
      // setImmediate that would end Node-RED. The message is lost to the flow: said, not thrown.
      if (this.events.sendFailed) this.events.sendFailed(e, item.msg);
      else this.node.error(e, item.msg);
    } finally {
      this.tracker.end(id);
    }
    if (!this.expiryTimer) this.startExpiry();
  }

  /** Drop the oldest waiting events beyond maxQueued; how many were dropped. */
  private dropOverflow(): number {
    let n = 0;
    while (this.queue.length - this.head > this.maxQueued) {
      let i = this.head;
      while (i < this.queue.length && this.queue[i].keep) i++;
      if (i >= this.queue.length) break; // only events that must not be dropped are waiting
      n++;
      const [item] = this.queue.splice(i, 1);
      this.dropped++;
      item.onDropped?.();
      const e = (this.episode ??= { dropped: 0, since: item.at, until: item.at, announced: this.now() });
      e.dropped++;
      e.until = item.at;
    }
    // A flow that never catches up must still hear of its losses while they happen, not only
    // once the queue is empty: one gap per `announceMs` while drops go on.
    if (this.episode && this.now() - this.episode.announced >= this.announceMs) this.endEpisode();
    return n;
  }

  /**
   * drop-oldest does not hold the sender back, but a flood the flow cannot take must not have the
   * event loop either: read without pause, a socket hands over many reads in one turn, and timers
   * (a delay node's release, the flow's own work) wait behind all of it (measured: lag p99 289 ms,
   * 12 messages/s through a 500/s delay node). While dropping, reading stops for the rest of the
   * turn and goes on in the next: one read per turn, the other work in between.
   */
  private yieldReading(): void {
    if (this.turnPaused || this.pausedByUs || !this.read) return;
    this.turnPaused = true;
    this.read.pause();
    setImmediate(() => {
      if (!this.turnPaused) return;
      this.turnPaused = false;
      this.read!.resume();
    });
  }

  private endEpisode(): void {
    const e = this.episode;
    if (!e) return;
    this.episode = undefined;
    this.events.dropped?.({ dropped: e.dropped, since: e.since, until: e.until });
  }

  private startExpiry(): void {
    this.expiryTimer = setInterval(
      () => {
        if (this.inFlight === 0) {
          clearInterval(this.expiryTimer);
          this.expiryTimer = undefined;
          return;
        }
        const n = this.tracker.expire(this, this.now() - this.maxAgeMs);
        if (n > 0) this.events.writtenOff?.(n);
      },
      Math.min(EXPIRY_CHECK_MS, this.maxAgeMs),
    );
    this.expiryTimer.unref?.();
  }

  private setPaused(paused: boolean): void {
    if (paused === this.pausedByUs || !this.read) return;
    this.pausedByUs = paused;
    if (paused) this.read.pause();
    else this.read.resume();
  }
}
