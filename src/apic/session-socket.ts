import type WebSocket from "ws";
import { asError, InfraError } from "../core/errors";
import { LastHeard, unreadBytes } from "../core/socket-reading";
import { Watchdog } from "../core/watchdog";
import { later, sessFailed, type ClientContext, type Conn, type Sess } from "./connection";
import { onFrame } from "./dispatch";
import { openSocket } from "./socket";

/** Open a session's WebSocket to the connection's controller (aborted with the attempt). */
export function openSocketFor(ctx: ClientContext, c: Conn, token: string): Promise<WebSocket> {
  return openSocket(
    c.host,
    token,
    { tls: ctx.opts.tls, handshakeTimeoutMs: ctx.opts.handshakeTimeoutMs, hardMaxBytes: Math.max(ctx.opts.maxFrameBytes * 4, 64 * 1024 * 1024) },
    c.attempt.signal,
  );
}

/** Listen on a session's open socket: frames to dispatch, pongs and pings as signs of life, loss ends the session; keepalive pings. */
export function wireSocket(ctx: ClientContext, c: Conn, sess: Sess, ws: WebSocket): void {
  sess.heard = new LastHeard(() => ctx.clock.now());
  // Only the session in use proves the connection alive: a fresh renewal socket must not
  // hide an old one that went silent.
  const alive = (): void => {
    if (sess !== c.sess) return;
    ctx.heardAt = sess.heard.at;
    c.liveness?.alive();
  };
  ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    sess.heard.heard();
    alive();
    onFrame(ctx, c, sess, data, isBinary);
  });
  ws.on("pong", (data: Buffer) => {
    sess.heard.pong(data);
    alive();
    // That pong answered a ping sent before the latest resume: ask again, now that we read.
    if (sess.heard.wantsBarrier) ping(ctx, c, sess);
  });
  ws.on("ping", () => {
    sess.heard.heard();
    alive();
  });
  ws.on("close", (code: number, reason: Buffer) => {
    sessFailed(
      ctx,
      c,
      sess,
      new InfraError("apic-socket-lost", `socket closed (code ${code}${reason.length ? `: ${reason.toString().slice(0, 60)}` : ""}) by ${c.host}`),
    );
  });
  ws.on("error", (e: Error) => sessFailed(ctx, c, sess, new InfraError("apic-socket-lost", `socket error: ${e.message}`)));
  if (ctx.opts.pingIntervalMs > 0) {
    // A half-open TCP connection never delivers 'close': only a missing pong reveals it
    // (the liveness watchdog fires when no pong/frame arrived for two periods of reading).
    // One ping at a time, and none while reading is paused: the pongs would wait unread behind
    // the frames, and the watchdog does not count silence while paused anyway.
    const tick = (): void => {
      if (!ctx.gate.paused && sess.heard.pending === 0 && !ping(ctx, c, sess)) return;
      later(ctx, c, sess, tick, ctx.opts.pingIntervalMs);
    };
    later(ctx, c, sess, tick, ctx.opts.pingIntervalMs);
  }
  // A flow still behind keeps holding APIC back on the new socket too.
  if (ctx.gate.paused) setSessPaused(ctx, c, sess, true);
}

/**
 * Half-open detection: with pings every `pingIntervalMs`, no frame or pong for two periods
 * ends the connection. Not while reading is paused (the pongs wait in the socket), nor while
 * bytes wait unread, nor on a check the blocked event loop made late (core/watchdog).
 */
export function watchLiveness(ctx: ClientContext, c: Conn): void {
  if (ctx.opts.pingIntervalMs <= 0 || !c.attempt.active) return;
  const w = new Watchdog({
    clock: ctx.clock,
    timeoutMs: ctx.opts.pingIntervalMs * 2,
    reader: ctx.gate,
    unread: () => unreadBytes(c.sess.ws) > 0,
    fire: (silent) => c.attempt.fail(new InfraError("liveness-timeout", `peer silent for ${silent} ms`)),
  });
  c.liveness = w;
  c.watchdogs.add(w);
}

/** The gate opened or closed: every session's socket of the connection follows. */
export function applyPause(ctx: ClientContext, paused: boolean): void {
  if (paused) ctx.counts.pauses++;
  const c = ctx.conn;
  if (!c) return;
  for (const sess of [c.sess, c.next]) if (sess) setSessPaused(ctx, c, sess, paused);
}

/** Stop or start reading one session's socket; resuming pings, so its pong marks the backlog read. */
function setSessPaused(ctx: ClientContext, c: Conn, sess: Sess, paused: boolean): void {
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
  if (sess.heard.wantsBarrier) ping(ctx, c, sess);
}

/** Ping on the session's socket; false when the socket failed (the session is ended then). */
function ping(ctx: ClientContext, c: Conn, sess: Sess): boolean {
  // A closing socket: its close event ends the session with the real reason.
  if (sess.ws?.readyState !== 1 /* WebSocket.OPEN */) return true;
  try {
    sess.ws.ping(sess.heard.ping());
    return true;
  } catch (e) {
    sessFailed(ctx, c, sess, new InfraError("apic-socket-lost", `ping failed: ${asError(e).message}`));
    return false;
  }
}
