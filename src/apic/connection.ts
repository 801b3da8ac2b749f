import type WebSocket from "ws";
import type { AuthAwareBackoff } from "../core/auth-backoff";
import type { Clock, TimerHandle } from "../core/clock";
import type { DropCounter } from "../core/drops";
import { asError, InfraError } from "../core/errors";
import type { Attempt } from "../core/lifecycle";
import type { PauseGate } from "../core/pause-gate";
import { LastHeard } from "../core/socket-reading";
import type { TypeCounts } from "../core/type-counts";
import type { Watchdog } from "../core/watchdog";
import { ApicError } from "./envelope";
import type { ResolvedApicOptions } from "./options";
import type { OverlapDedup } from "./overlap";
import type { ApicRest } from "./rest";
import { login, logout, SessionToken } from "./session";
import type { LocalSubscription } from "./subscription";

/** A frame whose ids were not known yet, held while a subscribe is in flight. */
export interface BufferedFrame {
  ids: string[];
  waiting: Set<string>;
  data: string;
}

/**
 * One APIC login: its token, its socket and the subscription ids it holds. A connection has
 * one; during a renewal a second one is built beside it and replaces it once complete.
 */
export interface Sess {
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

/** One connection attempt to one controller: the session in use, and the renewal's while one is built. */
export interface Conn {
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

/**
 * What the parts of one ApicClient share: its settings, its queries, the connection in use,
 * its counters and its reporting. The client owns it; socket wiring (session-socket.ts),
 * dispatch (dispatch.ts), subscribing (subscribe-refresh.ts) and renewal (renewal.ts) are
 * plain functions over it.
 */
export interface ClientContext {
  readonly opts: ResolvedApicOptions;
  readonly clock: Clock;
  readonly backoff: AuthAwareBackoff;
  readonly gate: PauseGate;
  /** Every local subscription, across reconnects. */
  readonly subs: Set<LocalSubscription>;
  readonly drops: DropCounter;
  readonly types: TypeCounts;
  /** What ApicClient.stats reports (besides drops and subscriptions). */
  readonly counts: { events: number; frames: number; renewals: number; duplicates: number; pauses: number };
  conn: Conn | undefined;
  /** See ApicClient.lastHeardAt. */
  heardAt: number | undefined;
  /** When the connection was lost and why, until the next one announces the gap. */
  lostAt: number | undefined;
  lostReason: string;
  /** A frame, item or listener problem that did not end the connection (the client's `drop` event). */
  drop(reason: string, error: Error): void;
  /** The client's `session` event. */
  sessionOpened(info: { host: string; version: string; renewed?: boolean }): void;
  /** The client's `warning` event. */
  warn(err: Error): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export function newSess(ctx: ClientContext): Sess {
  return {
    token: "",
    ended: false,
    timers: new Set(),
    ids: new Map(),
    byId: new Map(),
    refreshTimers: new Map(),
    inflight: new Set(),
    buffered: [],
    heard: new LastHeard(() => ctx.clock.now()),
  };
}

/** A timer that belongs to the connection (`sess` undefined) or to one session, and dies with it. */
export function later(ctx: ClientContext, c: Conn, sess: Sess | undefined, fn: () => void, ms: number): TimerHandle {
  // setTimeout fires at once beyond 2^31-1 ms (24.8 days): a long maximum lifetime must not.
  ms = Math.min(Math.max(0, ms), MAX_TIMER_MS);
  const set = sess ? sess.timers : c.timers;
  const t = ctx.clock.setTimeout(() => {
    set.delete(t);
    if (c.attempt.active && !(sess && sess.ended)) fn();
  }, ms);
  set.add(t);
  return t;
}

/**
 * aaaLogin, counted for the hold-off: refused credentials (401) are what a lockout policy
 * counts, so the reconnect after the third refusal in a row waits ~11 min (sysadm does the same).
 */
export async function loginCounted(ctx: ClientContext, rest: ApicRest): Promise<SessionToken> {
  try {
    const session = await login(rest, ctx.opts.credentials);
    ctx.backoff.accepted();
    return session;
  } catch (e) {
    if (e instanceof ApicError && e.kind === "auth") ctx.backoff.rejected();
    throw e;
  }
}

/** A session's socket or token failed: the connection ends, or only the renewal that built it. */
export function sessFailed(ctx: ClientContext, c: Conn, sess: Sess, err: Error): void {
  if (sess === c.sess) c.attempt.fail(err);
  else if (sess === c.next) abandonRenewal(ctx, c, err);
}

export function abandonRenewal(ctx: ClientContext, c: Conn, err: Error): void {
  const next = c.next;
  if (!next) return;
  c.next = undefined;
  c.overlap = undefined;
  void endSess(ctx, c, next, true);
  // The old session is about to reach its maximum lifetime: the plain re-login (gap, re-read) is the safe way on.
  c.attempt.fail(new InfraError("apic-session-lifetime", `session reached its maximum lifetime and its renewal failed (${err.message}): logging in again`));
}

/** Stop one session: its timers, its socket, and (if asked) log it out. Never rejects. */
export function endSess(ctx: ClientContext, c: Conn, sess: Sess, logOut: boolean): Promise<void> {
  sess.ended = true;
  for (const t of sess.timers) ctx.clock.clearTimeout(t);
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
  return logout(c.rest, sess.token, ctx.opts.credentials).catch((e: unknown) => logoutFailed(ctx, e));
}

/** A session we give up on could not be logged out: it lapses on APIC by itself, but say so. */
export function logoutFailed(ctx: ClientContext, e: unknown): void {
  ctx.warn(new InfraError("apic-logout", `logout failed (the session will expire on the controller): ${asError(e).message}`));
}
