import { EventEmitter } from "node:events";
import { AckRegistry, AckToken } from "../core/ack-registry";
import { asError } from "../core/errors";
import { Clock, systemClock, TimerHandle } from "../core/clock";
import { ACK_KINDS, AckHandle, AckKind } from "./acks";

/**
 * One blocking notification, several consumers. NSO waits for one answer per notification on
 * the socket, but each consumer (an nso-events node) answers on its own: from its flow
 * (nso-ack), its own auto-ack timer, or by itself. So every consumer gets its own token for a
 * share of the notification, and NSO gets the one real ack once the last share is answered,
 * never before. A share is a token like any other (AckRegistry): single use, void once the
 * connection it came from is gone.
 */
export interface Recipient {
  /** The consumer's stable id (an nso-events node id: the same across its restarts). */
  id: string;
  /** This consumer's safety net: answer its share after this many ms; 0 = never. */
  autoAckMs: number;
}

export interface ShareAnswer {
  kind: AckKind;
  /** True when this was the last share: NSO has now been answered. */
  released: boolean;
  /** Shares of the same notification still open. */
  waiting: number;
}

export interface AckFanInEvents {
  /** A consumer's share was answered without it: its auto-ack fired, or it was evicted. */
  autoAck: [{ recipient: string; kind: AckKind; why: "timeout" | "evicted" }];
  /** Writing the real ack failed after a share was answered without a caller to tell. */
  releaseFailed: [{ kind: AckKind; error: Error }];
}

export interface AckFanInOptions {
  /** Owner id put in the share tokens (the nso-server config node id). */
  owner: string;
  /** Sends the one real ack for an upstream token (NsoClient.ack). */
  release: (upstream: AckToken) => Promise<AckHandle>;
  clock?: Clock;
  /** At most this many open shares; the oldest is answered at once beyond it. */
  maxOpen?: number;
}

interface Notification {
  upstream: AckToken;
  kind: AckKind;
  open: number;
}

interface Share {
  n: Notification;
  recipient: string;
  timer?: TimerHandle;
}

export class AckFanIn extends EventEmitter<AckFanInEvents> {
  private readonly shares: AckRegistry<Share>;
  private readonly clock: Clock;
  private upstreamConnection: string | undefined;
  /**
   * How shares were answered (health view): by their node (`flow`: nso-ack, or the node itself),
   * by its auto-ack timer, evicted for too many open; `unwanted`: notifications nobody selected.
   */
  readonly answered = { flow: 0, auto: 0, evicted: 0, unwanted: 0 };

  constructor(private readonly opts: AckFanInOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.shares = new AckRegistry<Share>(opts.owner, {
      maxOpen: opts.maxOpen ?? 10000,
      onDrop: (_kind, h, why) => {
        const share = h as Share;
        this.stopTimer(share);
        // The connection ended: NSO released every wait itself. Evicted: answered at once, so a
        // flow that never acks cannot pile up commits held without bound.
        if (why === "evicted") this.answeredWithout(share, "evicted");
      },
    });
  }

  /** Open shares over all notifications (for tests and status). */
  get size(): number {
    return this.shares.size;
  }

  /**
   * Split the upstream token of one blocking notification among `recipients`: one share token
   * each, by recipient id. With no recipient NSO is answered at once (the promise says how that went).
   */
  split(upstream: AckToken, recipients: readonly Recipient[]): { tokens: Map<string, AckToken>; released?: Promise<AckHandle> } {
    const kind = upstream.kind as AckKind;
    if (!ACK_KINDS.includes(kind)) throw new RangeError(`not an NSO ack kind: ${upstream.kind}`);
    if (recipients.length === 0) {
      this.answered.unwanted++;
      return { tokens: new Map(), released: this.opts.release(upstream) };
    }
    if (upstream.connection !== this.upstreamConnection) {
      // The first notification of a new connection: shares of the old one are void now.
      this.upstreamConnection = upstream.connection;
      this.shares.beginConnection();
    }
    const n: Notification = { upstream, kind, open: recipients.length };
    const tokens = new Map<string, AckToken>();
    for (const r of recipients) {
      const share: Share = { n, recipient: r.id };
      const token = this.shares.issue(kind, share);
      tokens.set(r.id, token);
      if (r.autoAckMs > 0) {
        share.timer = this.clock.setTimeout(() => {
          share.timer = undefined;
          if (this.shares.forget(token.id)) this.answeredWithout(share, "timeout");
        }, r.autoAckMs);
      }
    }
    return { tokens };
  }

  /**
   * A consumer answers its share. Resolves once the share is taken, and when it was the last
   * one only after the real ack is written; rejects with an AckError for a stale, used, made-up
   * or mismatched token (nothing is answered then), or with the write's error.
   */
  async ack(token: unknown, expectKinds: readonly string[] = ACK_KINDS): Promise<ShareAnswer> {
    const share = this.shares.take(token, expectKinds).handle;
    this.answered.flow++;
    this.stopTimer(share);
    return this.answer(share);
  }

  /** The connection is gone: every share is void (NSO has released the waits itself). */
  end(): void {
    this.upstreamConnection = undefined;
    this.shares.endConnection();
  }

  private async answer(share: Share): Promise<ShareAnswer> {
    const n = share.n;
    n.open--;
    if (n.open > 0) return { kind: n.kind, released: false, waiting: n.open };
    await this.opts.release(n.upstream);
    return { kind: n.kind, released: true, waiting: 0 };
  }

  private answeredWithout(share: Share, why: "timeout" | "evicted"): void {
    if (why === "timeout") this.answered.auto++;
    else this.answered.evicted++;
    this.emit("autoAck", { recipient: share.recipient, kind: share.n.kind, why });
    this.answer(share).catch((e: unknown) => this.emit("releaseFailed", { kind: share.n.kind, error: asError(e) }));
  }

  private stopTimer(share: Share): void {
    if (share.timer !== undefined) {
      this.clock.clearTimeout(share.timer);
      share.timer = undefined;
    }
  }
}
