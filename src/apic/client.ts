import { EventEmitter } from "node:events";
import type WebSocket from "ws";
import { Backoff } from "../core/backoff";
import { Clock, systemClock, TimerHandle } from "../core/clock";
import { DropCounter } from "../core/drops";
import { asError, InfraError, ProtocolError } from "../core/errors";
import { Attempt, ConnectionLifecycle, StateChange } from "../core/lifecycle";
import { ApicError } from "./envelope";
import { decodeFrame, readIds, readMo } from "./frames";
import { buildQuery } from "./query";
import { ApicRest } from "./rest";
import { Credentials, login, logout, refresh, SessionToken } from "./session";
import { openSocket } from "./socket";
import { LocalSubscription, SubscriptionListener } from "./subscription";
import type { ApicEvent, ApicGap, SubscriptionSpec } from "./types";

export interface ApicClientOptions {
  /** Controller addresses, tried in order; on failure the next one is used. */
  hosts: string[];
  credentials: Credentials;
  /** TLS options for https controllers (from tls-config: ca, rejectUnauthorized, ...). */
  tls?: Record<string, unknown>;
  clock?: Clock;
  backoff?: Backoff;
  /** Per REST request. Default 15 s. */
  requestTimeoutMs?: number;
  /** Login + socket open must finish within this. Default 20 s. */
  handshakeTimeoutMs?: number;
  /** WebSocket ping period; a missing pong for two periods ends the connection. Default 30 s; 0 = off. */
  pingIntervalMs?: number;
  /** refresh-timeout sent with every subscription (seconds); undefined = APIC default (60 s). */
  refreshTimeoutSeconds?: number;
  /** Frames above this are dropped and counted, the socket stays. Default 4 MB. */
  maxFrameBytes?: number;
  /** Frames for ids not known yet, kept while a subscribe is in flight. Default 1000. */
  maxBufferedFrames?: number;
  /** Re-login this long before the session's maximum lifetime. Default 10% of it, at most 600 s. */
  maxLifetimeMarginSeconds?: number;
}

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
  /** Connected to a controller (after login + socket). */
  session: [{ host: string; version: string }];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Errors after which trying the same controller again is pointless: move on. */
function rotates(err: Error): boolean {
  if (err instanceof ApicError) return err.kind === "network" || err.kind === "server" || err.kind === "protocol";
  const code = (err as InfraError).code;
  return code === "handshake-timeout" || code === "liveness-timeout" || code === "apic-socket-lost";
}

interface Conn {
  attempt: Attempt;
  host: string;
  rest: ApicRest;
  token: string;
  ws?: WebSocket;
  timers: Set<TimerHandle>;
}

interface BufferedFrame {
  ids: string[];
  waiting: Set<string>;
  data: string;
}

/**
 * One APIC session that stays subscribed for weeks: login, one WebSocket, every local
 * subscription subscribed and refreshed, token refreshed at half its lifetime and replaced
 * before its maximum lifetime. Any break (socket lost, half-open, 403, 405, 5xx, timeouts)
 * tears the session down, backs off, moves to the next controller where that helps, and on
 * the way back announces a gap to every owner and re-reads each query (`sync` events).
 */
export class ApicClient extends EventEmitter<ApicClientEvents> {
  readonly lifecycle: ConnectionLifecycle;
  readonly drops = new DropCounter();
  private readonly clock: Clock;
  private readonly subs = new Set<LocalSubscription>();
  private readonly byId = new Map<string, LocalSubscription>();
  private conn: Conn | undefined;
  private hostIndex = 0;
  private lostAt: number | undefined;
  private lostReason = "";
  private pendingSubscribes = 0;
  private buffered: BufferedFrame[] = [];
  private closed = false;
  private eventCount = 0;
  private frameCount = 0;
  private readonly opts: Required<Omit<ApicClientOptions, "tls" | "clock" | "backoff" | "refreshTimeoutSeconds" | "maxLifetimeMarginSeconds">> &
    ApicClientOptions;

