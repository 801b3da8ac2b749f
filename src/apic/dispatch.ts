import { asError, InfraError, ProtocolError } from "../core/errors";
import type { BufferedFrame, ClientContext, Conn, Sess } from "./connection";
import { decodeFrame } from "./frames";
import { changeKey } from "./overlap";
import type { LocalSubscription, SubscriptionListener } from "./subscription";
import type { ApicEvent, ApicGap } from "./types";

/** A frame off a session's socket: size and type checked, then dispatched. */
export function onFrame(ctx: ClientContext, c: Conn, sess: Sess, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  ctx.counts.frames++;
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (buf.length > ctx.opts.maxFrameBytes) {
    ctx.drop(
      "oversize-frame",
      new ProtocolError("apic-oversize-frame", `notification frame of ${buf.length} bytes exceeds the ${ctx.opts.maxFrameBytes}-byte limit`),
    );
    return;
  }
  if (isBinary) {
    ctx.drop("binary-frame", new ProtocolError("apic-binary-frame", "binary WebSocket frame (APIC sends text)"));
    return;
  }
  dispatch(ctx, c, sess, buf.toString("utf8"), undefined);
}

/** Deliver a frame to the local subscriptions its ids name (`only`: just these ids). */
function dispatch(ctx: ClientContext, c: Conn, sess: Sess, data: string, only: Set<string> | undefined): void {
  let frame;
  try {
    frame = decodeFrame(data);
  } catch (e) {
    const err = asError(e);
    ctx.drop((err as InfraError).code ?? "bad-frame", err);
    return;
  }
  for (const why of frame.skipped) ctx.drop(why, new ProtocolError(`apic-${why}`, `notification item skipped: ${why}`));
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
        ctx.counts.duplicates++;
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
      deliver(ctx, s, ev);
    }
  }
  if (waiting.size === 0) return;
  if (sess.inflight.size > 0 && sess.buffered.length < ctx.opts.maxBufferedFrames) {
    // A change can reach us before the subscribe reply that tells us its id: hold it briefly.
    sess.buffered.push({ ids: frame.ids, waiting, data });
  } else if (seen.size === 0) {
    ctx.drops.add("unknown-subscription-id"); // only stale ids (lapsed subscriptions): normal, only counted
  }
}

/** A subscribe finished on `sess`: deliver the held frames its id unlocks; drop what no subscribe will claim. */
export function flushBuffered(ctx: ClientContext, sess: Sess): void {
  const c = ctx.conn;
  if (sess.buffered.length === 0 || !c) return;
  const keep: BufferedFrame[] = [];
  const frames = sess.buffered;
  sess.buffered = [];
  for (const f of frames) {
    const ready = new Set([...f.waiting].filter((id) => sess.byId.has(id)));
    if (ready.size > 0) dispatch(ctx, c, sess, f.data, ready);
    for (const id of ready) f.waiting.delete(id);
    if (f.waiting.size > 0 && sess.inflight.size > 0) keep.push(f);
    else if (f.waiting.size > 0) ctx.drops.add("unknown-subscription-id");
  }
  sess.buffered.push(...keep);
}

export function deliver(ctx: ClientContext, s: LocalSubscription, ev: ApicEvent): void {
  ctx.counts.events++;
  ctx.types.add(ev.class);
  try {
    s.listener.onEvent(ev, s);
  } catch (e) {
    ctx.drop("flow-listener-error", asError(e));
  }
}

export function safeGap(ctx: ClientContext, l: SubscriptionListener, gap: ApicGap): void {
  try {
    l.onGap(gap);
  } catch (e) {
    ctx.drop("flow-listener-error", asError(e));
  }
}

export function safeError(ctx: ClientContext, s: LocalSubscription, err: Error): void {
  try {
    s.listener.onError?.(err, s);
  } catch (e) {
    ctx.drop("flow-listener-error", asError(e));
  }
}
