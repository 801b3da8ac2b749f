import { maskOf, NOTIF_BITS, hasBit, FLAG_BITS } from "./constants";
import type { StreamSubscription, SubscriptionRequest } from "./subscription";

/**
 * Several flow nodes share one NSO socket, and NSO has one subscription per socket: the mux
 * merges what each consumer wants into one request (union of types, shortest intervals,
 * highest verbosity, one stream) and says which consumers get a given notification.
 */
export interface ConsumerWish {
  /** Constant names: message types and sync flags (e.g. NOTIF_AUDIT, NOTIF_AUDIT_SYNC). */
  types: readonly string[];
  heartbeatMs?: number;
  healthCheckMs?: number;
  stream?: StreamSubscription;
  verbosity?: number;
  /** Auto-ack after this many ms; 0 = never. */
  autoAckMs?: number;
}

export interface MuxOptions {
  /** Heartbeats the connection itself asks for (the watchdog); 0 = none. */
  heartbeatMs: number;
}

/** The progress bits are delivered under either tag (§7): one consumer type matches both. */
const PROGRESS = new Set(["NOTIF_PROGRESS", "NOTIF_COMMIT_PROGRESS"]);

export class SubscriptionMux<C> {
  private readonly wishes = new Map<C, { wish: ConsumerWish; mask: number }>();
  private lastKey: string | undefined;

  constructor(private readonly opts: MuxOptions) {}

  get size(): number {
    return this.wishes.size;
  }

  /** Adds or replaces a consumer's wish; throws on an unknown type name. */
  set(consumer: C, wish: ConsumerWish): void {
    this.wishes.set(consumer, { wish, mask: maskOf(wish.types) });
  }

  delete(consumer: C): boolean {
    return this.wishes.delete(consumer);
  }

  /** The merged request, or undefined when nobody wants anything. Remembers it as "sent". */
  request(): SubscriptionRequest | undefined {
    const r = this.compute();
    this.lastKey = r ? keyOf(r) : undefined;
    return r;
  }

  /** True when the merged request differs from the one last sent (time to resubscribe). */
  changed(): boolean {
    const r = this.compute();
    return (r ? keyOf(r) : undefined) !== this.lastKey;
  }

  /** Consumers that asked for a stream different from the one subscribed (NSO allows one per socket). */
  streamConflicts(): C[] {
    const withStream = [...this.wishes.entries()].filter(([, w]) => hasBit(w.mask, "NOTIF_STREAM_EVENT") && w.wish.stream);
    if (withStream.length < 2) return [];
    const first = JSON.stringify(withStream[0][1].wish.stream);
    return withStream.filter(([, w]) => JSON.stringify(w.wish.stream) !== first).map(([c]) => c);
  }

  /** Consumers that receive a notification of `typeName` (NOTIF_UNKNOWN goes to everyone: their "other" output). */
  recipients(typeName: string): C[] {
    const out: C[] = [];
    for (const [c, w] of this.wishes) if (this.wants(w.wish, typeName)) out.push(c);
    return out;
  }

  /** The shortest non-zero auto-ack delay among the recipients of `typeName`; 0 = none wants one. */
  autoAckMs(typeName: string): number {
    let best = 0;
    for (const c of this.recipients(typeName)) {
      const ms = this.wishes.get(c)!.wish.autoAckMs ?? 0;
      if (ms > 0 && (best === 0 || ms < best)) best = ms;
    }
    return best;
  }

  private wants(w: ConsumerWish, typeName: string): boolean {
    if (typeName === "NOTIF_UNKNOWN") return true;
    if (w.types.includes(typeName)) return true;
    return PROGRESS.has(typeName) && w.types.some((t) => PROGRESS.has(t));
  }

  private compute(): SubscriptionRequest | undefined {
    if (this.wishes.size === 0) return undefined;
    let mask = 0;
    let hb = 0;
    let hc = 0;
    let verbosity = 0;
    let stream: StreamSubscription | undefined;
    const minPos = (a: number, b: number | undefined): number => (b && b > 0 ? (a === 0 ? b : Math.min(a, b)) : a);
    for (const { wish, mask: m } of this.wishes.values()) {
      mask |= m;
      if (hasBit(m, "NOTIF_HEARTBEAT")) hb = minPos(hb, wish.heartbeatMs ?? 1000);
      if (hasBit(m, "NOTIF_HEALTH_CHECK")) hc = minPos(hc, wish.healthCheckMs ?? 1000);
      verbosity = Math.max(verbosity, wish.verbosity ?? 0);
      if (!stream && hasBit(m, "NOTIF_STREAM_EVENT") && wish.stream) stream = wish.stream;
    }
    // Only flags: nothing would ever be delivered.
    if ((mask & ~flagMask()) === 0) return undefined;
    if (this.opts.heartbeatMs > 0) {
      mask |= NOTIF_BITS.NOTIF_HEARTBEAT;
      hb = minPos(hb, this.opts.heartbeatMs);
    }
    if (hasBit(mask, "NOTIF_STREAM_EVENT") && !stream) mask &= ~NOTIF_BITS.NOTIF_STREAM_EVENT;
    return { mask: mask >>> 0, heartbeatMs: hb, healthCheckMs: hc, verbosity, stream };
  }
}

let flags: number | undefined;
function flagMask(): number {
  if (flags === undefined) flags = maskOf(FLAG_BITS);
  return flags;
}

function keyOf(r: SubscriptionRequest): string {
  return JSON.stringify([r.mask, r.heartbeatMs, r.healthCheckMs, r.verbosity, r.stream ?? null]);
}