  constructor(options: ApicClientOptions) {
    super();
    if (!Array.isArray(options.hosts) || options.hosts.length === 0) throw new ApicError("request", "no APIC controller address configured");
    for (const h of options.hosts) new URL(h); // throws on a malformed address, before any connect
    this.opts = {
      requestTimeoutMs: 15000,
      handshakeTimeoutMs: 20000,
      pingIntervalMs: 30000,
      maxFrameBytes: 4 * 1024 * 1024,
      maxBufferedFrames: 1000,
      ...options,
    };
    this.clock = options.clock ?? systemClock;
    this.lifecycle = new ConnectionLifecycle({
      open: (a) => this.open(a),
      backoff: options.backoff,
      clock: this.clock,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      livenessTimeoutMs: this.opts.pingIntervalMs > 0 ? this.opts.pingIntervalMs * 2 : 0,
    });
    this.lifecycle.on("state", (c) => this.onState(c));
  }

  /** The controller in use (or to be tried next). */
  get host(): string {
    return this.conn?.host ?? this.opts.hosts[this.hostIndex];
  }

  get connected(): boolean {
    return this.lifecycle.state === "connected";
  }

  get stats(): { events: number; frames: number; dropped: number; subscriptions: number } {
    return { events: this.eventCount, frames: this.frameCount, dropped: this.drops.total, subscriptions: this.subs.size };
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
    const query = buildQuery(spec, this.opts.refreshTimeoutSeconds);
    const sub = new LocalSubscription(spec, query, listener);
    this.subs.add(sub);
    const c = this.conn;
    if (c && this.connected) void this.subscribeOne(c, sub, false);
    return sub;
  }

  /** Stop delivering and refreshing; APIC has no unsubscribe, the id simply lapses. */
  unsubscribe(sub: LocalSubscription): void {
    if (!this.subs.delete(sub)) return;
    sub.closed = true;
    this.forgetId(sub);
    if (sub.refreshTimer !== undefined) this.clock.clearTimeout(sub.refreshTimer);
    sub.refreshTimer = undefined;
  }

  subscriptions(listener?: SubscriptionListener): LocalSubscription[] {
    return [...this.subs].filter((s) => listener === undefined || s.listener === listener);
  }

  // ---- connection ------------------------------------------------------------------------

  private async open(attempt: Attempt): Promise<void> {
    const host = this.opts.hosts[this.hostIndex % this.opts.hosts.length];
    const rest = new ApicRest(host, { tls: this.opts.tls, timeoutMs: this.opts.requestTimeoutMs });
    const c: Conn = { attempt, host, rest, token: "", timers: new Set() };
    this.conn = c;
    attempt.onEnd(() => this.teardown(c));

    const session = await login(rest, this.opts.credentials);
    if (!attempt.active) return;
    c.token = session.token;
    const ws = await openSocket(host, session.token, { tls: this.opts.tls, handshakeTimeoutMs: this.opts.handshakeTimeoutMs, hardMaxBytes: Math.max(this.opts.maxFrameBytes * 4, 64 * 1024 * 1024) }, attempt.signal);
    if (!attempt.active) {
      ws.terminate();
      return;
    }
    c.ws = ws;
    this.wireSocket(c, ws);
    this.scheduleTokenRefresh(c, session);
    this.scheduleMaxLifetime(c, session);
    attempt.established();
    this.emit("session", { host, version: session.version });
    await this.subscribeAll(c);
  }

  private onState(change: StateChange): void {
    if (change.state === "waiting-to-retry" || change.state === "closed") {
      if (this.lostAt === undefined && change.previous === "connected") {
        this.lostAt = this.clock.now();
        this.lostReason = change.reason?.message ?? "connection lost";
      }
      if (change.state === "waiting-to-retry" && change.reason && rotates(change.reason) && this.opts.hosts.length > 1) {
        this.hostIndex = (this.hostIndex + 1) % this.opts.hosts.length;
      }
    }
    this.emit("state", change);
  }

