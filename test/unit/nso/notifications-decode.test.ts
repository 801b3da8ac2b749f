/**
 * The notification types a single NSO 6 node cannot produce (§15: confirmed commit, commit
 * failed, subagent, forward, call-home, HA secondary events, v1 traps, ...), built from the
 * layouts of §7 and checked field by field, plus the progress generations and value types the
 * capture does not cover.
 */
import { strict as assert } from "node:assert";
import { atom, ErlFloat, ImproperList, Term, tuple } from "../../../src/nso/term";
import { decodeNotification, NsoNotification } from "../../../src/nso/notifications";
import { assertJsonSafe } from "./notifications-support";

const b = (s: string): Buffer => Buffer.from(s);
const undef = atom("undefined");
const uinfo = (clearpass = ""): Term =>
  tuple(42, b("oper"), b(clearpass), atom("webui"), 7, tuple(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 8443, 1795372452, b(""), 4);
const dt = (micro = 5): Term => tuple(19, tuple(2026, 11, 22, 18, 34, 12, micro, 1, 30));

function dec(t: Term, libVsn = 0x08020500): NsoNotification {
  const n = decodeNotification(t, { libVsn });
  assertJsonSafe(n.payload);
  return n;
}

describe("nso notifications: types not in the capture", () => {
  it("CONFIRMED_COMMIT with an IPv6 web user (no clearpass, RFC 5952 address)", () => {
    const n = dec(tuple(16384, 1, 600, uinfo("s3cret")));
    assert.equal(n.type, "NOTIF_CONFIRMED_COMMIT");
    assert.equal(n.payload.typeName, "confirmed");
    assert.equal(n.payload.timeout, 600);
    const u = n.payload.uinfo as Record<string, unknown>;
    assert.equal(u.addr, "2001:db8::1");
    assert.equal(u.af, 10);
    assert.equal(u.protoName, "https");
    assert.deepEqual(u.flagsNames, ["has_opaque"]);
    assert.ok(!JSON.stringify(n.payload).includes("s3cret"));
  });

  it("COMMIT_FAILED for each provider layout", () => {
    assert.deepEqual(dec(tuple(256, 2, 2, tuple(10, 0, 0, 9), 830)).payload, {
      provider: 2,
      providerName: "netconf",
      dbname: 2,
      dbnameName: "running",
      af: 2,
      ip4: "10.0.0.9",
      port: 830,
    });
    assert.deepEqual(dec(tuple(256, 3, 1, b("ext-daemon"))).payload, {
      provider: 3,
      providerName: "external",
      dbname: 1,
      dbnameName: "candidate",
      daemon_name: "ext-daemon",
    });
    assert.deepEqual(dec(tuple(256, 1, 2)).payload, { provider: 1, providerName: "cdb", dbname: 2, dbnameName: "running" });
    assert.throws(() => dec(tuple(256, 1, 2, b("x"))), /carries no more/);
  });

  it("SUBAGENT_INFO, FORWARD_INFO (with target, unlike Python 6.2.5), UPGRADE 6/7", () => {
    assert.deepEqual(dec(tuple(128, tuple(2, b("sa1")))).payload, { type: 2, typeName: "down", name: "sa1" });
    const fwd = dec(tuple(1024, 3, b("dev-target"), uinfo())).payload;
    assert.equal(fwd.typeName, "failed");
    assert.equal(fwd.target, "dev-target");
    assert.deepEqual(dec(tuple(32768, 7)).payload, { event: 7, eventName: "ha_aborted" });
  });

  it("HA_INFO: every sub-type", () => {
    assert.deepEqual(dec(tuple(64, tuple(1, 26))).payload, { type: 1, typeName: "noprimary", noprimary: 26 });
    assert.deepEqual(dec(tuple(64, tuple(2, tuple(b("n2"), tuple(10, 1, 1, 2))))).payload, {
      type: 2,
      typeName: "secondary_died",
      secondary_died: { nodeid: "n2", af: 2, ip4: "10.1.1.2" },
    });
    assert.deepEqual(dec(tuple(64, tuple(3, tuple(atom("n3"), tuple(0, 0, 0, 0, 0, 0, 0, 1))))).payload.secondary_arrived, {
      nodeid: "n3",
      af: 10,
      ip6: "::1",
    });
    assert.deepEqual(dec(tuple(64, tuple(3, tuple(b("n4"), b("/tmp/sock"))))).payload.secondary_arrived, { nodeid: "n4", af: 0, str: "/tmp/sock" });
    assert.equal(dec(tuple(64, tuple(4, 1))).payload.cdb_initialized_by_copy, 1);
    assert.equal(dec(tuple(64, tuple(7, 0))).payload.besecondary_result, 0);
  });

  it("SNMPA v1 trap", () => {
    const vb = [tuple(tuple(2, 4, [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0]), b("1.3.6.1.4.1.24961"))];
    const p = dec(tuple(512, tuple(1, 12345, tuple(192, 0, 2, 1), 162, 6, 17, 1, vb, tuple(192, 0, 2, 9), [1, 3, 6, 1, 4, 1, 24961]))).payload;
    assert.equal(p.pdu_typeName, "v1trap");
    assert.equal(p.generic_trap, 6);
    assert.equal(p.specific_trap, 17);
    assert.equal(p.time_stamp, 12345);
    assert.equal(p.enterprise, "1.3.6.1.4.1.24961");
    assert.equal(p.agent_addr, "192.0.2.9");
    assert.deepEqual((p.vb as Array<Record<string, unknown>>)[0].oid, "1.3.6.1.6.3.1.1.4.1.0");
  });

  it("SNMPA v1 trap carries request_id, error_status and error_index 0, as the Python API does", () => {
    const p = dec(tuple(512, tuple(1, 7, tuple(192, 0, 2, 1), 162, 0, 0, 0, [], tuple(192, 0, 2, 9), [1, 3, 6, 1, 4, 1, 24961]))).payload;
    assert.equal(p.request_id, 0);
    assert.equal(p.error_status, 0);
    assert.equal(p.error_statusName, "noError");
    assert.equal(p.error_index, 0);
  });

  it("CALL_HOME_INFO with and without a device", () => {
    const known = dec(tuple(33554432, 1, tuple(198, 51, 100, 7), 4334, b("AAAAC3NzaC1lZDI1NTE5"), b("ssh-ed25519"), b("ex0"))).payload;
    assert.deepEqual(known, {
      type: 1,
      typeName: "device_connected",
      device: "ex0",
      af: 2,
      ip4: "198.51.100.7",
      port: 4334,
      ssh_host_key: "AAAAC3NzaC1lZDI1NTE5",
      ssh_key_alg: "ssh-ed25519",
    });
    const unknown = dec(tuple(33554432, 2, tuple(198, 51, 100, 8), 4334, Buffer.from([0, 1, 0xff]), b("rsa"))).payload;
    assert.equal(unknown.typeName, "unknown_device");
    assert.ok(!("device" in unknown));
    assert.deepEqual(unknown.ssh_host_key, { binary: "AAH/" });
  });

  it("COMMIT_SIMPLE without a diff: diff_available is the integer 0, as the Python API gives it", () => {
    const p = dec(tuple(8, 2, uinfo(), 0, 0)).payload;
    assert.equal(p.diff_available, 0);
  });

  it("COMMIT_DIFF in the older 5-tuple form", () => {
    const n = dec(tuple(16, 2, uinfo(), 77, 3));
    assert.equal(n.ackKind, "diff");
    assert.deepEqual(n.payload.tctx, { th: 77 });
    assert.deepEqual(n.payload.flagsNames, ["confirmed", "confirmed_extended"]);
  });

  it("STREAM_EVENT: notification_complete, replay_failed", () => {
    assert.deepEqual(dec(tuple(524288, atom("notification_complete"))).payload, { type: 2, typeName: "notification_complete" });
    assert.deepEqual(dec(tuple(524288, tuple(atom("replay_failed"), b("no replay log")))).payload, {
      type: 4,
      typeName: "replay_failed",
      error: "no replay log",
    });
  });

  it("stream values: every typed value of §9.2 keeps its information, JSON-safe", () => {
    const ns = 100;
    const v = (value: Term): Term => tuple(new ImproperList([ns], 7), value);
    const values = [
      v(atom("delete")),
      v(atom("not_found")),
      v(new ErlFloat(2.5)),
      v(tuple(9, -(2n ** 62n))),
      v(tuple(13, 2n ** 64n - 1n)),
      v(tuple(43, tuple(-12345, 2))),
      v(tuple(39, Buffer.from([0, 255]))),
      v(tuple(47, Buffer.from([0xab, 0x01]))),
      v(tuple(40, tuple(tuple(10, 0, 0, 0), 8))),
      v(tuple(41, tuple(tuple(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32))),
      v(tuple(20, tuple(2026, 1, 2, [], 0))),
      v(tuple(23, tuple(3, 4, 5, 6, 0, 0))),
      v(tuple(27, tuple(0, 0, 1, 2, 3, 4, 500000))),
      v(tuple(19, tuple(2026, 11, 22, 18, 34, 12, 7, 1, 30))),
      v([b("a"), b("b")]),
      v(tuple(99, tuple(atom("x"), 1))),
      tuple(new ImproperList([[]], 5), b("no-ns")),
      tuple(new ImproperList([atom("urn:x")], atom("leaf1")), 3),
    ];
    const p = dec(tuple(524288, tuple(dt(), values))).payload;
    assert.equal(p.event_time, "2026-11-22T17:04:12.000005Z");
    assert.deepEqual((p.event_timeParts as Record<string, unknown>).timezone, 1);
    const got = (p.values as Array<{ ns: unknown; tag: unknown; value: unknown }>).map((x) => x.value);
    assert.deepEqual(got, [
      { type: "C_XMLBEGINDEL" },
      { type: "C_NOEXISTS" },
      2.5,
      { type: "C_INT64", value: "-4611686018427387904" },
      { type: "C_UINT64", value: "18446744073709551615" },
      { type: "C_DECIMAL64", value: "-123.45", fraction_digits: 2 },
      { type: "C_BINARY", value: "AP8=" },
      { type: "C_HEXSTR", value: "ab:01" },
      { type: "C_IPV4PREFIX", value: "10.0.0.0/8" },
      { type: "C_IPV6PREFIX", value: "2001:db8::/32" },
      { type: "C_DATE", value: "2026-01-02" },
      { type: "C_TIME", value: "03:04:05.000006Z" },
      { type: "C_DURATION", value: "P0Y0M1DT2H3M4.500000S" },
      {
        type: "C_DATETIME",
        value: "2026-11-22T17:04:12.000007Z",
        valueParts: { year: 2026, month: 11, day: 22, hour: 18, min: 34, sec: 12, micro: 7, timezone: 1, timezone_minutes: 30 },
      },
      { type: "C_LIST", value: ["a", "b"] },
      { type: "C_TYPE_99", value: ["x", 1] },
      "no-ns",
      3,
    ]);
    const tags = (p.values as Array<{ ns: unknown; tag: unknown }>).slice(-2).map((x) => [x.ns, x.tag]);
    assert.deepEqual(tags, [
      [0, 5],
      ["urn:x", "leaf1"],
    ]);
  });

  it("PROGRESS: the inferred no-trace-id generation (11/18-tuple) and big numbers", () => {
    const old = dec(
      tuple(
        16777216,
        tuple(
          2,
          1795372452602840,
          99,
          5,
          6,
          4,
          b("cli"),
          b("sub"),
          b("ph"),
          b("msg"),
          atom("undefined"),
          b("/svc"),
          undef,
          2n ** 60n,
          undef,
          undef,
          undef,
          undef,
        ),
      ),
    ).payload;
    assert.equal(old.usid, 5);
    assert.equal(old.datastoreName, "operational");
    assert.equal(old.subsystem, "sub");
    assert.equal(old.phase, "ph");
    assert.equal(old.msg, "msg");
    assert.ok(!("trace_id" in old));
    assert.deepEqual(old.attributes, [
      { name: "service", type: 1, typeName: "string", string: "/svc" },
      { name: "commit_queue_id", type: 2, typeName: "number", number: "1152921504606846976" },
    ]);
    const user = dec(
      tuple(
        65536,
        tuple(3, 1, undef, b("t"), b("s"), undef, 0, 0, 0, undef, undef, b("m"), undef, [tuple(b("my-attr"), b("v")), tuple(atom("package"), b("p"))], []),
      ),
    ).payload;
    assert.deepEqual(user.attributes, [
      { name: "my-attr", type: 1, typeName: "string", string: "v" },
      { name: "package", type: 1, typeName: "string", string: "p" },
    ]);
    assert.equal(user.typeName, "info");
    assert.ok(!("duration" in user));
  });

  it("CQ_PROGRESS with services and failed services", () => {
    const p = dec(
      tuple(
        4194304,
        5,
        dt(),
        2n ** 60n,
        b("tag1"),
        [b("d0")],
        [tuple(b("d2"), b("busy"))],
        [tuple(b("d1"), b("err"))],
        [tuple(b("/svc/a"), [b("d0")])],
        [tuple(b("/svc/b"), [b("d0")], [tuple(b("d1"), b("err"))])],
        b("trace"),
      ),
    ).payload;
    assert.equal(p.cq_id, "1152921504606846976");
    assert.equal(p.cq_tag, "tag1");
    assert.deepEqual(p.transient_devices, ["d2"]);
    assert.deepEqual(p.transient_reasons, ["busy"]);
    assert.deepEqual(p.completed_services, ["/svc/a"]);
    assert.deepEqual(p.completed_services_completed_devices, [["d0"]]);
    assert.deepEqual(p.failed_services, ["/svc/b"]);
    assert.deepEqual(p.failed_services_failed_devices, [["d1"]]);
  });

  it("an unknown tag is NOTIF_UNKNOWN with the raw term, any uinfo password redacted", () => {
    const n = dec(tuple(2147483648, atom("going_down"), uinfo("hunter2")));
    assert.equal(n.type, "NOTIF_UNKNOWN");
    assert.equal(n.payload.tag, 2147483648);
    assert.match(n.payload.raw as string, /^\{2147483648,going_down,\{42,<<"oper">>,<<"\*\*\*">>,webui,/);
    assert.ok(!JSON.stringify(n.payload).includes("hunter2"));
    assert.equal(dec(tuple(2n ** 70n)).payload.tag, "1180591620717411303424");
  });

  it("string slots accept atoms, binaries and charlists alike", () => {
    const viaAtom = dec(tuple(1, 1, atom("admin"), 3, atom("hello"))).payload;
    const viaCharlist = dec(tuple(1, 1, "admin", 3, [104, 101, 108, 108, 111])).payload;
    const viaBinary = dec(tuple(1, 1, b("admin"), 3, b("hello"))).payload;
    assert.deepEqual(viaAtom, viaBinary);
    assert.deepEqual(viaCharlist, viaBinary);
  });
});
