import { strict as assert } from "node:assert";
import { encodeTerm, decodeTerm } from "../../../src/nso/term";
import { atom, tuple } from "../../../src/nso/term/types";
import { encodeFrame } from "../../../src/nso/framing";
import { checkSubscriptionReply, SubscriptionRejected, subscriptionTerm } from "../../../src/nso/subscription";
import { maskOf } from "../../../src/nso/constants";
import { ackFor, ackTerm, parseAck } from "../../../src/nso/acks";

// Client frames a real NSO 6.2.5 accepted (libconfd-style SMALL_ATOM_UTF8 atoms) and its replies.
const REAL = {
  core: "00000019836805625ce08a6b610061007709756e646566696e65646100",
  diff: "000000168368056110610061007709756e646566696e65646100",
  hbhc: "0000001f836805620004200062000003e862000003e87709756e646566696e65646100",
  streamnc: "0000003e836805620008000061006100680677074e4554434f4e467709756e646566696e65647709756e646566696e65647709756e646566696e6564610061006100",
  streamev:
    "000000518368056200080000610061006806770a6e63732d6576656e747368026113680962000007e4610161016100610061006100610061007709756e646566696e65647709756e646566696e6564610061006100",
  ok: "00000006836400026f6b",
  badSub: "000000278368036400056572726f7261126d0000001542616420737562736372697074696f6e2064617461",
  badStream: "000000258368036400056572726f7261016d00000013556e6b6e6f776e2073747265616d206e616d65",
  replayNoReplay: "000000128368036400056572726f7261126d00000000",
  ackDiff: "0000000b83680261777704646f6e65",
  ackAudit: "0000000d836802613b770673796e636564",
  ackAnet: "000000198368026153771261756469745f6e6574776f726b5f73796e63",
  ackHa: "0000000c83770968615f73796e636564",
};

const wire = (t: Parameters<typeof encodeTerm>[0]): string => encodeFrame(encodeTerm(t, { atoms: "utf8" })).toString("hex");

describe("nso protocol: subscription", () => {
  it("encodes the subscriptions byte-for-byte as a real 6.2.5 accepted them", () => {
    assert.equal(wire(subscriptionTerm({ mask: 1558219371 })), REAL.core);
    assert.equal(wire(subscriptionTerm({ mask: maskOf(["NOTIF_COMMIT_DIFF"]) })), REAL.diff);
    assert.equal(wire(subscriptionTerm({ mask: maskOf(["NOTIF_HEARTBEAT", "NOTIF_HEALTH_CHECK"]), heartbeatMs: 1000, healthCheckMs: 1000 })), REAL.hbhc);
    assert.equal(wire(subscriptionTerm({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "NETCONF" } })), REAL.streamnc);
    assert.equal(
      wire(subscriptionTerm({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "ncs-events", startTime: "2020-01-01T00:00:00Z" } })),
      REAL.streamev,
    );
  });

  it("sends intervals only with their bit (1 s when unset), and the verbosity only with a progress bit", () => {
    const t = subscriptionTerm({ mask: maskOf(["NOTIF_AUDIT"]), heartbeatMs: 5000, verbosity: 3 });
    assert.deepEqual([t.get(1), t.get(2), t.get(4)], [0, 0, 0]);
    const p = subscriptionTerm({ mask: maskOf(["NOTIF_PROGRESS", "NOTIF_HEARTBEAT", "NOTIF_HEALTH_CHECK"]), heartbeatMs: 2500, verbosity: 2 });
    assert.deepEqual([p.get(1), p.get(2), p.get(4)], [2500, 1000, 2]);
  });

  it("encodes the stream filter, usid and stop time", () => {
    const t = subscriptionTerm({
      mask: maskOf(["NOTIF_STREAM_EVENT"]),
      stream: { name: "NETCONF", startTime: "2026-01-02T03:04:05.678Z", stopTime: new Date(Date.UTC(2026, 0, 3)), xpathFilter: "/a[b='c']", usid: 59 },
    });
    const s = t.get(3) as ReturnType<typeof tuple>;
    assert.equal((s.get(0) as ReturnType<typeof atom>).name, "NETCONF");
    assert.deepEqual((s.get(1) as ReturnType<typeof tuple>).get(1), tuple(2026, 1, 2, 3, 4, 5, 678000, 0, 0));
    assert.equal((s.get(3) as Buffer).toString(), "/a[b='c']");
    assert.equal(s.get(4), 59);
  });

  it("refuses settings the server would reject, with a clear text", () => {
    assert.throws(() => subscriptionTerm({ mask: 0 }), /at least one type/);
    assert.throws(() => subscriptionTerm({ mask: maskOf(["NOTIF_AUDIT_SYNC"]) }), /NOTIF_AUDIT_SYNC needs NOTIF_AUDIT/);
    assert.throws(() => subscriptionTerm({ mask: maskOf(["NOTIF_HA_INFO_SYNC", "NOTIF_AUDIT"]) }), /needs NOTIF_HA_INFO/);
    assert.throws(() => subscriptionTerm({ mask: maskOf(["NOTIF_STREAM_EVENT"]) }), /stream name/);
    assert.throws(
      () => subscriptionTerm({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "NETCONF", stopTime: "2026-01-01" } }),
      /stop time needs a start time/,
    );
    assert.throws(() => subscriptionTerm({ mask: 1, verbosity: 9 }), /verbosity/);
  });

  it("accepts ok and turns the real {error, Code, Text} replies into errors with code and text", () => {
    checkSubscriptionReply(decodeTerm(Buffer.from(REAL.ok, "hex").subarray(4)));
    const cases: Array<[string, number, RegExp]> = [
      [REAL.badSub, 18, /Bad subscription data/],
      [REAL.badStream, 1, /Unknown stream name/],
      [REAL.replayNoReplay, 18, /no text/],
    ];
    for (const [hex, code, re] of cases) {
      assert.throws(
        () => checkSubscriptionReply(decodeTerm(Buffer.from(hex, "hex").subarray(4))),
        (e: unknown) => e instanceof SubscriptionRejected && e.errorCode === code && re.test(e.message),
      );
    }
    assert.throws(() => checkSubscriptionReply(tuple(atom("what"))), /neither ok nor/);
  });
});

