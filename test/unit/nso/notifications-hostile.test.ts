/**
 * Unexpected shapes: a known tag in a wrong shape is a ProtocolError naming the slot (the
 * client counts and drops it), never another exception, never a partial payload, and the
 * error never quotes values (a uinfo carries a clear-text password).
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { ProtocolError } from "../../../src/core/errors";
import { atom, decodeTerm, ErlMap, ImproperList, Term, tuple, Tuple } from "../../../src/nso/term";
import { decodeNotification } from "../../../src/nso/notifications";
import { readFrames } from "./term-support";
import { assertJsonSafe } from "./notifications-support";

const opts = { libVsn: 0x08020500 };
const b = (s: string): Buffer => Buffer.from(s);

function rejects(t: Term, slot: RegExp): ProtocolError {
  let caught: unknown;
  try {
    decodeNotification(t, opts);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ProtocolError, `expected ProtocolError, got ${String(caught)}`);
  assert.equal(caught.code, "nso-bad-notification");
  assert.match(caught.message, slot);
  return caught;
}

const goldenTerms: Term[] = readFrames()
  .filter((f) => f.dir === "in" && f.bytes !== null && f.bytes.length > 4 && f.bytes[4] === 131)
  .map((f) => decodeTerm(f.bytes!.subarray(4)))
  .filter((t) => t instanceof Tuple && typeof t.elements[0] === "number");

describe("nso notifications: unexpected shapes", () => {
  it("a term that is not a notification", () => {
    rejects(atom("ok"), /expected a tuple/);
    rejects(tuple(), /expected a tuple/);
    rejects(tuple(atom("error"), 18, b("x")), /integer type tag/);
  });

  it("a known tag with the wrong arity or wrong slot types names the slot", () => {
    rejects(tuple(1, 116, b("admin"), 59), /NOTIF_AUDIT: expected a tuple of 5 elements, got 4/);
    rejects(tuple(1, b("116"), b("admin"), 59, b("m")), /NOTIF_AUDIT\.logno: expected an integer, got a binary/);
    rejects(tuple(32, 1, tuple(1, 2), 0), /NOTIF_USER_SESSION\.uinfo: expected a tuple of 10/);
    rejects(tuple(64, 5), /NOTIF_HA_INFO\[1\]/);
    rejects(tuple(524288, atom("bogus")), /NOTIF_STREAM_EVENT\[1\]: unexpected atom/);
    rejects(tuple(524288, tuple(tuple(19, tuple(1)), [])), /event_time/);
    rejects(
      tuple(524288, tuple(tuple(19, tuple(2026, 1, 1, 0, 0, 0, 0, 0, 0)), [tuple(new ImproperList([1], 2), tuple(1, 2, 3))])),
      /values\[0\]\.value: unexpected value a 3-tuple/,
    );
    rejects(tuple(16777216, tuple(1, 2, 3)), /NOTIF_PROGRESS\[1\]: expected a tuple of 15 or 12 or 19 or 11 or 18/);
    rejects(tuple(512, tuple(5, 1, tuple(127, 0, 0, 1), 1, 0, 0, 2, [])), /NumVb says 2 but 0/);
    rejects(tuple(32, 1, tuple(1, b("u"), b(""), b("cli"), 1, tuple(300, 0, 0, 1), 0, 0, b(""), 0), 0), /uinfo\.addr\[0\]: IP address part out of range/);
  });

  it("errors never quote values: a broken uinfo with a password does not leak it", () => {
    const e = rejects(tuple(32, 1, tuple(7, b("web"), b("hunter2"), atom("webui"), 6, tuple(127, 0, 0, 1), b("port?"), 0, b(""), 0), 0), /uinfo\.port/);
    assert.ok(!e.message.includes("hunter2"));
    assert.ok(!JSON.stringify(e.details).includes("hunter2"));
  });

  it("every golden notification with one subterm replaced by junk: a payload or a ProtocolError", () => {
    const junk: fc.Arbitrary<Term> = fc.oneof(
      fc.integer(),
      fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
      fc.constantFrom<Term>(atom("undefined"), atom("true"), atom("start"), [], "", b(""), b("\u00ff"), Buffer.from([0xff, 0xfe])),
      fc.array(fc.integer({ min: -1, max: 300 }), { maxLength: 4 }),
      fc.integer({ min: 0, max: 9 }).map((n) => new Tuple(Array.from({ length: n }, (_, i) => i))),
      fc.constant<Term>(new ErlMap([[atom("a"), 1]])),
      fc.constant<Term>(new ImproperList([1], atom("x"))),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: goldenTerms.length - 1 }), fc.nat(), junk, (which, where, replacement) => {
        const mutated = replaceNth(goldenTerms[which], where, replacement);
        try {
          const n = decodeNotification(mutated, opts);
          assertJsonSafe(n.payload);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
      { numRuns: 4000, seed: 2026 },
    );
  });
});

/** Replaces the n-th subterm (pre-order, modulo the subterm count, never the root) with `r`. */
function replaceNth(t: Term, n: number, r: Term): Term {
  const total = count(t) - 1;
  let target = total > 0 ? (n % total) + 1 : 0;
  const walk = (x: Term): Term => {
    if (target === 0) {
      target = -1;
      return r;
    }
    target--;
    if (x instanceof Tuple) return new Tuple(x.elements.map(walk));
    if (Array.isArray(x)) return x.map(walk);
    if (x instanceof ImproperList) return new ImproperList(x.elements.map(walk), walk(x.tail));
    return x;
  };
  return walk(t);
}

function count(t: Term): number {
  if (t instanceof Tuple) return 1 + t.elements.reduce((s: number, e) => s + count(e), 0);
  if (Array.isArray(t)) return 1 + t.reduce((s: number, e) => s + count(e), 0);
  if (t instanceof ImproperList) return 1 + t.elements.reduce((s: number, e) => s + count(e), 0) + count(t.tail);
  return 1;
}
