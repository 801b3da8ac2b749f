import { EventEmitter } from "node:events";
import type WebSocket from "ws";
import { AuthAwareBackoff } from "../core/auth-backoff";
import { Backoff } from "../core/backoff";
import { Clock, systemClock, TimerHandle } from "../core/clock";
import { DropCounter } from "../core/drops";
import { TypeCounts } from "../core/type-counts";
import { asError, InfraError, ProtocolError } from "../core/errors";
import { Attempt, ConnectionLifecycle, StateChange } from "../core/lifecycle";
import { PauseGate } from "../core/pause-gate";
import { LastHeard, unreadBytes } from "../core/socket-reading";
import { Watchdog } from "../core/watchdog";
import { ApicError } from "./envelope";
import { decodeFrame, readIds, readMo } from "./frames";
import { buildQuery } from "./query";
import { ApicRest } from "./rest";
import { Credentials, login, logout, refresh, SessionToken } from "./session";
import { openSocket } from "./socket";
import { changeKey, OverlapDedup } from "./overlap";
import { LocalSubscription, SubscriptionListener } from "./subscription";
import type { ApicEvent, ApicGap, SubscriptionSpec } from "./types";

export interface ApicClientOptions {
  /** Controller addresses, tried in order; on failure the next one is used. */
  hosts: string[];
  credentials: Credentials;
  /** TLS options for https controllers (from tls-config: ca, rejectUnauthorized, ...). */
  tls?: Record<string, unknown>;
  clock?: Clock;
  /**
   * The reconnect schedule. A hold-off after repeated password rejections is always added
   * (core AuthAwareBackoff), so a wrong password never trips APIC's lockout policy.
   */
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
  /** Renew the session this long before its maximum lifetime. Default 10% of it, at most 600 s. */
  maxLifetimeMarginSeconds?: number;
  /** After a renewal, copies of a change from the old socket are still matched this long. Default 5 s. */
  renewalOverlapMs?: number;
  /** Retry of a query APIC refused (400): first delay, doubling up to the cap. Default 5 s to 5 min. */
  queryRetryInitialMs?: number;
  queryRetryMaxMs?: number;
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
  /** Connected to a controller (after login + socket); `renewed`: a renewal replaced the session without a break. */
  session: [{ host: string; version: string; renewed?: boolean }];
  /** Something went wrong that needs no recovery but should be known (e.g. a logout APIC refused). */
  warning: [Error];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Errors after which trying the same controller again is pointless: move on. */
function rotates(err: Error): boolean {
  if (err instanceof ApicError) return err.kind === "network" || err.kind === "server" || err.kind === "protocol";
  const code = (err as InfraError).code;
  return code === "handshake-timeout" || code === "liveness-timeout" || code === "apic-socket-lost";
}

interface BufferedFrame {
  ids: string[];
  waiting: Set<string>;
  data: string;
}

/**
 * One APIC login: its token, its socket and the subscription ids it holds. A connection has
 * one; during a renewal a second one is built beside it and replaces it once complete.
 */
interface Sess {
  token: string;
  ws?: WebSocket;
  ended: boolean;
  timers: Set<TimerHandle>;
  ids: Map<LocalSubscription, string>;
  byId: Map<string, LocalSubscription>;
  refreshTimers: Map<LocalSubscription, TimerHandle>;
  inflight: Set<LocalSubscription>;
  buffered: BufferedFrame[];
  /** Until when everything its socket carried has been read (frames read after a pause may be old). */
  heard: LastHeard;
}

interface Conn {
  attempt: Attempt;
  host: string;
  rest: ApicRest;
  sess: Sess;
  /** The session being prepared by a renewal, until it replaces `sess`. */
  next?: Sess;
  /**
   * Duplicate matching while the old and the new session overlap (and shortly after), only for
   * the queries subscribed on both (`both`): before that a change can only come from the old socket.
   */
  overlap?: { old: Sess; dedup: OverlapDedup; both: Set<LocalSubscription> };
  /** Timers that outlive a renewal (query retries). */
  timers: Set<TimerHandle>;
  /** The liveness watchdog and the renewal's hand-over wait: stopped with the connection. */
  watchdogs: Set<Watchdog>;
  liveness?: Watchdog;
}

function newSess(now: () => number): Sess {
  return {
    token: "",
    ended: false,
    timers: new Set(),
    ids: new Map(),
    byId: new Map(),
    refreshTimers: new Map(),
    inflight: new Set(),
    buffered: [],
    heard: new LastHeard(now),
  };
}

/** sync: snapshot as `sync`; gap: announce a gap first; renewal: the old session still covers it, no snapshot. */
type SubscribeMode = "sync" | "gap" | "renewal";

/**
 * One APIC session that stays subscribed for weeks: login, one WebSocket, every local
 * subscription subscribed and refreshed, token refreshed at half its lifetime. Before the
 * session's maximum lifetime a second session is logged in, its socket opened and every query
 * subscribed on it while the first still delivers (copies from both deduplicated); then the old
 * one is logged out: no gap, no re-read. Any break (socket lost, half-open, 403, 405, 5xx,
 * timeouts) tears the session down, backs off, moves to the next controller where that helps,
 * and on the way back announces a gap to every owner and re-reads each query (`sync` events).
 * A query APIC refuses (400) is retried on its own with a capped backoff.
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
  private pauses = 0;
  private readonly clock: Clock;
  private readonly backoff: AuthAwareBackoff;
  private readonly subs = new Set<LocalSubscription>();
  private conn: Conn | undefined;
  private hostIndex = 0;
  private lostAt: number | undefined;
  private lostReason = "";
  private heardAt: number | undefined;
  private closed = false;
  private eventCount = 0;
  private frameCount = 0;
  private renewals = 0;
  private duplicates = 0;
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
      renewalOverlapMs: 5000,
      queryRetryInitialMs: 5000,
      queryRetryMaxMs: 300000,
      ...options,
    };
    this.clock = options.clock ?? systemClock;
    this.backoff = options.backoff instanceof AuthAwareBackoff ? options.backoff : new AuthAwareBackoff(options.backoff ?? {});
    this.gate = new PauseGate(
      (paused) => this.applyPause(paused),
      () => this.clock.now(),
    );
    this.lifecycle = new ConnectionLifecycle({
      open: (a) => this.open(a),
      backoff: this.backoff,
      clock: this.clock,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      // The liveness watchdog is our own (see watchLiveness): it must know about paused reading.
      livenessTimeoutMs: 0,
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

  /**
   * When the connection in use was last known good: its socket opened, or a frame, pong or ping
   * arrived on it. A gap starts here, not when the loss is noticed (a half-open socket is only
   * noticed two ping periods later, and whatever changed in between was lost with it).
   */
  get lastHeardAt(): number | undefined {
    return this.heardAt;
  }

