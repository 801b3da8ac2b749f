import type * as net from "node:net";
import { AckError, AckRegistry, AckToken } from "../core/ack-registry";
import type { Clock, TimerHandle } from "../core/clock";
import { asError } from "../core/errors";
import { AckHandle, ackTerm } from "./acks";
import { encodeFrame } from "./framing";
import { encodeTerm } from "./term";

/** An open ack: what NSO waits for, and the socket the answer must go back on. */
export interface LiveAck {
  handle: AckHandle;
  socket: net.Socket;
  timer?: TimerHandle;
}

/** An ack the client sent itself: the flow did not ack in time, or the handle was evicted. */
export interface AutoAck {
  token?: AckToken;
  kind: string;
  why: "timeout" | "evicted";
}

/**
 * The answers NSO waits for on blocking notifications. Messages carry plain tokens (the core
 * AckRegistry); the live handles and their sockets stay here. A handle the flow leaves open is
 * answered after its auto-ack delay, and one evicted beyond the bound is answered at once, so a
 * commit never hangs on a forgotten message.
 */
export class LiveAcks {
  readonly registry: AckRegistry<LiveAck>;

  constructor(
    owner: string,
    maxOpen: number,
    private readonly clock: Clock,
    private readonly autoAcked: (a: AutoAck) => void,
  ) {
    this.registry = new AckRegistry<LiveAck>(owner, {
      maxOpen,
      onDrop: (_kind, h, why) => {
        const live = h as LiveAck;
        if (live.timer !== undefined) this.clock.clearTimeout(live.timer);
        // An evicted handle on a live socket still blocks NSO: answer it rather than leave a commit hanging.
        if (why === "evicted" && !live.socket.destroyed) {
          this.write(live).catch(() => undefined); // the socket died meanwhile: NSO released the wait itself
          this.autoAcked({ kind: live.handle.kind, why: "evicted" });
        }
      },
    });
  }

  /**
   * A token for a blocking notification read on `socket`. `autoAckMs` (asked once the token is
   * issued): after this long without the flow's ack the client answers itself; 0 = never.
   */
  issue(handle: AckHandle, socket: net.Socket, autoAckMs: () => number): AckToken {
    const live: LiveAck = { handle, socket };
    const token = this.registry.issue(handle.kind, live);
    const ms = autoAckMs();
    if (ms > 0) {
      live.timer = this.clock.setTimeout(() => {
        live.timer = undefined;
        // The timer is cleared when the flow acks or the connection ends, so the handle is open.
        if (!this.registry.forget(token.id)) return;
        this.write(live).catch(() => undefined); // the socket died: NSO has released the wait itself
        this.autoAcked({ token, kind: handle.kind, why: "timeout" });
      }, ms);
    }
    return token;
  }

  /** See NsoClient.ack. */
  ack(token: unknown): Promise<AckHandle> {
    let live: LiveAck;
    try {
      live = this.registry.take(token).handle;
    } catch (e) {
      return Promise.reject(asError(e));
    }
    if (live.timer !== undefined) this.clock.clearTimeout(live.timer);
    return this.write(live);
  }

  private write(live: LiveAck): Promise<AckHandle> {
    return new Promise((resolve, reject) => {
      if (live.socket.destroyed || !live.socket.writable) {
        reject(new AckError("ack-connection-gone", "the NSO connection of this ack is closed"));
        return;
      }
      live.socket.write(encodeFrame(encodeTerm(ackTerm(live.handle), { atoms: "utf8" })), (err) => (err ? reject(asError(err)) : resolve(live.handle)));
    });
  }
}
