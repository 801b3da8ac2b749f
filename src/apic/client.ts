import { EventEmitter } from "node:events";
import { AuthAwareBackoff } from "../core/auth-backoff";
import { Clock, systemClock } from "../core/clock";
import { DropCounter } from "../core/drops";
import { TypeCounts } from "../core/type-counts";
import { InfraError } from "../core/errors";
import { Attempt, ConnectionLifecycle, StateChange } from "../core/lifecycle";
import { PauseGate } from "../core/pause-gate";
import { endSess, loginCounted, newSess, type ClientContext, type Conn } from "./connection";
import { ApicError } from "./envelope";
import { ApicClientOptions, resolveOptions } from "./options";
import { buildQuery } from "./query";
import { scheduleMaxLifetime, scheduleTokenRefresh } from "./renewal";
import { ApicRest } from "./rest";
import { applyPause, openSocketFor, watchLiveness, wireSocket } from "./session-socket";
import { clearRetry, forgetId, subscribeAll, subscribeOne } from "./subscribe-refresh";
import { LocalSubscription, SubscriptionListener } from "./subscription";
import type { SubscriptionSpec } from "./types";

export type { ApicClientOptions } from "./options";

export interface DropReport {
  reason: string;
  error: Error;
  /** First drop of this reason: report it; later ones are only counted. */
  first: boolean;
}

export interface ApicClientEvents {
  state: [StateChange];
  /** A request/frame problem that did not end the connection. */
  drop: [DropReport];
  /** Connected to a controller (after login + socket); `renewed`: a renewal replaced the session without a break. */
  session: [{ host: string; version: string; renewed?: boolean }];
  /** Something went wrong that needs no recovery but should be known (e.g. a logout APIC refused). */
  warning: [Error];
}

/** Errors after which trying the same controller again is pointless: move on. */
function rotates(err: Error): boolean {
  if (err instanceof ApicError) return err.kind === "network" || err.kind === "server" || err.kind === "protocol";
  const code = (err as InfraError).code;
  return code === "handshake-timeout" || code === "liveness-timeout" || code === "apic-socket-lost";
}

/**
 * One APIC session that stays subscribed for weeks: login, one WebSocket, every local
 * subscription subscribed and refreshed, token refreshed at half its lifetime. Before the
 * session's maximum lifetime a second session is logged in, its socket opened and every query
 * subscribed on it while the first still delivers (copies from both deduplicated); then the old
 * one is logged out: no gap, no re-read. Any break (socket lost, half-open, 403, 405, 5xx,
 * timeouts) tears the session down, backs off, moves to the next controller where that helps,
 * and on the way back announces a gap to every owner and re-reads each query (`sync` events).
 * A query APIC refuses (400) is retried on its own with a capped backoff.
 *
 * This class is the facade: options, lifecycle, the local subscriptions, stats. The parts work
 * on its ClientContext (connection.ts): the session's socket (session-socket.ts), frames to
 * listeners (dispatch.ts), subscribe and refresh (subscribe-refresh.ts), renewal (renewal.ts).
 */
export class ApicClient extends EventEmitter<ApicClientEvents> {
  readonly lifecycle: ConnectionLifecycle;
  readonly drops = new DropCounter();
  /** Changes delivered, by class (for the health view). */
  readonly types = new TypeCounts();
  /**
   * Flow control: the users (apic-events nodes) hold it while their flow is behind; the sockets
   * stop reading, their buffers fill and APIC's writes back up. A controller that gives up on
   * such a socket and drops it costs a gap and a re-read, like any lost socket.
   */
  readonly gate: PauseGate;
  private readonly ctx: ClientContext;
  private hostIndex = 0;
  private closed = false;

  constructor(options: ApicClientOptions) {
    super();
    const opts = resolveOptions(options);
    const clock: Clock = options.clock ?? systemClock;
    const backoff = options.backoff instanceof AuthAwareBackoff ? options.backoff : new AuthAwareBackoff(options.backoff ?? {});
    this.gate = new PauseGate(
      (paused) => applyPause(this.ctx, paused),
      () => clock.now(),
    );
    this.ctx = {
      opts,
      clock,
      backoff,
      gate: this.gate,
      subs: new Set(),
      drops: this.drops,
      types: this.types,
      counts: { events: 0, frames: 0, renewals: 0, duplicates: 0, pauses: 0 },
      conn: undefined,
      heardAt: undefined,
      lostAt: undefined,
      lostReason: "",
      drop: (reason, error) => {
        const first = this.drops.add(reason);
        this.emit("drop", { reason, error, first });
      },
      sessionOpened: (info) => this.emit("session", info),
      warn: (err) => this.emit("warning", err),
    };
    this.lifecycle = new ConnectionLifecycle({
      open: (a) => this.open(a),
      backoff,
      clock,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      // The liveness watchdog is our own (see watchLiveness): it must know about paused reading.
      livenessTimeoutMs: 0,
    });
    this.lifecycle.on("state", (c) => this.onState(c));
  }

  /** The controller in use (or to be tried next). */
  get host(): string {
    return this.ctx.conn?.host ?? this.ctx.opts.hosts[this.hostIndex];
  }

  get connected(): boolean {
    return this.lifecycle.state === "connected";
  }

