import { Backoff } from "../core/backoff";
import { asError, ProtocolError } from "../core/errors";
import { later, sessFailed, type ClientContext, type Conn, type Sess } from "./connection";
import { deliver, flushBuffered, safeError, safeGap } from "./dispatch";
import { ApicError } from "./envelope";
import { readIds, readMo } from "./frames";
import type { LocalSubscription, SubscriptionListener } from "./subscription";
import type { ApicEvent } from "./types";

/** sync: snapshot as `sync`; gap: announce a gap first; renewal: the old session still covers it, no snapshot. */
export type SubscribeMode = "sync" | "gap" | "renewal";

/**
 * A connection is up: announce the gap since the last one was lost (one per owner, with its
 * queries), then subscribe every query on the session in use.
 */
export async function subscribeAll(ctx: ClientContext, c: Conn): Promise<void> {
  if (ctx.lostAt !== undefined) {
    const lostAt = ctx.lostAt;
    const gapBase = { reason: ctx.lostReason, until: ctx.clock.now() };
    ctx.lostAt = undefined;
    const owners = new Map<SubscriptionListener, { since: number; queries: string[] }>();
    for (const s of ctx.subs) {
      const o = owners.get(s.listener) ?? { since: lostAt, queries: [] };
      o.queries.push(s.query.path);
      // A query that had already lapsed before the connection went was missing changes since then.
      if (s.gapSince !== undefined) o.since = Math.min(o.since, s.gapSince);
      owners.set(s.listener, o);
      s.gapSince = undefined;
    }
    for (const [l, o] of owners) safeGap(ctx, l, { ...gapBase, since: o.since, queries: o.queries });
  }
  for (const s of [...ctx.subs]) {
    const sess = c.sess;
    if (!c.attempt.active) return;
    if (s.closed || sess.ids.has(s) || sess.inflight.has(s)) continue;
    await subscribeOne(ctx, c, sess, s, s.gapSince !== undefined ? "gap" : "sync");
  }
}

/** Subscribe one query on `sess`; its snapshot goes out as `sync` (not for a renewal). Session-level failures end that session. */
export async function subscribeOne(ctx: ClientContext, c: Conn, sess: Sess, s: LocalSubscription, mode: SubscribeMode): Promise<void> {
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
        scheduleRetry(ctx, c, s);
        safeError(ctx, s, err);
      }
      flushBuffered(ctx, sess);
      return;
    }
    sessFailed(ctx, c, sess, err);
    return;
  }
  sess.inflight.delete(s);
  if (!c.attempt.active || sess.ended || s.closed) return;
  const ids = readIds(reply.subscriptionId);
  if (!ids || ids.length !== 1) {
    sessFailed(ctx, c, sess, new ApicError("protocol", `subscribe ${s.query.path}: reply has no subscriptionId`));
    return;
  }
  const id = ids[0];
  const old = c.overlap?.old;
  // A renewal re-reads nothing for a query the old session still covers. One whose subscribe
  // on the old session is still in flight is read here too: that snapshot may never arrive
  // (the old session can end first), and a second `sync` is harmless where a missing one is not.
  const covered = mode === "renewal" && old !== undefined && !old.ended && old.ids.has(s);
  const gap = !covered && (mode === "gap" || s.gapSince !== undefined);
  forgetId(ctx, sess, s);
  sess.ids.set(s, id);
  sess.byId.set(id, s);
  if (sess === c.sess) s.id = id;
  s.lastError = undefined;
  s.failures = 0;
  s.retry?.reset();
  clearRetry(ctx, s);
  s.subscribedAt = ctx.clock.now();
  if (gap) {
    safeGap(ctx, s.listener, {
      reason: s.lapseReason ?? "subscription lapsed",
      since: s.gapSince ?? s.lastRefreshAt,
      until: ctx.clock.now(),
      queries: [s.query.path],
    });
  }
  if (!covered) s.gapSince = undefined;
  s.lastRefreshAt = ctx.clock.now();
  if (!covered) {
    for (const item of reply.imdata) {
      const mo = readMo(item, true);
      if (typeof mo === "string") {
        ctx.drop(`snapshot-${mo}`, new ProtocolError("apic-bad-snapshot", `subscribe ${s.query.path}: snapshot item skipped (${mo})`));
        continue;
      }
      const ev: ApicEvent = { class: mo.class, dn: mo.dn, status: "sync", attributes: mo.attributes, subscriptionIds: [id] };
      if (mo.children) ev.children = mo.children;
      deliver(ctx, s, ev);
    }
  }
  scheduleSubRefresh(ctx, c, sess, s);
  flushBuffered(ctx, sess);
}

