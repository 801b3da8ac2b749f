import type * as net from "node:net";
import { encodeTerm } from "../../nso/term";
import { isTuple, Term, Tuple } from "../../nso/term/types";
import { NOTIF_BITS } from "../../nso/constants";
import { encodeFrame } from "../../nso/framing";
import type { ParsedHeader } from "../../nso/handshake";
import type { Spec } from "./builders";
import type { AckOutcome, SubscriberInfo } from "./types";

/** A blocking notification written to a subscriber, waiting for its ack. */
export interface Pending {
  key: string;
  timer: NodeJS.Timeout;
  resolve: (o: AckOutcome) => void;
}

/**
 * One client of the event socket: what it subscribed to (once it has), the blocking
 * notifications that wait for its ack, and its heartbeat/health-check timers.
 */
export class Subscriber {
  info: SubscriberInfo | undefined;
  readonly pending = new Map<string, Pending>();
  readonly timers = new Set<NodeJS.Timeout>();
  streamDone = false;
  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly header: ParsedHeader,
  ) {}

  write(t: Term): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(encodeTerm(t)));
  }

  /**
   * Wait for the ack of `key` (see blockingKey). A second wait for the same key ends the first
   * as "closed". Without an ack within `timeoutMs` the outcome is "timeout" and `timedOut` runs.
   */
  awaitAck(key: string, timeoutMs: number, timedOut: () => void): Promise<AckOutcome> {
    return new Promise<AckOutcome>((resolve) => {
      const prev = this.pending.get(key);
      if (prev) {
        clearTimeout(prev.timer);
        prev.resolve("closed");
      }
      const timer = setTimeout(() => {
        this.pending.delete(key);
        resolve("timeout");
        timedOut();
      }, timeoutMs);
      timer.unref?.();
      this.pending.set(key, { key, timer, resolve });
    });
  }

  /** The wait an ack answers, no longer pending; undefined when nothing waits for it. */
  takeAck(key: string): Pending | undefined {
    const p = this.pending.get(key);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(p.key);
    return p;
  }

  every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref?.();
    this.timers.add(t);
  }

  /** Timers stop, every wait ends as "closed", the socket is destroyed. */
  end(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve("closed");
    }
    this.pending.clear();
    this.socket.destroy();
  }
}

/** The ack a notification waits for, as `kind:id`; undefined when it does not block (§8). */
export function blockingKey(spec: Spec, term: Term, mask: number): string | undefined {
  if (!isTuple(term)) return undefined;
  const B = NOTIF_BITS;
  switch (spec.type) {
    case "NOTIF_COMMIT_DIFF":
      return `diff:${term.get(3) as number}`;
    case "NOTIF_AUDIT":
      return mask & B.NOTIF_AUDIT_SYNC ? `audit:${term.get(3) as number}` : undefined;
    case "NOTIF_AUDIT_NETWORK":
      return mask & B.NOTIF_AUDIT_NETWORK_SYNC ? `audit_network:${(term.get(1) as Tuple).get(0) as number}` : undefined;
    case "NOTIF_HA_INFO":
      return mask & B.NOTIF_HA_INFO_SYNC ? "ha:0" : undefined;
  }
  return undefined;
}
