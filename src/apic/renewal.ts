import { asError, InfraError } from "../core/errors";
import { unreadBytes } from "../core/socket-reading";
import { Watchdog } from "../core/watchdog";
import { abandonRenewal, endSess, later, loginCounted, logoutFailed, newSess, sessFailed, type ClientContext, type Conn, type Sess } from "./connection";
import { safeError } from "./dispatch";
import { OverlapDedup } from "./overlap";
import { logout, refresh, SessionToken } from "./session";
import { openSocketFor, wireSocket } from "./session-socket";
import { scheduleRetry, subscribeOne } from "./subscribe-refresh";
import type { LocalSubscription } from "./subscription";

/** aaaRefresh at half the token's lifetime, adopting the token it returns; a failure ends the session. */
export function scheduleTokenRefresh(ctx: ClientContext, c: Conn, sess: Sess, s: SessionToken): void {
  later(
    ctx,
    c,
    sess,
    () => {
      refresh(c.rest, sess.token)
        .then((next) => {
          if (!c.attempt.active || sess.ended) return;
          sess.token = next.token;
          scheduleTokenRefresh(ctx, c, sess, next);
        })
        .catch((e: unknown) => {
          if (c.attempt.active && !sess.ended) sessFailed(ctx, c, sess, asError(e));
        });
    },
    (s.refreshTimeoutSeconds * 1000) / 2,
  );
}

/** The renewal, due a margin before the session's maximum lifetime. */
export function scheduleMaxLifetime(ctx: ClientContext, c: Conn, s: SessionToken): void {
  const margin = ctx.opts.maxLifetimeMarginSeconds ?? Math.min(600, s.maximumLifetimeSeconds / 10);
  const at = Math.max(s.maximumLifetimeSeconds - margin, s.maximumLifetimeSeconds / 2) * 1000;
  later(ctx, c, c.sess, () => void renew(ctx, c), at);
}

/**
 * Replace the session before its maximum lifetime without a gap: log in a second session,
 * open its socket, subscribe every query on it while the old one still delivers (copies of a
 * change from both sockets are delivered once), make sure the old socket has handed over what
 * it had (ping barrier), then switch and log the old session out. Any failure on the way
 * falls back to the plain re-login (gap + re-read): never a silent loss.
 */
async function renew(ctx: ClientContext, c: Conn): Promise<void> {
  if (c.next || !c.attempt.active) return;
  const old = c.sess;
  const next = newSess(ctx);
  c.next = next;
  const overlap = { old, dedup: new OverlapDedup(), both: new Set<LocalSubscription>() };
  c.overlap = overlap;
  let session: SessionToken;
  try {
    session = await loginCounted(ctx, c.rest);
    if (c.next !== next) {
      logout(c.rest, session.token, ctx.opts.credentials).catch((e: unknown) => logoutFailed(ctx, e));
      return;
    }
    next.token = session.token;
    const ws = await openSocketFor(ctx, c, session.token);
    if (c.next !== next) {
      ws.terminate();
      return;
    }
    next.ws = ws;
    wireSocket(ctx, c, next, ws);
    scheduleTokenRefresh(ctx, c, next, session);
    // One pass over the queries; ones added meanwhile are picked up by the same loop.
    const done = new Set<LocalSubscription>();
    for (;;) {
      const s = [...ctx.subs].find((x) => !x.closed && !done.has(x));
      if (!s) break;
      done.add(s);
      overlap.both.add(s);
      await subscribeOne(ctx, c, next, s, "renewal");
      if (c.next !== next) return;
    }
    await barrier(ctx, c, old);
    if (c.next !== next) return;
  } catch (e) {
    if (c.next === next) abandonRenewal(ctx, c, asError(e));
    return;
  }
  switchTo(ctx, c, next, session);
}

/**
 * Frames the old socket already carries must be read before it is closed: a ping sent now is
 * answered after them (one TCP stream, in order). No pong in time: the old socket may have
 * lost changes, so the renewal is not trusted.
 */
function barrier(ctx: ClientContext, c: Conn, old: Sess): Promise<void> {
  const ws = old.ws;
  if (!ws) return Promise.reject(new InfraError("apic-renewal", "old session has no socket"));
  return new Promise((resolve, reject) => {
    // While reading is paused the pong waits behind the unread frames: not a failed hand-over.
    const t = new Watchdog({
      clock: ctx.clock,
      timeoutMs: ctx.opts.requestTimeoutMs,
      reader: ctx.gate,
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

/** The new session takes over: ids switch, the old session is logged out, copies are still matched briefly. */
function switchTo(ctx: ClientContext, c: Conn, next: Sess, session: SessionToken): void {
  const old = c.sess;
  const switchedAt = ctx.clock.now();
  c.sess = next;
  c.next = undefined;
  ctx.heardAt = next.heard.at;
  ctx.counts.renewals++;
  for (const s of ctx.subs) {
    const hadOld = old.ids.has(s) || old.inflight.has(s);
    s.id = next.ids.get(s);
    // Live on the old session but refused on the new one: it will be retried, with a gap.
    if (s.id === undefined && hadOld && s.gapSince === undefined) {
      s.gapSince = switchedAt;
      s.lapseReason = `not subscribed on the renewed session: ${s.lastError?.message ?? "subscribe failed"}`;
    }
  }
  void endSess(ctx, c, old, true);
  // Copies of the last changes may still be on their way on the new socket: keep matching briefly.
  const overlap = c.overlap;
  later(
    ctx,
    c,
    undefined,
    () => {
      if (c.overlap === overlap) c.overlap = undefined;
    },
    ctx.opts.renewalOverlapMs,
  );
  scheduleMaxLifetime(ctx, c, session);
  ctx.sessionOpened({ host: c.host, version: session.version, renewed: true });
  for (const s of [...ctx.subs]) {
    if (s.closed || s.id !== undefined || next.inflight.has(s) || s.retryTimer !== undefined) continue;
    if (s.lastError) {
      scheduleRetry(ctx, c, s);
      safeError(ctx, s, s.lastError);
    } else void subscribeOne(ctx, c, next, s, s.gapSince !== undefined ? "gap" : "sync");
  }
}