/** Retry a refused query on its own: capped backoff, so a bad filter costs one request per few minutes. */
export function scheduleRetry(ctx: ClientContext, c: Conn, s: LocalSubscription): void {
  clearRetry(ctx, s);
  s.retry ??= new Backoff({ initialMs: ctx.opts.queryRetryInitialMs, maxMs: ctx.opts.queryRetryMaxMs, jitter: 0.2 });
  const delay = s.retry.next(ctx.clock.now());
  s.retryAt = ctx.clock.now() + delay;
  s.retryTimer = later(
    ctx,
    c,
    undefined,
    () => {
      s.retryTimer = undefined;
      s.retryAt = undefined;
      const sess = c.sess;
      if (s.closed || sess.ids.has(s) || sess.inflight.has(s)) return;
      void subscribeOne(ctx, c, sess, s, s.gapSince !== undefined ? "gap" : "sync");
    },
    delay,
  );
}

export function clearRetry(ctx: ClientContext, s: LocalSubscription): void {
  if (s.retryTimer !== undefined) {
    ctx.clock.clearTimeout(s.retryTimer);
    const c = ctx.conn;
    c?.timers.delete(s.retryTimer);
  }
  s.retryTimer = undefined;
  s.retryAt = undefined;
}

/** subscriptionRefresh at half the query's refresh-timeout, for as long as `sess` holds its id. */
function scheduleSubRefresh(ctx: ClientContext, c: Conn, sess: Sess, s: LocalSubscription): void {
  const prev = sess.refreshTimers.get(s);
  if (prev !== undefined) {
    ctx.clock.clearTimeout(prev);
    sess.timers.delete(prev);
  }
  const t = later(
    ctx,
    c,
    sess,
    () => {
      sess.refreshTimers.delete(s);
      if (!s.closed && sess.ids.has(s)) void refreshSub(ctx, c, sess, s);
    },
    (s.query.refreshTimeoutSeconds * 1000) / 2,
  );
  sess.refreshTimers.set(s, t);
}

async function refreshSub(ctx: ClientContext, c: Conn, sess: Sess, s: LocalSubscription): Promise<void> {
  const id = sess.ids.get(s)!;
  try {
    await c.rest.request("GET", `/api/subscriptionRefresh.json?id=${id}`, `subscriptionRefresh ${id}`, sess.token);
  } catch (e) {
    const err = asError(e);
    if (!c.attempt.active || sess.ended || s.closed || sess.ids.get(s) !== id) return;
    if (err instanceof ApicError && (err.kind === "request" || err.kind === "protocol")) {
      // The id lapsed (or APIC forgot it): subscribe the query again and say it may have missed changes.
      forgetId(ctx, sess, s);
      if (sess === c.sess) {
        s.lapseReason = `subscription ${id} could not be refreshed: ${err.message}`;
        s.gapSince = s.lastRefreshAt ?? ctx.clock.now();
      }
      await subscribeOne(ctx, c, sess, s, sess === c.sess ? "gap" : "renewal");
      return;
    }
    sessFailed(ctx, c, sess, err);
    return;
  }
  if (!c.attempt.active || sess.ended || s.closed || sess.ids.get(s) !== id) return;
  if (sess === c.sess) s.lastRefreshAt = ctx.clock.now();
  scheduleSubRefresh(ctx, c, sess, s);
}

/** `sess` no longer holds an id for `s`: its refresh stops and its frames no longer reach `s`. */
export function forgetId(ctx: ClientContext, sess: Sess, s: LocalSubscription): void {
  const id = sess.ids.get(s);
  if (id !== undefined && sess.byId.get(id) === s) sess.byId.delete(id);
  sess.ids.delete(s);
  const t = sess.refreshTimers.get(s);
  if (t !== undefined) {
    ctx.clock.clearTimeout(t);
    sess.timers.delete(t);
    sess.refreshTimers.delete(s);
  }
  if (ctx.conn?.sess === sess) s.id = undefined;
}
