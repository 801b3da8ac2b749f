import { EventEmitter } from "node:events";
import type { BackoffOptions } from "../core/backoff";
import { Clock, systemClock, TimerHandle } from "../core/clock";
import { DropCounter } from "../core/drops";
import { TypeCounts } from "../core/type-counts";
import { asError, InfraError, ProtocolError } from "../core/errors";
import { Attempt, ConnectionLifecycle, StateChange } from "../core/lifecycle";
import { PauseGate } from "../core/pause-gate";
import { Watchdog } from "../core/watchdog";
import { AuthAwareBackoff } from "./auth-backoff";
import { AuthRejectedError, isUnauthorized } from "./errors";
import { DEFAULT_FRAME_LIMITS, FrameLimits, Inbound } from "./frame";
import { parsePriority } from "./priority";
import { SysadmSession } from "./session";
import { socketTlsOptions, TlsChoice } from "./tls";
import { CACHED_EVENT_TYPES, EVENT_TYPES, GapInfo, isEventType, SysadmEvent } from "./types";

/** The server's sliding token lifetime (§3); its `[token, 0]` reply never says so itself. */
export const TOKEN_LIFETIME_MS = 900_000;

export interface SysadmClientOptions {
  /** `wss://host:12150` for a real server; `ws://` for the simulator's plain port and tests. */
  url: string;
  username?: string;
  password?: string;
  /** A token from an earlier login, tried first (`auth_token`). */
  token?: string;
  tls?: TlsChoice;
  /** Per request; default 10 s. */
  requestTimeoutMs?: number;
  /** Authenticated `rpc/query` interval that keeps token and connection alive; default 90 s. */
  keepaliveMs?: number;
  /** WebSocket ping interval for half-open detection; 0 = off; default 30 s. */
  pingMs?: number;
  /** Dial + auth + subscribe must complete within this; default 20 s. */
  handshakeTimeoutMs?: number;
  limits?: Partial<FrameLimits>;
  backoff?: BackoffOptions & { holdoffMs?: number; freeRejections?: number };
  /** Drop a subscribe snapshot identical to the last event of its type seen; default true. */
  dedupeSnapshots?: boolean;
  clock?: Clock;
}

export interface SysadmClientEvents {
  event: [SysadmEvent];
  /** After a reconnect: events between `from` and `to` were missed (the server has no replay). */
  gap: [GapInfo];
  /** A frame was refused; `first` is true for the first drop of its reason. */
  drop: [ProtocolError, boolean];
  /** Something the user should know that is not an error (unverified TLS, re-login). */
  warning: [string];
  authenticated: ["token" | "password"];
}

// Events that arrive while auth/subscribe is still running wait for the gap marker; a
// server flooding us during the handshake must not grow this without bound.
const MAX_EARLY_EVENTS = 1000;

/**
 * A sysadm events client: connects (ConnectionLifecycle: backoff, handshake timeout,
 * liveness watchdog), authenticates (token first, then password), subscribes, keeps the
 * token and the connection alive with `rpc/query`, and after a reconnect re-authenticates,
 * resubscribes and emits a `gap`.
 */
export class SysadmClient extends EventEmitter<SysadmClientEvents> {
  readonly lifecycle: ConnectionLifecycle;
  readonly backoff: AuthAwareBackoff;
  readonly drops = new DropCounter();
  /** Events delivered, by type (for the health view). */
  readonly types = new TypeCounts();
  /** `pauses`: how often reading was held back for a flow that fell behind. */
  readonly stats = { events: 0, snapshots: 0, duplicateSnapshots: 0, reconnects: 0, pauses: 0 };
  /**
   * Flow control: the users (sysadm-events nodes) hold it while their flow is behind; reading
   * stops, the socket's buffers fill and the server's writes back up (it buffers; nothing is
   * lost). Applied to each connection once its handshake is done: logging in must still read.
   */
  readonly gate: PauseGate;
  private readonly clock: Clock;
  private readonly limits: FrameLimits;
  private readonly tls: TlsChoice;
  private session: SysadmSession | undefined;
  private desired = new Set<string>();
  private readonly active = new Set<string>();
  private readonly snapshotWindow = new Set<string>();
  private readonly lastText = new Map<string, string>();
  private early: SysadmEvent[] | undefined;
  private token: string | undefined;
  private tokenUsedAt = Number.NEGATIVE_INFINITY;
  private lostAt: number | undefined;
  private lostReason = "";
  private keepaliveTimer: TimerHandle;
  private pingTimer: TimerHandle;

