/**
 * The fast notification decoder against the generic path (the reference) on every golden frame a
 * real NSO 6.2.5 sent, with each capture's LIB_VSN and subscription mask, and on every shape of
 * the handled types the captures do not hold: each decodes the fast way to exactly the generic
 * result (same keys, same order, same ack), or is declined and left to the generic path.
 */
import { strict as assert } from "node:assert";
import { ackFor } from "../../../src/nso/acks";
import { fastNotification, lazyRawEvent, notificationTag } from "../../../src/nso/fast-decode";
import { atom, decodeTerm, encodeTerm, ErlFloat, ImproperList, isTuple, Term, tuple } from "../../../src/nso/term";
import { readFrames } from "./term-support";
import { canonicalTerm } from "./term-support";
import { sameAsGeneric } from "./fast-decode-support";

const LIB_VSN: Record<string, number> = { progold: 0x07070100, cqold: 0x07050000 };
const MASKS: Record<string, number> = { core: 1558219371, diff: 16, auditsync: 1 | 131072, hasync: 64 | 1048576, anetsync: 268435456 | 536870912 };
const ALL_SYNC = 131072 | 1048576 | 536870912;

/** Every notification type the fast path takes (the rest: commit failed, confirmed commit, forward info, subagent, call home). */
const FAST_TYPES = new Set([
  "AUDIT",
  "DAEMON",
  "NETCONF",
  "DEVEL",
  "JSONRPC",
  "WEBUI",
  "COMMIT_SIMPLE",
  "COMMIT_DIFF",
  "USER_SESSION",
  "PROGRESS",
  "COMMIT_PROGRESS",
  "STREAM_EVENT",
  "CQ_PROGRESS",
  "SNMPA",
  "HA_INFO",
  "AUDIT_NETWORK",
  "COMPACTION",
  "UPGRADE_EVENT",
  "HEARTBEAT",
  "HEALTH_CHECK",
  "PACKAGE_RELOAD",
  "REOPEN_LOGS",
]);

const frames = readFrames().filter((f) => f.bytes !== null && f.bytes.length > 4 && f.bytes[4] === 131);
const b = (s: string): Buffer => Buffer.from(s);
const undef = atom("undefined");
const uinfo = (ctx: Term = atom("cli"), ip: Term = tuple(127, 0, 0, 1), flags = 0): Term =>
  tuple(59, b("admin"), b("secret"), ctx, 4, ip, 0, 1795372452, b(""), flags);
const dt = (...tz: Term[]): Term => tuple(19, tuple(2026, 11, 22, 18, 34, 12, 619337, ...(tz.length ? tz : [0, 0])));
const qtag = (ns: Term, tag: Term): Term => new ImproperList([ns], tag);
const stream = (...values: Term[]): Term =>
  tuple(
    524288,
    tuple(
      dt(),
      values.map((v, i) => tuple(qtag(1244620176, 100 + i), v)),
    ),
  );

