/**
 * How far the reading of a WebSocket has got: what waits unread, and until when everything the
 * peer sent is known to have been read. With flow control the reader pauses, so frames read later
 * may be old; a gap that starts at "the last frame read" would then start too late.
 */

/** Bytes received from the peer but not yet handed to us (socket buffer + a partial frame in ws). */
export function unreadBytes(ws: unknown): number {
  // ws@8 keeps these private; read defensively, a missing field counts as nothing waiting.
  const w = ws as { _socket?: { readableLength?: number }; _receiver?: { _bufferedBytes?: number } } | undefined;
  return (w?._socket?.readableLength ?? 0) + (w?._receiver?._bufferedBytes ?? 0);
}

interface SentPing {
  at: number;
  /** Sent while reading, after the latest resume: its pong means the backlog has been read. */
  barrier: boolean;
}

const MAX_PINGS = 64;

/**
 * The last moment up to which everything the peer sent has been read. While reading runs, a
 * frame proves it up to now. After a pause, frames may have waited in the kernel for a long time:
 * only the pong to a ping (which the peer answers after everything it sent before) proves the
 * ping's send time. Pings carry their own id in the payload, which the peer echoes (RFC 6455).
 */
export class LastHeard {
  private atValue: number;
  private behind = false;
  private pausedNow = false;
  private resumedAt = Number.NEGATIVE_INFINITY;
  private seq = 0;
  private readonly pings = new Map<string, SentPing>();

  constructor(private readonly now: () => number) {
    this.atValue = now();
  }

  get at(): number {
    return this.atValue;
  }

  /** Frames read now may be older than they look (reading was paused and has not caught up). */
  get isBehind(): boolean {
    return this.behind;
  }

  /** Pings sent and not answered yet. */
  get pending(): number {
    return this.pings.size;
  }

  /**
   * Reading runs but has not been proven caught up, and no ping is on its way that could prove
   * it: the moment for a (barrier) ping. One ping at a time is enough, since pongs come in order;
   * a ping per resume piles pongs up at a peer that cannot send them to a reader that is paused.
   */
  get wantsBarrier(): boolean {
    return this.behind && !this.pausedNow && this.pings.size === 0;
  }

  /** A frame (or the peer's own ping) was read. */
  heard(): void {
    if (!this.behind) this.atValue = this.now();
  }

  paused(): void {
    this.pausedNow = true;
    this.behind = true;
  }

  resumed(): void {
    this.pausedNow = false;
    this.resumedAt = this.now();
  }

  /** The payload of a ping about to be sent. */
  ping(): Buffer {
    const at = this.now();
    const id = `ie${++this.seq}`;
    this.pings.set(id, { at, barrier: !this.pausedNow && at >= this.resumedAt });
    // Pongs that never come (a dead peer) must not pile up.
    if (this.pings.size > MAX_PINGS) this.pings.delete(this.pings.keys().next().value as string);
    return Buffer.from(id);
  }

  /** A pong was read; false when it answers no ping of ours (then it proves nothing). */
  pong(data: Buffer): boolean {
    const id = data.toString("latin1");
    const p = this.pings.get(id);
    if (!p) return false;
    // Pongs come in order: older pings will not be answered any more.
    for (const k of [...this.pings.keys()]) {
      this.pings.delete(k);
      if (k === id) break;
    }
    if (p.at > this.atValue) this.atValue = p.at;
    if (p.barrier && !this.pausedNow && p.at >= this.resumedAt) this.behind = false;
    return true;
  }
}