  constructor(private readonly opts: SysadmClientOptions) {
    super();
    if (!/^wss?:\/\//i.test(opts.url)) throw new InfraError("bad-url", `sysadm URL must start with wss:// or ws://, got ${JSON.stringify(opts.url)}`);
    const hasPassword = !!opts.username && typeof opts.password === "string";
    if (!hasPassword && !opts.token) throw new InfraError("no-credentials", "sysadm needs a username and password, or a token");
    this.clock = opts.clock ?? systemClock;
    this.limits = { ...DEFAULT_FRAME_LIMITS, ...opts.limits };
    this.tls = opts.tls ?? { mode: "verify" };
    // A bad pin is a settings error, not a reason to retry forever.
    socketTlsOptions(this.tls);
    if (opts.token) {
      this.token = opts.token;
      this.tokenUsedAt = this.clock.now();
    }
    this.backoff = new AuthAwareBackoff(opts.backoff);
    this.gate = new PauseGate(
      (paused) => {
        if (paused) this.stats.pauses++;
        this.session?.setPaused(paused);
      },
      () => this.clock.now(),
    );
    this.lifecycle = new ConnectionLifecycle({
      open: (a) => this.open(a),
      backoff: this.backoff,
      clock: this.clock,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 20_000,
      // The liveness watchdog is our own (see watch()): it must know about paused reading.
      livenessTimeoutMs: 0,
    });
    this.lifecycle.on("state", (c) => this.onState(c));
  }

  get connected(): boolean {
    return this.lifecycle.state === "connected";
  }

  /** The event types this client keeps subscribed (restored after every reconnect). */
  get subscriptions(): string[] {
    return [...this.desired].sort();
  }

  start(): void {
    this.lifecycle.start();
  }

  close(): void {
    this.lifecycle.stop();
  }

  /**
   * Keep exactly `types` subscribed. Applied at once when connected (unsubscribe what is no
   * longer wanted, subscribe what is new), and on every (re)connect.
   */
  async setSubscriptions(types: readonly string[]): Promise<void> {
    const bad = types.filter((t) => !isEventType(t));
    if (bad.length) {
      throw new InfraError("unknown-event-type", `unknown sysadm event type ${bad.map((b) => JSON.stringify(b)).join(", ")}; known: ${EVENT_TYPES.join(", ")}`);
    }
    this.desired = new Set(types);
    const s = this.session;
    if (!s || !this.connected) return;
    const remove = [...this.active].filter((t) => !this.desired.has(t));
    const add = [...this.desired].filter((t) => !this.active.has(t));
    if (remove.length) {
      await s.request("events", "unsubscribe", remove);
      for (const t of remove) this.active.delete(t);
    }
    if (add.length) await this.subscribeOn(s, add);
  }

  /** Any request on the live connection (e.g. `rpc/logs` to read what a gap missed). */
  request(namespace: string, name: string, args: unknown): Promise<unknown> {
    const s = this.session;
    if (!s || !this.connected) return Promise.reject(new InfraError("not-connected", "sysadm: not connected"));
    return s.request(namespace, name, args);
  }

  private open(attempt: Attempt): void {
    let watchdog: Watchdog | undefined;
    const session = new SysadmSession(
      {
        url: this.opts.url,
        tls: this.tls,
        limits: this.limits,
        requestTimeoutMs: this.opts.requestTimeoutMs ?? 10_000,
        handshakeTimeoutMs: this.opts.handshakeTimeoutMs ?? 20_000,
        clock: this.clock,
      },
      {
        onOpen: () => {
          this.handshake(session, attempt).then(
            (up) => {
              if (up) watchdog = this.watch(session, attempt);
            },
            (e: unknown) => attempt.fail(asError(e)),
          );
        },
        onEvent: (ev) => this.onEvent(ev),
        onDrop: (err) => this.emit("drop", err, this.drops.add(err.code)),
        onAlive: () => watchdog?.alive(),
        onClose: (err) => attempt.fail(err),
      },
    );
    this.early = [];
    attempt.onEnd(() => {
      watchdog?.stop();
      this.stopTimers();
      session.close();
      if (this.session === session) {
        this.session = undefined;
        // Frames read after a pause may be old: events were certainly received only up to
        // when the backlog was last known to be read.
        this.lostAt = session.heard.isBehind ? session.heard.at : this.clock.now();
        const r = attempt.signal.reason;
        this.lostReason = r instanceof Error ? r.message : "connection lost";
      }
      this.active.clear();
      this.snapshotWindow.clear();
      this.early = undefined;
    });
  }

  /** Resolves true once the connection is established and delivering. */
  private async handshake(s: SysadmSession, attempt: Attempt): Promise<boolean> {
    if (this.opts.url.toLowerCase().startsWith("wss:") && this.tls.mode === "insecure") {
      this.emit("warning", "connected without verifying the server certificate (TLS setting: do not verify)");
    }
    await this.authenticate(s);
    if (this.desired.size) await this.subscribeOn(s, [...this.desired]);
    if (!attempt.active) return false;
    this.session = s;
    // established() emits the state change that announces the gap: before the buffered
    // snapshot events, so a flow sees "gap" then the current state.
    attempt.established();
    // A flow still behind from before the reconnect keeps holding the server back.
    s.setPaused(this.gate.paused);
    const early = this.early ?? [];
    this.early = undefined;
    for (const ev of early) this.deliver(ev);
    this.scheduleKeepalive(s, attempt);
    this.schedulePing(s);
    // Subscriptions changed while we were logging in: apply the difference now.
    this.setSubscriptions([...this.desired]).catch((e: unknown) => {
      if (attempt.active) this.emit("warning", `could not update subscriptions: ${asError(e).message}`);
    });
    return true;
  }

  /**
   * Half-open detection: with pings every `pingMs`, no frame or pong for 2.5 periods ends the
   * connection. Not while reading is paused (the pongs wait in the socket), nor while bytes wait
   * unread, nor on a check the blocked event loop made late.
   */
  private watch(s: SysadmSession, attempt: Attempt): Watchdog | undefined {
    const pingMs = this.opts.pingMs ?? 30_000;
    if (pingMs <= 0 || !attempt.active) return undefined;
    return new Watchdog({
      clock: this.clock,
      timeoutMs: Math.round(pingMs * 2.5),
      reader: s,
      unread: () => s.unread > 0,
      fire: (silent) => attempt.fail(new InfraError("liveness-timeout", `peer silent for ${silent} ms`)),
    });
  }

  private async authenticate(s: SysadmSession): Promise<void> {
    // A token unused for longer than its sliding lifetime is dead: sending it would only be
    // one more failure towards the server's blacklist.
    if (this.token && this.clock.now() - this.tokenUsedAt < TOKEN_LIFETIME_MS - 30_000) {
      try {
        this.acceptToken(await s.request("rpc", "auth_token", { token: this.token }), "token");
        return;
      } catch (e) {
        if (!isUnauthorized(e)) throw e;
        this.token = undefined;
      }
    }
    await this.passwordAuth(s);
  }

  private async passwordAuth(s: SysadmSession): Promise<void> {
    const { username, password } = this.opts;
    if (!username || typeof password !== "string") {
      this.backoff.rejected();
      throw new AuthRejectedError("the token was refused and no username/password is configured");
    }
    let reply: unknown;
    try {
      reply = await s.request("rpc", "auth", { username, password });
    } catch (e) {
      if (isUnauthorized(e)) {
        this.backoff.rejected();
        throw new AuthRejectedError(`login refused for user "${username}" (401): check username and password`);
      }
      throw e;
    }
    this.acceptToken(reply, "password");
  }

  /** Only a `[token, n]` reply proves a login: never infer it from the absence of a 401. */
  private acceptToken(reply: unknown, via: "token" | "password"): void {
    if (!Array.isArray(reply) || typeof reply[0] !== "string" || !/^\S{1,512}$/.test(reply[0])) {
      throw new ProtocolError("bad-auth-reply", `auth reply is not [token, seconds]: ${JSON.stringify(reply)?.slice(0, 80)}`);
    }
    // reply[1] is always 0 on real servers (§3): the lifetime is a sliding 900 s regardless.
    this.token = reply[0];
    this.tokenUsedAt = this.clock.now();
    this.backoff.accepted();
    this.emit("authenticated", via);
  }

  private async subscribeOn(s: SysadmSession, types: string[]): Promise<void> {
    // The server pushes its cached event of each type before the reply: those are snapshots.
    for (const t of types) if (CACHED_EVENT_TYPES.has(t)) this.snapshotWindow.add(t);
    try {
      await s.request("events", "subscribe", types);
      for (const t of types) this.active.add(t);
    } finally {
      for (const t of types) this.snapshotWindow.delete(t);
    }
  }

  private onEvent(inb: Extract<Inbound, { kind: "event" }>): void {
    const snapshot = this.snapshotWindow.delete(inb.name);
    if (CACHED_EVENT_TYPES.has(inb.name)) {
      if (snapshot && this.opts.dedupeSnapshots !== false && this.lastText.get(inb.name) === inb.text) {
        this.stats.duplicateSnapshots++;
        return;
      }
      this.lastText.set(inb.name, inb.text);
    }
    const args = inb.args;
    const priority = typeof args === "object" && args !== null ? parsePriority((args as Record<string, unknown>).priority) : null;
    const ev: SysadmEvent = { name: inb.name, args, priority, snapshot };
    if (inb.bridge !== undefined) ev.bridge = inb.bridge;
    if (this.early) {
      if (this.early.length >= MAX_EARLY_EVENTS) {
        const err = new ProtocolError("handshake-flood", `more than ${MAX_EARLY_EVENTS} events before the subscription completed`);
        this.emit("drop", err, this.drops.add(err.code));
        return;
      }
      this.early.push(ev);
      return;
    }
    this.deliver(ev);
  }

  private deliver(ev: SysadmEvent): void {
    this.stats.events++;
    this.types.add(ev.name);
    if (ev.snapshot) this.stats.snapshots++;
    this.emit("event", ev);
  }

  private scheduleKeepalive(s: SysadmSession, attempt: Attempt): void {
    const ms = this.opts.keepaliveMs ?? 90_000;
    if (ms <= 0) return;
    this.keepaliveTimer = this.clock.setTimeout(() => {
      this.keepaliveTimer = undefined;
      this.keepalive(s, attempt).then(
        () => {
          if (attempt.active) this.scheduleKeepalive(s, attempt);
        },
        (e: unknown) => attempt.fail(asError(e)),
      );
    }, ms);
  }

  /**
   * `rpc/query` resets the idle timer and slides the token; `identify` would reset only the
   * idle timer (§5). A 401 means the token died (expired, or cleared by another client): log
   * in again on the same socket; subscriptions survive because they belong to the socket.
   */
  private async keepalive(s: SysadmSession, attempt: Attempt): Promise<void> {
    try {
      await s.request("rpc", "query", {});
      this.tokenUsedAt = this.clock.now();
    } catch (e) {
      if (!isUnauthorized(e) || !attempt.active) throw e;
      this.emit("warning", "sysadm token no longer valid; logging in again");
      this.token = undefined;
      await this.passwordAuth(s);
    }
  }

  private schedulePing(s: SysadmSession): void {
    const ms = this.opts.pingMs ?? 30_000;
    if (ms <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = undefined;
      s.keepalivePing();
      this.schedulePing(s);
    }, ms);
  }

  private stopTimers(): void {
    if (this.keepaliveTimer !== undefined) this.clock.clearTimeout(this.keepaliveTimer);
    if (this.pingTimer !== undefined) this.clock.clearTimeout(this.pingTimer);
    this.keepaliveTimer = this.pingTimer = undefined;
  }

  private onState(c: StateChange): void {
    if (c.state === "connected" && c.reconnected) {
      this.stats.reconnects++;
      const now = this.clock.now();
      this.emit("gap", { from: this.lostAt ?? now, to: now, reason: this.lostReason || "reconnected" });
    }
  }
}
