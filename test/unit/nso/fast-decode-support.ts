/**
 * The reference the fast notification decoder is held to: the generic path (decodeTerm +
 * decodeNotification + ackFor). `sameAsGeneric` decodes a frame both ways and fails unless the
 * fast path either declines (undefined) or gives exactly the generic result; it never may
 * decode a frame the generic path refuses, and it never may throw.
 */
import { strict as assert } from "node:assert";
import { ProtocolError } from "../../../src/core/errors";
import { ackFor } from "../../../src/nso/acks";
import { fastNotification, FastDecodeOptions } from "../../../src/nso/fast-decode";
import { decodeNotification } from "../../../src/nso/notifications";
import { decodeTerm, isAtom, isTuple, Term } from "../../../src/nso/term";
import { canonicalTerm } from "./term-support";

export type Generic =
  { ok: true; term: Term; notification: ReturnType<typeof decodeNotification>; ack: ReturnType<typeof ackFor> } | { ok: false; code: string };

/** The generic path; a ProtocolError is an outcome, anything else fails the test. */
export function generic(frame: Uint8Array, opts: FastDecodeOptions): Generic {
  try {
    const term = decodeTerm(frame, opts);
    const notification = decodeNotification(term, { libVsn: opts.libVsn, mask: opts.mask });
    return { ok: true, term, notification, ack: opts.ackMask === undefined ? undefined : ackFor(term, opts.ackMask) };
  } catch (e) {
    if (e instanceof ProtocolError) return { ok: false, code: e.code };
    throw e;
  }
}

/** "fast" when the fast path decoded the frame (to the generic result), "declined" otherwise. */
export function sameAsGeneric(frame: Uint8Array, opts: FastDecodeOptions, where = ""): "fast" | "declined" {
  const g = generic(frame, opts);
  const f = fastNotification(frame, opts);
  if (f === undefined) return "declined";
  assert.ok(g.ok, `${where}: the fast path decoded a frame the generic path refuses (${g.ok ? "" : g.code})`);
  assert.deepStrictEqual(f.notification, g.notification, where);
  // Same keys in the same order: what a flow sees as JSON.
  assert.equal(JSON.stringify(f.notification), JSON.stringify(g.notification), where);
  assert.deepStrictEqual(f.ack, g.ack, where);
  assertHead(f.head, g.term, where);
  return "fast";
}

/**
 * `head` holds what StreamResume.classify reads: the tag, and for a stream event the body kind
 * and the exact EventTime term (it becomes the resume point).
 */
function assertHead(head: Term, term: Term, where: string): void {
  assert.ok(isTuple(head) && isTuple(term), where);
  assert.equal(head.get(0), term.get(0), where);
  if (term.get(0) !== 524288) return;
  const hb = head.get(1);
  const tb = term.get(1);
  if (isAtom(tb)) {
    assert.ok(isAtom(hb, tb.name), where);
    return;
  }
  assert.ok(isTuple(hb, 2) && isTuple(tb, 2), where);
  if (isAtom(tb.get(0))) assert.equal(canonicalTerm(hb), canonicalTerm(tb), where);
  else assert.equal(canonicalTerm(hb.get(0)), canonicalTerm(tb.get(0)), where);
}