describe("nso fast decode: the generic path's answer, straight from the bytes", () => {
  it("every golden frame, with its capture's LIB_VSN and mask and without a mask: the generic result, and every notification of a handled type is taken", () => {
    const taken: Record<string, number> = {};
    let declinedNotifications = 0;
    for (const f of frames) {
      const payload = f.bytes!.subarray(4);
      const libVsn = LIB_VSN[f.subscriber] ?? 0x08020500;
      const mask = MASKS[f.subscriber];
      const [r] = [{ libVsn, mask, ackMask: mask ?? 0 }, { libVsn, ackMask: 0x7fffffff }, { libVsn }].map((opts) =>
        sameAsGeneric(payload, opts, `line ${f.line} ${f.name}`),
      );
      if (r === "fast") taken[f.name] = (taken[f.name] ?? 0) + 1;
      else if (f.dir === "in" && FAST_TYPES.has(f.name)) declinedNotifications++;
    }
    assert.equal(declinedNotifications, 0);
    assert.deepEqual(new Set(Object.keys(taken)), FAST_TYPES);
    assert.equal(taken.PROGRESS, 165);
    assert.equal(taken.STREAM_EVENT, 20);
  });

  it("ack handles are ackFor's for every mask with and without each sync flag", () => {
    for (const f of frames.filter((x) => ["AUDIT", "AUDIT_NETWORK", "HA_INFO", "COMMIT_DIFF"].includes(x.name))) {
      const payload = f.bytes!.subarray(4);
      for (const ackMask of [0, 1, 16, 64, 268435456, 1 | 131072, 64 | 1048576, 268435456 | 536870912, ALL_SYNC]) {
        const r = fastNotification(payload, { libVsn: 0x08020500, ackMask });
        assert.ok(r, `line ${f.line}`);
        assert.deepStrictEqual(r.ack, ackFor(decodeTerm(payload), ackMask), `line ${f.line} mask ${ackMask}`);
      }
    }
  });

  it("shapes the captures do not hold: each type's other layouts and every value kind a stream event carries", () => {
    const cases: Array<[string, Term, "fast" | "declined"]> = [
      ["audit, binary-less charlist user", tuple(1, 7, "adm", 3, b("m")), "fast"],
      ["audit with a bignum usid", tuple(1, 7, b("u"), 2n ** 60n, b("m")), "declined"],
      ["syslog, unnamed priority", tuple(2, 1, 42, b("m")), "declined"],
      ["user session, IPv6 and flags", tuple(32, 2, uinfo(b("webui"), tuple(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 7), 2), "fast"],
      ["user session, unknown database", tuple(32, 2, uinfo(), 99), "declined"],
      ["user session, IP part out of range", tuple(32, 1, uinfo(atom("cli"), tuple(300, 0, 0, 1)), 2), "declined"],
      ["user session, non-binary clearpass", tuple(32, 1, tuple(59, b("a"), atom("x"), atom("cli"), 4, tuple(127, 0, 0, 1), 0, 0, b(""), 0), 2), "declined"],
      ["commit simple, confirmed flags", tuple(8, 2, uinfo(), 1, 3), "fast"],
      ["commit simple, diff_available 2", tuple(8, 2, uinfo(), 2, 0), "declined"],
      ["commit diff, 5-tuple", tuple(16, 2, uinfo(), 119, 0), "fast"],
      ["commit diff, comment and label absent", tuple(16, 2, uinfo(), 119, 1, undef, []), "fast"],
      ["commit diff, comment as an atom", tuple(16, 2, uinfo(), 119, 0, atom("fix"), b("l1")), "fast"],
      [
        "progress 8.1+, attributes and links",
        tuple(
          65536,
          tuple(
            2,
            2n ** 55n,
            12,
            b("t"),
            b("s"),
            undef,
            59,
            119,
            2,
            b("cli"),
            b("sub"),
            b("m"),
            b("ann"),
            [tuple(atom("a"), b("v")), tuple(b("n"), 2n ** 60n), tuple("cl", 5), tuple(atom("u"), atom("w"))],
            [tuple(b("t1"), b("s1"))],
          ),
        ),
        "fast",
      ],
      [
        "progress 8.1+, attribute value []",
        tuple(65536, tuple(2, 1, undef, undef, undef, undef, 59, 119, 2, undef, undef, undef, undef, [tuple(atom("a"), [])], [])),
        "declined",
      ],
      ["progress 12", tuple(16777216, tuple(1, 1795372452602840, undef, 59, 119, 2, b("cli"), b("trace"), b("sub"), b("phase"), b("m"), b("ann"))), "fast"],
      ["progress 11", tuple(16777216, tuple(1, 1795372452602840, 5, 59, 119, 2, b("cli"), b("sub"), undef, b("m"), undef)), "fast"],
      [
        "progress 18 with old extras",
        tuple(
          16777216,
          tuple(3, 1795372452602840, undef, 59, 119, 2, b("cli"), b("sub"), b("ph"), b("m"), undef, b("svc"), undef, 42, b("n"), atom("d1"), "dp", 2n ** 60n),
        ),
        "fast",
      ],
      [
        "progress, a 65-bit attribute (generic only)",
        tuple(16777216, tuple(3, 1, undef, 59, 119, 2, b("cli"), undef, undef, b("m"), undef, undef, undef, 2n ** 64n, undef, undef, undef, undef)),
        "declined",
      ],
      ["progress, timestamp beyond 2^53", tuple(16777216, tuple(1, 2n ** 60n, undef, 59, 119, 2, b("cli"), undef, undef, undef, b("m"), undef)), "fast"],
      ["progress, timestamp before 1970", tuple(16777216, tuple(1, -5_000_001, undef, 59, 119, 2, b("cli"), undef, undef, undef, b("m"), undef)), "fast"],
      [
        "progress, the largest exact timestamp (year 2255)",
        tuple(16777216, tuple(1, Number.MAX_SAFE_INTEGER, undef, 59, 119, 2, b("cli"), undef, undef, undef, b("m"), undef)),
        "fast",
      ],
      ["progress, unknown type", tuple(16777216, tuple(9, 1, undef, 59, 119, 2, b("cli"), undef, undef, undef, b("m"), undef)), "declined"],
      ["stream, notification_complete", tuple(524288, atom("notification_complete")), "fast"],
      ["stream, replay_failed", tuple(524288, tuple(atom("replay_failed"), b("no replay"))), "fast"],
      ["stream, an unknown atom", tuple(524288, atom("later")), "declined"],
      ["stream, timezone [] and +2:30", tuple(524288, tuple(dt([], []), [])), "fast"],
      ["stream, timezone -5", tuple(524288, tuple(dt(-5, 30), [])), "fast"],
      ["stream, microseconds out of range", tuple(524288, tuple(tuple(19, tuple(2026, 1, 1, 0, 0, 0, 1_000_000, 0, 0)), [])), "declined"],
      ["stream, bare-tuple event time", tuple(524288, tuple(tuple(2026, 1, 1, 0, 0, 0, 0, 0, 0), [])), "declined"],
      [
        "stream, plain values",
        stream(b("text"), 42, -7, (2n ** 70n) >> 10n, new ErlFloat(1.5), atom("true"), atom("false"), b("\u00e9\u00ff"), Buffer.from([0xff, 0xfe])),
        "fast",
      ],
      ["stream, markers", stream(atom("start"), atom("stop"), atom("leaf"), atom("delete"), atom("not_found"), atom("default")), "fast"],
      ["stream, addresses", stream(tuple(10, 0, 0, 1), tuple(0xfe80, 0, 0, 0, 0, 0, 0, 1)), "fast"],
      ["stream, leaf-lists", stream([], [b("a"), [1, 300], [[b("deep")]]]), "fast"],
      [
        "stream, integer types",
        stream(tuple(6, -1), tuple(9, 2n ** 62n), tuple(12, 5), tuple(13, 2n ** 64n - 1n), tuple(28, 3), tuple(29, 1), tuple(30, 2n ** 63n)),
        "fast",
      ],
      [
        "stream, text and boolean types",
        stream(tuple(3, atom("sym")), tuple(4, b("s")), tuple(5, b("buf")), tuple(18, "q"), tuple(17, atom("true")), tuple(17, atom("false"))),
        "fast",
      ],
      [
        "stream, datetime, binary, bits, identityref, keypath",
        stream(
          tuple(19, tuple(2026, 2, 3, 4, 5, 6, 7, [], [])),
          tuple(39, b("bin")),
          tuple(50, Buffer.from([1, 2])),
          tuple(44, tuple(1, atom("id"))),
          tuple(34, [1, qtag([], 2), qtag(atom("ns"), atom("t")), tuple(b("k"), 5), tuple()]),
        ),
        "fast",
      ],
      ["stream, decimal64 (generic only)", stream(tuple(43, tuple(12345, 2))), "declined"],
      [
        "stream, UseIKP tags and a bare tag",
        tuple(524288, tuple(dt(), [tuple(qtag(atom("urn:x"), atom("leaf")), b("v")), tuple(qtag([], 7), b("w")), tuple(9, b("z")), tuple(atom("t"), b("z"))])),
        "fast",
      ],
      ["stream, a charlist value", stream("ab"), "declined"],
      [
        "cq progress 11 with devices, reasons and services",
        tuple(
          4194304,
          5,
          dt(),
          17,
          b("tag"),
          [b("d0"), atom("d1"), tuple(b("d2"), b("r"))],
          [b("t1"), tuple(b("t2"), b("busy"))],
          [tuple(b("f1"), b("why"))],
          [tuple(b("s1"), [b("d0")])],
          [tuple(b("s2"), [b("d0")], [b("d1")])],
          b("trace"),
        ),
        "fast",
      ],
      ["cq progress 10 (old)", tuple(4194304, 1, dt(), undef, 2n ** 60n, [], [], [], [], []), "fast"],
      ["cq progress, [] as a device name", tuple(4194304, 4, dt(), 17, undef, [[]], [], [], [], [], undef), "declined"],
      [
        "snmpa, atom and numeric error status, every varbind kind",
        tuple(
          512,
          tuple(2, 1, tuple(127, 0, 0, 1), 162, atom("noSuchName"), 1, 4, [
            tuple(tuple(1, 7, atom("sysUpTime")), b("5681")),
            tuple(tuple(2, 6, [1, 3, 6, 1]), 0),
            tuple(tuple(3, 3, [0], atom("col")), Buffer.from([7, 234])),
            tuple(tuple(3, 3, [300, 2n ** 60n], atom("col")), atom("up")),
          ]),
        ),
        "fast",
      ],
      ["snmpa, status named constructor", tuple(512, tuple(4, 9, tuple(0, 0, 0, 0, 0, 0, 0, 1), 161, atom("constructor"), 0, 0, [])), "fast"],
      ["snmpa, NumVb disagrees", tuple(512, tuple(4, 9, tuple(127, 0, 0, 1), 161, 0, 0, 2, [])), "declined"],
      ["snmpa, v1 trap", tuple(512, tuple(1, 5, tuple(127, 0, 0, 1), 162, 6, 1, 0, [], tuple(127, 0, 0, 1), [1, 3])), "declined"],
      ["ha, every type", tuple(64, tuple(1, 3)), "fast"],
      ["ha secondary_died", tuple(64, tuple(2, tuple(b("n1"), tuple(10, 0, 0, 2)))), "fast"],
      ["ha secondary_arrived with a text address", tuple(64, tuple(3, tuple(atom("n2"), b("host")))), "fast"],
      ["ha besecondary_result", tuple(64, tuple(7, 0)), "fast"],
      ["audit network, no trace id", tuple(268435456, tuple(1, 2, b("u"), b("d"), undef, b("<rpc/>"))), "fast"],
      ["compaction, sizes beyond 2^53", tuple(1073741824, 1, 2, 2n ** 60n, 1, 1, 2n ** 61n, 3, 4), "fast"],
      ["upgrade, unknown event", tuple(32768, 99), "declined"],
      ["a tag the fast path leaves alone (commit failed)", tuple(256, 1, 2), "declined"],
      ["an unknown tag", tuple(777, 1), "declined"],
      ["a known tag with another arity", tuple(1, 1, 2), "declined"],
    ];
    for (const [name, t, want] of cases) {
      for (const atoms of ["latin1", "utf8"] as const) {
        const frame = encodeTerm(t, { atoms });
        assert.equal(sameAsGeneric(frame, { libVsn: 0x08020500, ackMask: ALL_SYNC }, `${name} (${atoms} atoms)`), want, `${name} (${atoms} atoms)`);
      }
    }
  });

  it("a client event's raw is the generic term, decoded from a copy of the frame when read; the tag comes from the type", () => {
    for (const f of frames.filter((x) => x.dir === "in" && FAST_TYPES.has(x.name))) {
      const frame = Buffer.from(f.bytes!.subarray(4));
      const r = fastNotification(frame, { libVsn: 0x08020500 });
      assert.ok(r, `line ${f.line}`);
      const ev = lazyRawEvent(r.notification, frame);
      const want = canonicalTerm(decodeTerm(frame));
      frame.fill(0); // the socket chunk is reused or freed: the event kept its own bytes
      assert.equal(canonicalTerm(ev.raw), want, `line ${f.line}`);
      assert.equal(ev.raw, ev.raw, "decoded once");
      assert.equal(ev.ack, undefined);
      const raw = ev.raw;
      assert.ok(isTuple(raw));
      assert.equal(notificationTag(r.notification), raw.get(0), `line ${f.line}`);
    }
    assert.equal(notificationTag({ type: "NOTIF_UNKNOWN", payload: { tag: 777 } }), 777);
    assert.equal(notificationTag({ type: "NOTIF_UNKNOWN", payload: { tag: String(2n ** 64n) } }), null);
  });
});