  /**
   * `renewals`: sessions replaced without a break; `duplicates`: copies of a change suppressed
   * during them; `pauses`: how often reading was held back for a flow that fell behind.
   */
  get stats(): { events: number; frames: number; dropped: number; subscriptions: number; renewals: number; duplicates: number; pauses: number } {
    return {
      events: this.eventCount,
      frames: this.frameCount,
      dropped: this.drops.total,
      subscriptions: this.subs.size,
      renewals: this.renewals,
      duplicates: this.duplicates,
      pauses: this.pauses,
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
    const query = buildQuery(spec, this.opts.refreshTimeoutSeconds);
    const sub = new LocalSubscription(spec, query, listener);
    this.subs.add(sub);
    const c = this.conn;
    // During a renewal the renewal's own pass subscribes it on the new session too.
    if (c && this.connected) void this.subscribeOne(c, c.sess, sub, "sync");
    return sub;
  }

  /** Stop delivering and refreshing; APIC has no unsubscribe, the id simply lapses. */
  unsubscribe(sub: LocalSubscription): void {
    if (!this.subs.delete(sub)) return;
    sub.closed = true;
    const c = this.conn;
    if (c) {
      for (const sess of [c.sess, c.next]) if (sess) this.forgetId(sess, sub);
    }
    this.clearRetry(sub);
    sub.id = undefined;
  }

  subscriptions(listener?: SubscriptionListener): LocalSubscription[] {
    return [...this.subs].filter((s) => listener === undefined || s.listener === listener);
  }

  // ---- connection ------------------------------------------------------------------------

  private async open(attempt: Attempt): Promise<void> {
    const host = this.opts.hosts[this.hostIndex % this.opts.hosts.length];
    const rest = new ApicRest(host, { tls: this.opts.tls, timeoutMs: this.opts.requestTimeoutMs });
    const c: Conn = { attempt, host, rest, sess: newSess(() => this.clock.now()), timers: new Set(), watchdogs: new Set() };
    this.conn = c;
    attempt.onEnd(() => this.teardown(c));

    const session = await this.login(rest);
    if (!attempt.active) return;
    c.sess.token = session.token;
    const ws = await this.openSocketFor(c, session.token);
    if (!attempt.active) {
      ws.terminate();
      return;
    }
    c.sess.ws = ws;
    this.wireSocket(c, c.sess, ws);
    this.heardAt = c.sess.heard.at;
    this.scheduleTokenRefresh(c, c.sess, session);
    this.scheduleMaxLifetime(c, session);
    attempt.established();
    this.watchLiveness(c);
    this.emit("session", { host, version: session.version });
    await this.subscribeAll(c);
  }

  /**
   * aaaLogin, counted for the hold-off: refused credentials (401) are what a lockout policy
   * counts, so the reconnect after the third refusal in a row waits ~11 min (sysadm does the same).
   */
  private async login(rest: ApicRest): Promise<SessionToken> {
    try {
      const session = await login(rest, this.opts.credentials);
      this.backoff.accepted();
      return session;
    } catch (e) {
      if (e instanceof ApicError && e.kind === "auth") this.backoff.rejected();
      throw e;
    }
  }

  private openSocketFor(c: Conn, token: string): Promise<WebSocket> {
    return openSocket(
      c.host,
      token,
      { tls: this.opts.tls, handshakeTimeoutMs: this.opts.handshakeTimeoutMs, hardMaxBytes: Math.max(this.opts.maxFrameBytes * 4, 64 * 1024 * 1024) },
      c.attempt.signal,
    );
  }

  private onState(change: StateChange): void {
    if (change.state === "waiting-to-retry" || change.state === "closed") {
      if (this.lostAt === undefined && change.previous === "connected") {
        // Set when this connection's socket opened, so it is never an older connection's.
        this.lostAt = Math.min(this.heardAt ?? Infinity, this.clock.now());
        this.lostReason = change.reason?.message ?? "connection lost";
      }
      if (change.state === "waiting-to-retry" && change.reason && rotates(change.reason) && this.opts.hosts.length > 1) {
        this.hostIndex = (this.hostIndex + 1) % this.opts.hosts.length;
      }
    }
    this.emit("state", change);
  }

  /** A session's socket or token failed: the connection ends, or only the renewal that built it. */
  private sessFailed(c: Conn, sess: Sess, err: Error): void {
    if (sess === c.sess) c.attempt.fail(err);
    else if (sess === c.next) this.abandonRenewal(c, err);
  }

  private wireSocket(c: Conn, sess: Sess, ws: WebSocket): void {
    sess.heard = new LastHeard(() => this.clock.now());
    // Only the session in use proves the connection alive: a fresh renewal socket must not
    // hide an old one that went silent.
    const alive = (): void => {
      if (sess !== c.sess) return;
      this.heardAt = sess.heard.at;
      c.liveness?.alive();
    };
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      sess.heard.heard();
      alive();
      this.onFrame(c, sess, data, isBinary);
    });
    ws.on("pong", (data: Buffer) => {
      sess.heard.pong(data);
      alive();
      // That pong answered a ping sent before the latest resume: ask again, now that we read.
      if (sess.heard.wantsBarrier) this.ping(c, sess);
    });
    ws.on("ping", () => {
      sess.heard.heard();
      alive();
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.sessFailed(
        c,
        sess,
        new InfraError("apic-socket-lost", `socket closed (code ${code}${reason.length ? `: ${reason.toString().slice(0, 60)}` : ""}) by ${c.host}`),
      );
    });
    ws.on("error", (e: Error) => this.sessFailed(c, sess, new InfraError("apic-socket-lost", `socket error: ${e.message}`)));
    if (this.opts.pingIntervalMs > 0) {
      // A half-open TCP connection never delivers 'close': only a missing pong reveals it
      // (the liveness watchdog fires when no pong/frame arrived for two periods of reading).
      // One ping at a time, and none while reading is paused: the pongs would wait unread behind
      // the frames, and the watchdog does not count silence while paused anyway.
      const tick = (): void => {
        if (!this.gate.paused && sess.heard.pending === 0 && !this.ping(c, sess)) return;
        this.later(c, sess, tick, this.opts.pingIntervalMs);
      };
      this.later(c, sess, tick, this.opts.pingIntervalMs);
    }
    // A flow still behind keeps holding APIC back on the new socket too.
    if (this.gate.paused) this.setSessPaused(c, sess, true);
  }

  /**
   * Half-open detection: with pings every `pingIntervalMs`, no frame or pong for two periods
   * ends the connection. Not while reading is paused (the pongs wait in the socket), nor while
   * bytes wait unread, nor on a check the blocked event loop made late (core/watchdog).
   */
  private watchLiveness(c: Conn): void {
    if (this.opts.pingIntervalMs <= 0 || !c.attempt.active) return;
    const w = new Watchdog({
      clock: this.clock,
      timeoutMs: this.opts.pingIntervalMs * 2,
      reader: this.gate,
      unread: () => unreadBytes(c.sess.ws) > 0,
      fire: (silent) => c.attempt.fail(new InfraError("liveness-timeout", `peer silent for ${silent} ms`)),
    });
    c.liveness = w;
    c.watchdogs.add(w);
  }

  private applyPause(paused: boolean): void {
    if (paused) this.pauses++;
    const c = this.conn;
    if (!c) return;
    for (const sess of [c.sess, c.next]) if (sess) this.setSessPaused(c, sess, paused);
  }

  /** Stop or start reading one session's socket; resuming pings, so its pong marks the backlog read. */
  private setSessPaused(c: Conn, sess: Sess, paused: boolean): void {
    const ws = sess.ws;
    if (!ws || sess.ended) return;
    if (paused) {
      sess.heard.paused();
      ws.pause();
      return;
    }
    sess.heard.resumed();
    ws.resume();
    // The pong to a ping sent now marks the backlog read; with one already on its way, its pong
    // asks for the next (see the pong listener).
    if (sess.heard.wantsBarrier) this.ping(c, sess);
  }

  /** Ping on the session's socket; false when the socket failed (the session is ended then). */
  private ping(c: Conn, sess: Sess): boolean {
    // A closing socket: its close event ends the session with the real reason.
    if (sess.ws?.readyState !== 1 /* WebSocket.OPEN */) return true;
    try {
      sess.ws.ping(sess.heard.ping());
      return true;
    } catch (e) {
      this.sessFailed(c, sess, new InfraError("apic-socket-lost", `ping failed: ${asError(e).message}`));
      return false;
    }
  }

  private teardown(c: Conn): void {
    for (const t of c.timers) this.clock.clearTimeout(t);
    c.timers.clear();
    for (const w of c.watchdogs) w.stop();
    c.watchdogs.clear();
    if (this.conn === c) this.conn = undefined;
    for (const s of this.subs) {
      s.id = undefined;
      s.retryTimer = undefined;
      s.retryAt = undefined;
    }
    // Stopped for good (close(), or the lifecycle stopped by the last user leaving), not a retry.
    const stopped = this.closed || (c.attempt.signal.reason as InfraError | undefined)?.code === "closed";
    const pending: Array<Promise<void>> = [];
    // Best effort: APIC may keep a session until refreshes stop; nothing waits on this. A
    // half-built renewal session is always logged out: nobody will use it again.
    if (c.next) pending.push(this.endSess(c, c.next, true));
    pending.push(this.endSess(c, c.sess, stopped));
    c.next = undefined;
    c.overlap = undefined;
    void Promise.all(pending).finally(() => c.rest.close());
  }

  /** Stop one session: its timers, its socket, and (if asked) log it out. Never rejects. */
  private endSess(c: Conn, sess: Sess, logOut: boolean): Promise<void> {
    sess.ended = true;
    for (const t of sess.timers) this.clock.clearTimeout(t);
    sess.timers.clear();
    sess.refreshTimers.clear();
    sess.ids.clear();
    sess.byId.clear();
    sess.inflight.clear();
    sess.buffered = [];
    if (sess.ws) {
      const ws = sess.ws;
      ws.removeAllListeners("message");
      ws.removeAllListeners("close");
      ws.removeAllListeners("pong");
      // Keep an error listener: a late socket error must not become an uncaught exception.
      ws.removeAllListeners("error");
      ws.on("error", () => undefined);
      ws.terminate();
    }
    if (!logOut || !sess.token) return Promise.resolve();
    return logout(c.rest, sess.token, this.opts.credentials).catch((e: unknown) => this.logoutFailed(e));
  }

  /** A session we give up on could not be logged out: it lapses on APIC by itself, but say so. */
  private logoutFailed(e: unknown): void {
    this.emit("warning", new InfraError("apic-logout", `logout failed (the session will expire on the controller): ${asError(e).message}`));
  }

  private later(c: Conn, sess: Sess | undefined, fn: () => void, ms: number): TimerHandle {
    // setTimeout fires at once beyond 2^31-1 ms (24.8 days): a long maximum lifetime must not.
    ms = Math.min(Math.max(0, ms), MAX_TIMER_MS);
    const set = sess ? sess.timers : c.timers;
    const t = this.clock.setTimeout(() => {
      set.delete(t);
      if (c.attempt.active && !(sess && sess.ended)) fn();
    }, ms);
    set.add(t);
    return t;
  }

  private scheduleTokenRefresh(c: Conn, sess: Sess, s: SessionToken): void {
    this.later(
      c,
      sess,
      () => {
        refresh(c.rest, sess.token)
          .then((next) => {
            if (!c.attempt.active || sess.ended) return;
            sess.token = next.token;
            this.scheduleTokenRefresh(c, sess, next);
          })
          .catch((e: unknown) => {
            if (c.attempt.active && !sess.ended) this.sessFailed(c, sess, asError(e));
          });
      },
      (s.refreshTimeoutSeconds * 1000) / 2,
    );
  }

  private scheduleMaxLifetime(c: Conn, s: SessionToken): void {
    const margin = this.opts.maxLifetimeMarginSeconds ?? Math.min(600, s.maximumLifetimeSeconds / 10);
    const at = Math.max(s.maximumLifetimeSeconds - margin, s.maximumLifetimeSeconds / 2) * 1000;
    this.later(c, c.sess, () => void this.renew(c), at);
  }

  // ---- renewal (make before break) ---------------------------------------------------------

  /**
   * Replace the session before its maximum lifetime without a gap: log in a second session,
   * open its socket, subscribe every query on it while the old one still delivers (copies of a
   * change from both sockets are delivered once), make sure the old socket has handed over what
   * it had (ping barrier), then switch and log the old session out. Any failure on the way
   * falls back to the plain re-login (gap + re-read): never a silent loss.
   */
  private async renew(c: Conn): Promise<void> {
    if (c.next || !c.attempt.active) return;
    const old = c.sess;
    const next = newSess(() => this.clock.now());
    c.next = next;
    const overlap = { old, dedup: new OverlapDedup(), both: new Set<LocalSubscription>() };
    c.overlap = overlap;
    let session: SessionToken;
    try {
      session = await this.login(c.rest);
      if (c.next !== next) {
        logout(c.rest, session.token, this.opts.credentials).catch((e: unknown) => this.logoutFailed(e));
        return;
      }
      next.token = session.token;
      const ws = await this.openSocketFor(c, session.token);
      if (c.next !== next) {
        ws.terminate();
        return;
      }
      next.ws = ws;
      this.wireSocket(c, next, ws);
      this.scheduleTokenRefresh(c, next, session);
      // One pass over the queries; ones added meanwhile are picked up by the same loop.
      const done = new Set<LocalSubscription>();
      for (;;) {
        const s = [...this.subs].find((x) => !x.closed && !done.has(x));
        if (!s) break;
        done.add(s);
        overlap.both.add(s);
        await this.subscribeOne(c, next, s, "renewal");
        if (c.next !== next) return;
      }
      await this.barrier(c, old);
      if (c.next !== next) return;
    } catch (e) {
      if (c.next === next) this.abandonRenewal(c, asError(e));
      return;
    }
    this.switchTo(c, next, session);
  }

  /**
   * Frames the old socket already carries must be read before it is closed: a ping sent now is
   * answered after them (one TCP stream, in order). No pong in time: the old socket may have
   * lost changes, so the renewal is not trusted.
   */
  private barrier(c: Conn, old: Sess): Promise<void> {
    const ws = old.ws;
    if (!ws) return Promise.reject(new InfraError("apic-renewal", "old session has no socket"));
    return new Promise((resolve, reject) => {
      // While reading is paused the pong waits behind the unread frames: not a failed hand-over.
      const t = new Watchdog({
        clock: this.clock,
        timeoutMs: this.opts.requestTimeoutMs,
        reader: this.gate,
        unread: () => unreadBytes(ws) > 0,
        fire: () => {
          c.watchdogs.delete(t);
          ws.removeListener("pong", onPong);
          if (c.attempt.active) reject(new InfraError("apic-renewal", "old socket did not answer the hand-over ping"));
        },
      });
      c.watchdogs.add(t);
      const stop = (): void => {
        t.stop();
        c.watchdogs.delete(t);
      };
      // Only the answer to this ping proves everything sent before it was read.
      let payload: Buffer | undefined;
      const onPong = (data: Buffer): void => {
        if (payload === undefined || !data.equals(payload)) return;
        ws.removeListener("pong", onPong);
        stop();
        resolve();
      };
      ws.on("pong", onPong);
      try {
        payload = old.heard.ping();
        ws.ping(payload);
      } catch (e) {
        stop();
        ws.removeListener("pong", onPong);
        reject(asError(e));
      }
    });
  }

  private switchTo(c: Conn, next: Sess, session: SessionToken): void {
    const old = c.sess;
    const switchedAt = this.clock.now();
    c.sess = next;
    c.next = undefined;
    this.heardAt = next.heard.at;
    this.renewals++;
    for (const s of this.subs) {
      const hadOld = old.ids.has(s) || old.inflight.has(s);
      s.id = next.ids.get(s);
      // Live on the old session but refused on the new one: it will be retried, with a gap.
      if (s.id === undefined && hadOld && s.gapSince === undefined) {
        s.gapSince = switchedAt;
        s.lapseReason = `not subscribed on the renewed session: ${s.lastError?.message ?? "subscribe failed"}`;
      }
    }
    void this.endSess(c, old, true);
    // Copies of the last changes may still be on their way on the new socket: keep matching briefly.
    const overlap = c.overlap;
    this.later(
      c,
      undefined,
      () => {
        if (c.overlap === overlap) c.overlap = undefined;
      },
      this.opts.renewalOverlapMs,
    );
    this.scheduleMaxLifetime(c, session);
    this.emit("session", { host: c.host, version: session.version, renewed: true });
    for (const s of [...this.subs]) {
      if (s.closed || s.id !== undefined || next.inflight.has(s) || s.retryTimer !== undefined) continue;
      if (s.lastError) {
        this.scheduleRetry(c, s);
        this.safeError(s, s.lastError);
      } else void this.subscribeOne(c, next, s, s.gapSince !== undefined ? "gap" : "sync");
    }
  }

  private abandonRenewal(c: Conn, err: Error): void {
    const next = c.next;
    if (!next) return;
    c.next = undefined;
    c.overlap = undefined;
    void this.endSess(c, next, true);
    // The old session is about to reach its maximum lifetime: the plain re-login (gap, re-read) is the safe way on.
    c.attempt.fail(new InfraError("apic-session-lifetime", `session reached its maximum lifetime and its renewal failed (${err.message}): logging in again`));
  }

  // ---- subscriptions ---------------------------------------------------------------------

  private async subscribeAll(c: Conn): Promise<void> {
    if (this.lostAt !== undefined) {
      const lostAt = this.lostAt;
      const gapBase = { reason: this.lostReason, until: this.clock.now() };
      this.lostAt = undefined;
      const owners = new Map<SubscriptionListener, { since: number; queries: string[] }>();
      for (const s of this.subs) {
        const o = owners.get(s.listener) ?? { since: lostAt, queries: [] };
        o.queries.push(s.query.path);
        // A query that had already lapsed before the connection went was missing changes since then.
        if (s.gapSince !== undefined) o.since = Math.min(o.since, s.gapSince);
        owners.set(s.listener, o);
        s.gapSince = undefined;
      }
      for (const [l, o] of owners) this.safeGap(l, { ...gapBase, since: o.since, queries: o.queries });
    }
    for (const s of [...this.subs]) {
      const sess = c.sess;
      if (!c.attempt.active) return;
      if (s.closed || sess.ids.has(s) || sess.inflight.has(s)) continue;
      await this.subscribeOne(c, sess, s, s.gapSince !== undefined ? "gap" : "sync");
    }
  }

  /** Subscribe one query on `sess`; its snapshot goes out as `sync` (not for a renewal). Session-level failures end that session. */
  private async subscribeOne(c: Conn, sess: Sess, s: LocalSubscription, mode: SubscribeMode): Promise<void> {
    sess.inflight.add(s);
    let reply;
    try {
      reply = (await c.rest.request("GET", s.query.subscribePath, `subscribe ${s.query.path}`, sess.token)).reply;
    } catch (e) {
      sess.inflight.delete(s);
      const err = asError(e);
      if (!c.attempt.active || sess.ended || s.closed) return;
      if (err instanceof ApicError && err.kind === "request") {
        // This query is wrong (APIC said 400): the others are fine; the owner hears why, and it is retried on its own.
        s.lastError = err;
        s.failures++;
        if (sess === c.sess) {
          this.scheduleRetry(c, s);
          this.safeError(s, err);
        }
        this.flushBuffered(sess);
        return;
      }
      this.sessFailed(c, sess, err);
      return;
    }
    sess.inflight.delete(s);
    if (!c.attempt.active || sess.ended || s.closed) return;
    const ids = readIds(reply.subscriptionId);
    if (!ids || ids.length !== 1) {
      this.sessFailed(c, sess, new ApicError("protocol", `subscribe ${s.query.path}: reply has no subscriptionId`));
      return;
    }
    const id = ids[0];
    const old = c.overlap?.old;
    // A renewal re-reads nothing for a query the old session still covers. One whose subscribe
    // on the old session is still in flight is read here too: that snapshot may never arrive
    // (the old session can end first), and a second `sync` is harmless where a missing one is not.
    const covered = mode === "renewal" && old !== undefined && !old.ended && old.ids.has(s);
    const gap = !covered && (mode === "gap" || s.gapSince !== undefined);
    this.forgetId(sess, s);
    sess.ids.set(s, id);
    sess.byId.set(id, s);
    if (sess === c.sess) s.id = id;
    s.lastError = undefined;
    s.failures = 0;
    s.retry?.reset();
    this.clearRetry(s);
    s.subscribedAt = this.clock.now();
    if (gap) {
      this.safeGap(s.listener, {
        reason: s.lapseReason ?? "subscription lapsed",
        since: s.gapSince ?? s.lastRefreshAt,
        until: this.clock.now(),
        queries: [s.query.path],
      });
    }
    if (!covered) s.gapSince = undefined;
    s.lastRefreshAt = this.clock.now();
    if (!covered) {
      for (const item of reply.imdata) {
        const mo = readMo(item, true);
        if (typeof mo === "string") {
          this.drop(`snapshot-${mo}`, new ProtocolError("apic-bad-snapshot", `subscribe ${s.query.path}: snapshot item skipped (${mo})`));
          continue;
        }
        const ev: ApicEvent = { class: mo.class, dn: mo.dn, status: "sync", attributes: mo.attributes, subscriptionIds: [id] };
        if (mo.children) ev.children = mo.children;
        this.deliver(s, ev);
      }
    }
    this.scheduleSubRefresh(c, sess, s);
    this.flushBuffered(sess);
  }

  /** Retry a refused query on its own: capped backoff, so a bad filter costs one request per few minutes. */
  private scheduleRetry(c: Conn, s: LocalSubscription): void {
    this.clearRetry(s);
    s.retry ??= new Backoff({ initialMs: this.opts.queryRetryInitialMs, maxMs: this.opts.queryRetryMaxMs, jitter: 0.2 });
    const delay = s.retry.next(this.clock.now());
    s.retryAt = this.clock.now() + delay;
    s.retryTimer = this.later(
      c,
      undefined,
      () => {
        s.retryTimer = undefined;
        s.retryAt = undefined;
        const sess = c.sess;
        if (s.closed || sess.ids.has(s) || sess.inflight.has(s)) return;
        void this.subscribeOne(c, sess, s, s.gapSince !== undefined ? "gap" : "sync");
      },
      delay,
    );
  }

  private clearRetry(s: LocalSubscription): void {
    if (s.retryTimer !== undefined) {
      this.clock.clearTimeout(s.retryTimer);
      const c = this.conn;
      c?.timers.delete(s.retryTimer);
    }
    s.retryTimer = undefined;
    s.retryAt = undefined;
  }

  private scheduleSubRefresh(c: Conn, sess: Sess, s: LocalSubscription): void {
    const prev = sess.refreshTimers.get(s);
    if (prev !== undefined) {
      this.clock.clearTimeout(prev);
      sess.timers.delete(prev);
    }
    const t = this.later(
      c,
      sess,
      () => {
        sess.refreshTimers.delete(s);
        if (!s.closed && sess.ids.has(s)) void this.refreshSub(c, sess, s);
      },
      (s.query.refreshTimeoutSeconds * 1000) / 2,
    );
    sess.refreshTimers.set(s, t);
  }

  private async refreshSub(c: Conn, sess: Sess, s: LocalSubscription): Promise<void> {
    const id = sess.ids.get(s)!;
    try {
      await c.rest.request("GET", `/api/subscriptionRefresh.json?id=${id}`, `subscriptionRefresh ${id}`, sess.token);
    } catch (e) {
      const err = asError(e);
      if (!c.attempt.active || sess.ended || s.closed || sess.ids.get(s) !== id) return;
      if (err instanceof ApicError && (err.kind === "request" || err.kind === "protocol")) {
        // The id lapsed (or APIC forgot it): subscribe the query again and say it may have missed changes.
        this.forgetId(sess, s);
        if (sess === c.sess) {
          s.lapseReason = `subscription ${id} could not be refreshed: ${err.message}`;
          s.gapSince = s.lastRefreshAt ?? this.clock.now();
        }
        await this.subscribeOne(c, sess, s, sess === c.sess ? "gap" : "renewal");
        return;
      }
      this.sessFailed(c, sess, err);
      return;
    }
    if (!c.attempt.active || sess.ended || s.closed || sess.ids.get(s) !== id) return;
    if (sess === c.sess) s.lastRefreshAt = this.clock.now();
    this.scheduleSubRefresh(c, sess, s);
  }

  private forgetId(sess: Sess, s: LocalSubscription): void {
    const id = sess.ids.get(s);
    if (id !== undefined && sess.byId.get(id) === s) sess.byId.delete(id);
    sess.ids.delete(s);
    const t = sess.refreshTimers.get(s);
    if (t !== undefined) {
      this.clock.clearTimeout(t);
      sess.timers.delete(t);
      sess.refreshTimers.delete(s);
    }
    if (this.conn?.sess === sess) s.id = undefined;
  }

  // ---- frames ----------------------------------------------------------------------------

  private onFrame(c: Conn, sess: Sess, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.frameCount++;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (buf.length > this.opts.maxFrameBytes) {
      this.drop(
        "oversize-frame",
        new ProtocolError("apic-oversize-frame", `notification frame of ${buf.length} bytes exceeds the ${this.opts.maxFrameBytes}-byte limit`),
      );
      return;
    }
    if (isBinary) {
      this.drop("binary-frame", new ProtocolError("apic-binary-frame", "binary WebSocket frame (APIC sends text)"));
      return;
    }
    this.dispatch(c, sess, buf.toString("utf8"), undefined);
  }

  /** Deliver a frame to the local subscriptions its ids name (`only`: just these ids). */
  private dispatch(c: Conn, sess: Sess, data: string, only: Set<string> | undefined): void {
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
      const s = sess.byId.get(id);
      if (!s) {
        waiting.add(id);
        continue;
      }
      if (seen.has(s)) continue;
      // Each listener gets its own objects: a flow may change a payload in place.
      const copy = seen.size > 0;
      seen.add(s);
      const overlap = c.overlap;
      for (const ch of frame.changes) {
        // Two sessions overlap (renewal): the other socket may already have delivered this change.
        if (overlap && overlap.both.has(s) && overlap.dedup.duplicate(changeKey(s.key, ch), sess === overlap.old ? 1 : -1)) {
          this.duplicates++;
          continue;
        }
        const ev: ApicEvent = {
          class: ch.class,
          dn: ch.dn,
          status: ch.status as ApicEvent["status"],
          attributes: copy ? { ...ch.attributes } : ch.attributes,
          subscriptionIds: copy ? [...frame.ids] : frame.ids,
        };
        if (ch.children) ev.children = copy ? structuredClone(ch.children) : ch.children;
        this.deliver(s, ev);
      }
    }
    if (waiting.size === 0) return;
    if (sess.inflight.size > 0 && sess.buffered.length < this.opts.maxBufferedFrames) {
      // A change can reach us before the subscribe reply that tells us its id: hold it briefly.
      sess.buffered.push({ ids: frame.ids, waiting, data });
    } else if (seen.size === 0) {
      this.drops.add("unknown-subscription-id"); // only stale ids (lapsed subscriptions): normal, only counted
    }
  }

  private flushBuffered(sess: Sess): void {
    const c = this.conn;
    if (sess.buffered.length === 0 || !c) return;
    const keep: BufferedFrame[] = [];
    const frames = sess.buffered;
    sess.buffered = [];
    for (const f of frames) {
      const ready = new Set([...f.waiting].filter((id) => sess.byId.has(id)));
      if (ready.size > 0) this.dispatch(c, sess, f.data, ready);
      for (const id of ready) f.waiting.delete(id);
      if (f.waiting.size > 0 && sess.inflight.size > 0) keep.push(f);
      else if (f.waiting.size > 0) this.drops.add("unknown-subscription-id");
    }
    sess.buffered.push(...keep);
  }

  private deliver(s: LocalSubscription, ev: ApicEvent): void {
    this.eventCount++;
    this.types.add(ev.class);
    try {
      s.listener.onEvent(ev, s);
    } catch (e) {
      this.drop("flow-listener-error", asError(e));
    }
  }

  private safeGap(l: SubscriptionListener, gap: ApicGap): void {
    try {
      l.onGap(gap);
    } catch (e) {
      this.drop("flow-listener-error", asError(e));
    }
  }

  private safeError(s: LocalSubscription, err: Error): void {
    try {
      s.listener.onError?.(err, s);
    } catch (e) {
      this.drop("flow-listener-error", asError(e));
    }
  }

  private drop(reason: string, error: Error): void {
    const first = this.drops.add(reason);
    this.emit("drop", { reason, error, first });
  }
}