  private wireSocket(c: Conn, ws: WebSocket): void {
    const a = c.attempt;
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      a.alive();
      this.onFrame(data, isBinary);
    });
    ws.on("pong", () => a.alive());
    ws.on("ping", () => a.alive());
    ws.on("close", (code: number, reason: Buffer) => {
      a.fail(new InfraError("apic-socket-lost", `socket closed (code ${code}${reason.length ? `: ${reason.toString().slice(0, 60)}` : ""}) by ${c.host}`));
    });
    ws.on("error", (e: Error) => a.fail(new InfraError("apic-socket-lost", `socket error: ${e.message}`)));
    if (this.opts.pingIntervalMs > 0) {
      // A half-open TCP connection never delivers 'close': only a missing pong reveals it
      // (the lifecycle's liveness watchdog fires when no pong/frame arrived for two periods).
      const tick = (): void => {
        if (!a.active) return;
        try {
          ws.ping();
        } catch (e) {
          a.fail(new InfraError("apic-socket-lost", `ping failed: ${asError(e).message}`));
          return;
        }
        this.later(c, tick, this.opts.pingIntervalMs);
      };
      this.later(c, tick, this.opts.pingIntervalMs);
    }
  }

  private teardown(c: Conn): void {
    for (const t of c.timers) this.clock.clearTimeout(t);
    c.timers.clear();
    if (this.conn === c) this.conn = undefined;
    this.byId.clear();
    this.buffered = [];
    this.pendingSubscribes = 0;
    for (const s of this.subs) {
      s.id = undefined;
      if (s.refreshTimer !== undefined) this.clock.clearTimeout(s.refreshTimer);
      s.refreshTimer = undefined;
    }
    if (c.ws) {
      c.ws.removeAllListeners("message");
      c.ws.removeAllListeners("close");
      // Keep an error listener: a late socket error must not become an uncaught exception.
      c.ws.removeAllListeners("error");
      c.ws.on("error", () => undefined);
      c.ws.terminate();
    }
    const token = c.token;
    // Stopped for good (close(), or the lifecycle stopped by the last user leaving), not a retry.
    const stopped = this.closed || (c.attempt.signal.reason as InfraError | undefined)?.code === "closed";
    if (token && stopped) {
      // Best effort: APIC may keep the session until refreshes stop; nothing waits on this.
      logout(c.rest, token, this.opts.credentials).catch(() => undefined).finally(() => c.rest.close());
    } else {
      c.rest.close();
    }
  }

  private later(c: Conn, fn: () => void, ms: number): void {
    // setTimeout fires at once beyond 2^31-1 ms (24.8 days): a long maximum lifetime must not.
    ms = Math.min(Math.max(0, ms), MAX_TIMER_MS);
    const t = this.clock.setTimeout(() => {
      c.timers.delete(t);
      if (c.attempt.active) fn();
    }, ms);
    c.timers.add(t);
  }

  private scheduleTokenRefresh(c: Conn, s: SessionToken): void {
    this.later(
      c,
      () => {
        refresh(c.rest, c.token)
          .then((next) => {
            if (!c.attempt.active) return;
            c.token = next.token;
            this.scheduleTokenRefresh(c, next);
          })
          .catch((e: unknown) => c.attempt.fail(asError(e)));
      },
      (s.refreshTimeoutSeconds * 1000) / 2,
    );
  }

  private scheduleMaxLifetime(c: Conn, s: SessionToken): void {
    const margin = this.opts.maxLifetimeMarginSeconds ?? Math.min(600, s.maximumLifetimeSeconds / 10);
    const at = Math.max(s.maximumLifetimeSeconds - margin, s.maximumLifetimeSeconds / 2) * 1000;
    this.later(c, () => c.attempt.fail(new InfraError("apic-session-lifetime", "session reached its maximum lifetime: logging in again")), at);
  }

  // ---- subscriptions ---------------------------------------------------------------------

  private async subscribeAll(c: Conn): Promise<void> {
    if (this.lostAt !== undefined) {
      const gapBase = { reason: this.lostReason, since: this.lostAt, until: this.clock.now() };
      this.lostAt = undefined;
      const owners = new Map<SubscriptionListener, string[]>();
      for (const s of this.subs) owners.set(s.listener, [...(owners.get(s.listener) ?? []), s.query.path]);
      for (const [l, queries] of owners) this.safeGap(l, { ...gapBase, queries });
    }
    for (const s of [...this.subs]) {
      if (!c.attempt.active) return;
      if (s.closed || s.id !== undefined) continue;
      await this.subscribeOne(c, s, false);
    }
  }

  /** Subscribe one query; its snapshot goes out as `sync`. Session-level failures end the attempt. */
  private async subscribeOne(c: Conn, s: LocalSubscription, announceGap: boolean): Promise<void> {
    this.pendingSubscribes++;
    let reply;
    try {
      reply = (await c.rest.request("GET", s.query.subscribePath, `subscribe ${s.query.path}`, c.token)).reply;
    } catch (e) {
      this.pendingSubscribes = Math.max(0, this.pendingSubscribes - 1);
      const err = asError(e);
      if (!c.attempt.active || s.closed) return;
      if (err instanceof ApicError && err.kind === "request") {
        // This query is wrong (APIC said 400): the others are fine; the owner hears why.
        s.lastError = err;
        this.safeError(s, err);
        this.flushBuffered();
        return;
      }
      c.attempt.fail(err);
      return;
    }
    this.pendingSubscribes = Math.max(0, this.pendingSubscribes - 1);
    if (!c.attempt.active || s.closed) return;
    const ids = readIds(reply.subscriptionId);
    if (!ids || ids.length !== 1) {
      c.attempt.fail(new ApicError("protocol", `subscribe ${s.query.path}: reply has no subscriptionId`));
      return;
    }
    s.id = ids[0];
    s.lastError = undefined;
    s.subscribedAt = this.clock.now();
    this.byId.set(s.id, s);
    if (announceGap) {
      this.safeGap(s.listener, { reason: s.lapseReason ?? "subscription lapsed", since: s.lastRefreshAt, until: this.clock.now(), queries: [s.query.path] });
    }
    s.lastRefreshAt = this.clock.now();
    for (const item of reply.imdata) {
      const mo = readMo(item, true);
      if (typeof mo === "string") {
        this.drop(`snapshot-${mo}`, new ProtocolError("apic-bad-snapshot", `subscribe ${s.query.path}: snapshot item skipped (${mo})`));
        continue;
      }
      this.deliver(s, { class: mo.class, dn: mo.dn, status: "sync", attributes: mo.attributes, subscriptionIds: [s.id] });
    }
    this.scheduleSubRefresh(c, s);
    this.flushBuffered();
  }

  private scheduleSubRefresh(c: Conn, s: LocalSubscription): void {
    if (s.refreshTimer !== undefined) this.clock.clearTimeout(s.refreshTimer);
    const t = this.clock.setTimeout(() => {
      c.timers.delete(t);
      s.refreshTimer = undefined;
      if (c.attempt.active && !s.closed && s.id !== undefined) void this.refreshSub(c, s);
    }, Math.min((s.query.refreshTimeoutSeconds * 1000) / 2, MAX_TIMER_MS));
    s.refreshTimer = t;
    c.timers.add(t);
  }

  private async refreshSub(c: Conn, s: LocalSubscription): Promise<void> {
    const id = s.id!;
    try {
      await c.rest.request("GET", `/api/subscriptionRefresh.json?id=${id}`, `subscriptionRefresh ${id}`, c.token);
    } catch (e) {
      const err = asError(e);
      if (!c.attempt.active || s.closed || s.id !== id) return;
      if (err instanceof ApicError && (err.kind === "request" || err.kind === "protocol")) {
        // The id lapsed (or APIC forgot it): subscribe the query again and say it may have missed changes.
        this.forgetId(s);
        s.lapseReason = `subscription ${id} could not be refreshed: ${err.message}`;
        await this.subscribeOne(c, s, true);
        return;
      }
      c.attempt.fail(err);
      return;
    }
    if (!c.attempt.active || s.closed || s.id !== id) return;
    s.lastRefreshAt = this.clock.now();
    this.scheduleSubRefresh(c, s);
  }

  private forgetId(s: LocalSubscription): void {
    if (s.id !== undefined && this.byId.get(s.id) === s) this.byId.delete(s.id);
    s.id = undefined;
  }

  // ---- frames ----------------------------------------------------------------------------

  private onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.frameCount++;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (buf.length > this.opts.maxFrameBytes) {
      this.drop("oversize-frame", new ProtocolError("apic-oversize-frame", `notification frame of ${buf.length} bytes exceeds the ${this.opts.maxFrameBytes}-byte limit`));
      return;
    }
    if (isBinary) {
      this.drop("binary-frame", new ProtocolError("apic-binary-frame", "binary WebSocket frame (APIC sends text)"));
      return;
    }
    this.dispatch(buf.toString("utf8"), undefined);
  }

  /** Deliver a frame to the local subscriptions its ids name (`only`: just these ids). */
  private dispatch(data: string, only: Set<string> | undefined): void {
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (e) {
      const err = asError(e);
      this.drop((err as InfraError).code ?? "bad-frame", err);
      return;
    }
    for (const why of frame.skipped) this.drop(why, new ProtocolError(`apic-${why}`, `notification item skipped: ${why}`));
    const waiting = new Set<string>();
    const seen = new Set<LocalSubscription>();
    for (const id of frame.ids) {
      if (only && !only.has(id)) continue;
      const s = this.byId.get(id);
      if (!s) {
        waiting.add(id);
        continue;
      }
      if (seen.has(s)) continue;
      // Each listener gets its own objects: a flow may change a payload in place.
      const copy = seen.size > 0;
      seen.add(s);
      for (const ch of frame.changes) {
        this.deliver(s, {
          class: ch.class,
          dn: ch.dn,
          status: ch.status as ApicEvent["status"],
          attributes: copy ? { ...ch.attributes } : ch.attributes,
          subscriptionIds: copy ? [...frame.ids] : frame.ids,
        });
      }
    }
    if (waiting.size === 0) return;
    if (this.pendingSubscribes > 0 && this.buffered.length < this.opts.maxBufferedFrames) {
      // A change can reach us before the subscribe reply that tells us its id: hold it briefly.
      this.buffered.push({ ids: frame.ids, waiting, data });
    } else if (seen.size === 0) {
      this.drops.add("unknown-subscription-id"); // only stale ids (lapsed subscriptions): normal, only counted
    }
  }

  private flushBuffered(): void {
    if (this.buffered.length === 0) return;
    const keep: BufferedFrame[] = [];
    const frames = this.buffered;
    this.buffered = [];
    for (const f of frames) {
      const ready = new Set([...f.waiting].filter((id) => this.byId.has(id)));
      if (ready.size > 0) this.dispatch(f.data, ready);
      for (const id of ready) f.waiting.delete(id);
      if (f.waiting.size > 0 && this.pendingSubscribes > 0) keep.push(f);
      else if (f.waiting.size > 0) this.drops.add("unknown-subscription-id");
    }
    this.buffered.push(...keep);
  }

  private deliver(s: LocalSubscription, ev: ApicEvent): void {
    this.eventCount++;
    try {
      s.listener.onEvent(ev, s);
    } catch (e) {
      this.drop("listener-error", asError(e));
    }
  }

  private safeGap(l: SubscriptionListener, gap: ApicGap): void {
    try {
      l.onGap(gap);
    } catch (e) {
      this.drop("listener-error", asError(e));
    }
  }

  private safeError(s: LocalSubscription, err: Error): void {
    try {
      s.listener.onError?.(err, s);
    } catch (e) {
      this.drop("listener-error", asError(e));
    }
  }

  private drop(reason: string, error: Error): void {
    const first = this.drops.add(reason);
    this.emit("drop", { reason, error, first });
  }
}