  /**
   * When the connection in use was last known good: its socket opened, or a frame, pong or ping
   * arrived on it. A gap starts here, not when the loss is noticed (a half-open socket is only
   * noticed two ping periods later, and whatever changed in between was lost with it).
   */
  get lastHeardAt(): number | undefined {
    return this.ctx.heardAt;
  }

  /**
   * `renewals`: sessions replaced without a break; `duplicates`: copies of a change suppressed
   * during them; `pauses`: how often reading was held back for a flow that fell behind.
   */
  get stats(): { events: number; frames: number; dropped: number; subscriptions: number; renewals: number; duplicates: number; pauses: number } {
    const n = this.ctx.counts;
    return {
      events: n.events,
      frames: n.frames,
      dropped: this.drops.total,
      subscriptions: this.ctx.subs.size,
      renewals: n.renewals,
      duplicates: n.duplicates,
      pauses: n.pauses,
    };
  }

  start(): void {
    this.closed = false;
    this.lifecycle.start();
  }

  /** Stop for good: timers cleared, socket closed, best-effort logout. */
  close(): void {
    this.closed = true;
    this.lifecycle.stop();
  }

  /**
   * Add a subscription for `listener`. Throws QueryError for a bad spec. Subscribed at once
   * when connected (its current objects arrive as `sync`), otherwise on connect.
   */
  subscribe(spec: SubscriptionSpec, listener: SubscriptionListener): LocalSubscription {
    const query = buildQuery(spec, this.ctx.opts.refreshTimeoutSeconds);
    const sub = new LocalSubscription(spec, query, listener);
    this.ctx.subs.add(sub);
    const c = this.ctx.conn;
    // During a renewal the renewal's own pass subscribes it on the new session too.
    if (c && this.connected) void subscribeOne(this.ctx, c, c.sess, sub, "sync");
    return sub;
  }

  /** Stop delivering and refreshing; APIC has no unsubscribe, the id simply lapses. */
  unsubscribe(sub: LocalSubscription): void {
    if (!this.ctx.subs.delete(sub)) return;
    sub.closed = true;
    const c = this.ctx.conn;
    if (c) {
      for (const sess of [c.sess, c.next]) if (sess) forgetId(this.ctx, sess, sub);
    }
    clearRetry(this.ctx, sub);
    sub.id = undefined;
  }

  subscriptions(listener?: SubscriptionListener): LocalSubscription[] {
    return [...this.ctx.subs].filter((s) => listener === undefined || s.listener === listener);
  }

  // ---- connection ------------------------------------------------------------------------

  private async open(attempt: Attempt): Promise<void> {
    const ctx = this.ctx;
    const host = ctx.opts.hosts[this.hostIndex % ctx.opts.hosts.length];
    const rest = new ApicRest(host, { tls: ctx.opts.tls, timeoutMs: ctx.opts.requestTimeoutMs });
    const c: Conn = { attempt, host, rest, sess: newSess(ctx), timers: new Set(), watchdogs: new Set() };
    ctx.conn = c;
    attempt.onEnd(() => this.teardown(c));

    const session = await loginCounted(ctx, rest);
    if (!attempt.active) return;
    c.sess.token = session.token;
    const ws = await openSocketFor(ctx, c, session.token);
    if (!attempt.active) {
      ws.terminate();
      return;
    }
    c.sess.ws = ws;
    wireSocket(ctx, c, c.sess, ws);
    ctx.heardAt = c.sess.heard.at;
    scheduleTokenRefresh(ctx, c, c.sess, session);
    scheduleMaxLifetime(ctx, c, session);
    attempt.established();
    watchLiveness(ctx, c);
    this.emit("session", { host, version: session.version });
    await subscribeAll(ctx, c);
  }

  private onState(change: StateChange): void {
    const ctx = this.ctx;
    if (change.state === "waiting-to-retry" || change.state === "closed") {
      if (ctx.lostAt === undefined && change.previous === "connected") {
        // Set when this connection's socket opened, so it is never an older connection's.
        ctx.lostAt = Math.min(ctx.heardAt ?? Infinity, ctx.clock.now());
        ctx.lostReason = change.reason?.message ?? "connection lost";
      }
      if (change.state === "waiting-to-retry" && change.reason && rotates(change.reason) && ctx.opts.hosts.length > 1) {
        this.hostIndex = (this.hostIndex + 1) % ctx.opts.hosts.length;
      }
    }
    this.emit("state", change);
  }

  private teardown(c: Conn): void {
    const ctx = this.ctx;
    for (const t of c.timers) ctx.clock.clearTimeout(t);
    c.timers.clear();
    for (const w of c.watchdogs) w.stop();
    c.watchdogs.clear();
    if (ctx.conn === c) ctx.conn = undefined;
    for (const s of ctx.subs) {
      s.id = undefined;
      s.retryTimer = undefined;
      s.retryAt = undefined;
    }
    // Stopped for good (close(), or the lifecycle stopped by the last user leaving), not a retry.
    const stopped = this.closed || (c.attempt.signal.reason as InfraError | undefined)?.code === "closed";
    const pending: Array<Promise<void>> = [];
    // Best effort: APIC may keep a session until refreshes stop; nothing waits on this. A
    // half-built renewal session is always logged out: nobody will use it again.
    if (c.next) pending.push(endSess(ctx, c, c.next, true));
    pending.push(endSess(ctx, c, c.sess, stopped));
    c.next = undefined;
    c.overlap = undefined;
    void Promise.all(pending).finally(() => c.rest.close());
  }
}