describe("nso protocol: acks", () => {
  it("writes the four acks byte-for-byte as libconfd did against a real 6.2.5", () => {
    assert.equal(wire(ackTerm({ kind: "diff", id: 119 })), REAL.ackDiff);
    assert.equal(wire(ackTerm({ kind: "audit", id: 59 })), REAL.ackAudit);
    assert.equal(wire(ackTerm({ kind: "audit_network", id: 83 })), REAL.ackAnet);
    assert.equal(wire(ackTerm({ kind: "ha", id: 0 })), REAL.ackHa);
  });

  it("finds the ack id in the raw term, and blocks audit/HA/audit-network only with their sync flag", () => {
    const diff = tuple(16, 2, tuple(59), 119, 0, Buffer.from(""), Buffer.from(""));
    assert.deepEqual(ackFor(diff, 16), { kind: "diff", id: 119 });
    const audit = tuple(1, 116, Buffer.from("admin"), 59, Buffer.from("m"));
    assert.equal(ackFor(audit, 1), undefined);
    assert.deepEqual(ackFor(audit, maskOf(["NOTIF_AUDIT", "NOTIF_AUDIT_SYNC"])), { kind: "audit", id: 59 });
    const ha = tuple(64, tuple(6, 0));
    assert.deepEqual(ackFor(ha, maskOf(["NOTIF_HA_INFO", "NOTIF_HA_INFO_SYNC"])), { kind: "ha", id: 0 });
    const anet = tuple(268435456, tuple(83, 166, Buffer.from("admin")));
    assert.deepEqual(ackFor(anet, maskOf(["NOTIF_AUDIT_NETWORK", "NOTIF_AUDIT_NETWORK_SYNC"])), { kind: "audit_network", id: 83 });
    assert.throws(() => ackFor(tuple(16, 2, tuple(59), atom("x"), 0), 16), /thandle is not an integer/);
  });

  it("parses acks on the server side and calls everything else illegal", () => {
    for (const hex of [REAL.ackDiff, REAL.ackAudit, REAL.ackAnet, REAL.ackHa]) assert.ok(parseAck(decodeTerm(Buffer.from(hex, "hex").subarray(4))));
    assert.equal(parseAck(tuple(atom("foo"))), undefined);
    assert.equal(parseAck(tuple(9999, atom("nope"))), undefined);
  });
});
