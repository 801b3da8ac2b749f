import type { Backoff } from "../core/backoff";
import type { TimerHandle } from "../core/clock";
import type { BuiltQuery } from "./query";
import type { ApicEvent, ApicGap, SubscriptionSpec } from "./types";

/** Who receives a subscription's changes (an apic-events node, a test, a library user). */
export interface SubscriptionListener {
  onEvent(ev: ApicEvent, sub: LocalSubscription): void;
  /** Changes may have been missed for these queries; `sync` events for them follow. */
  onGap(gap: ApicGap): void;
  /** APIC refused this one query (e.g. HTTP 400 bad filter); the session and other queries carry on. */
  onError?(err: Error, sub: LocalSubscription): void;
}

let serial = 0;

/**
 * A query the flow wants, independent of any session: it outlives reconnects. `id` is the
 * APIC subscription id of the current session (a string: ids exceed 2^53), undefined while
 * not subscribed.
 */
export class LocalSubscription {
  readonly key = ++serial;
  id: string | undefined;
  closed = false;
  subscribedAt: number | undefined;
  lastRefreshAt: number | undefined;
  lapseReason: string | undefined;
  /** Set while changes may have been missed for this query alone: its next subscribe announces a gap. */
  gapSince: number | undefined;
  /** Why APIC refused the query last time (400); cleared once it is subscribed. */
  lastError: Error | undefined;
  /** Refusals in a row. */
  failures = 0;
  /** The retry of a refused query: its own capped backoff (see ApicClient). */
  retry: Backoff | undefined;
  retryTimer: TimerHandle;
  /** When the next retry of a refused query is due, ms since epoch. */
  retryAt: number | undefined;

  constructor(
    readonly spec: SubscriptionSpec,
    readonly query: BuiltQuery,
    readonly listener: SubscriptionListener,
  ) {}

  /** What `list` shows a flow. */
  describe(): {
    kind: string;
    target: string;
    options: SubscriptionSpec["options"];
    query: string;
    subscriptionId: string | null;
    error?: string;
    retryAt?: number;
  } {
    const d: ReturnType<LocalSubscription["describe"]> = {
      kind: this.spec.kind,
      target: this.spec.target,
      options: this.spec.options ?? "",
      query: this.query.path,
      subscriptionId: this.id ?? null,
    };
    if (this.lastError) d.error = this.lastError.message;
    if (this.lastError && this.retryAt !== undefined) d.retryAt = this.retryAt;
    return d;
  }
}
