/**
 * Golden vectors at payload level: every notification a real NSO 6.2.5 sent decodes to a
 * JSON-safe payload of the right type, and the representative ones to the right values.
 */
import { strict as assert } from "node:assert";
import { decodeTerm } from "../../../src/nso/term";
import { decodeNotification, NOTIFICATION_TYPES, NsoNotification } from "../../../src/nso/notifications";
import { Frame, readFrames } from "./term-support";
import { assertJsonSafe } from "./notifications-support";

/** Frame names that are protocol steps, not notifications. */
const STEPS = new Set(["HANDSHAKE_HEADER", "VERSION_REPLY", "SUBSCRIBE", "SUBSCRIBE_REPLY", "AFTER_REPLY", "SERVER_CLOSED", "CLIENT_EXTRA", "ACK"]);

/** LIB_VSN each capture subscriber announced (frames file header). */
const LIB_VSN: Record<string, number> = { progold: 0x07070100, cqold: 0x07050000 };

/** Subscription masks with a sync flag (frames file header), so ackKind can be checked exactly. */
const MASKS: Record<string, number> = {
  core: 1558219371,
  diff: 16,
  auditsync: 1 | 131072,
  hasync: 64 | 1048576,
  anetsync: 268435456 | 536870912,
};

const frames = readFrames();
const notes = frames.filter((f) => f.dir === "in" && f.bytes !== null && !STEPS.has(f.name));

function decode(f: Frame, withMask = true): NsoNotification {
  return decodeNotification(decodeTerm(f.bytes!.subarray(4)), {
    libVsn: LIB_VSN[f.subscriber] ?? 0x08020500,
    mask: withMask ? MASKS[f.subscriber] : undefined,
  });
}

function first(name: string, pred: (f: Frame) => boolean = () => true): NsoNotification {
  const f = notes.find((x) => x.name === name && pred(x));
  assert.ok(f, `no ${name} frame`);
  return decode(f);
}

describe("nso notifications: golden frames from a real NSO 6.2.5", () => {
  it("every notification frame decodes to a JSON-safe payload of the type its tag names", () => {
    const counts: Record<string, number> = {};
    const failures: string[] = [];
    for (const f of notes) {
      try {
        const n = decode(f);
        assert.equal(n.type, `NOTIF_${f.name}`, `line ${f.line}`);
        assertJsonSafe(n.payload, `line ${f.line}`);
        assert.deepEqual(JSON.parse(JSON.stringify(n.payload)), n.payload);
        counts[n.type] = (counts[n.type] ?? 0) + 1;
      } catch (e) {
        failures.push(`line ${f.line} ${f.name}: ${(e as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(counts, {
      NOTIF_AUDIT: 50,
      NOTIF_AUDIT_NETWORK: 8,
      NOTIF_COMMIT_DIFF: 8,
      NOTIF_COMMIT_PROGRESS: 45,
      NOTIF_COMMIT_SIMPLE: 7,
      NOTIF_COMPACTION: 7,
      NOTIF_CQ_PROGRESS: 24,
      NOTIF_DAEMON: 12,
      NOTIF_DEVEL: 3,
      NOTIF_HA_INFO: 8,
      NOTIF_HEALTH_CHECK: 2,
      NOTIF_HEARTBEAT: 2,
      NOTIF_JSONRPC: 2,
      NOTIF_NETCONF: 6,
      NOTIF_PACKAGE_RELOAD: 2,
      NOTIF_PROGRESS: 165,
      NOTIF_REOPEN_LOGS: 1,
      NOTIF_SNMPA: 9,
      NOTIF_STREAM_EVENT: 20,
      NOTIF_UPGRADE_EVENT: 4,
      NOTIF_USER_SESSION: 50,
      NOTIF_WEBUI: 3,
    });
    for (const t of Object.keys(counts)) assert.ok((NOTIFICATION_TYPES as readonly string[]).includes(t));
  });

  it("never emits uinfo.clearpass, although NSO sends web users' passwords in it", () => {
    let webSessions = 0;
    for (const f of notes) {
      const n = decode(f);
      const json = JSON.stringify(n.payload);
      assert.ok(!json.includes("clearpass"), `line ${f.line}`);
      const uinfo = n.payload.uinfo as Record<string, unknown> | undefined;
      if (uinfo && (uinfo.context === "webui" || uinfo.context === "rest")) {
        webSessions++;
        assert.deepEqual(Object.keys(uinfo).sort(), [
          "addr",
          "af",
          "context",
          "flags",
          "flagsNames",
          "logintime",
          "port",
          "proto",
          "protoName",
          "snmp_v3_ctx",
          "username",
          "usid",
        ]);
      }
    }
    assert.ok(webSessions >= 3, `saw ${webSessions} web sessions`);
  });

  it("ackKind: COMMIT_DIFF always; AUDIT/AUDIT_NETWORK/HA_INFO only with their sync flag", () => {
    for (const f of notes) {
      const n = decode(f);
      const want =
        n.type === "NOTIF_COMMIT_DIFF"
          ? "diff"
          : n.type === "NOTIF_AUDIT" && f.subscriber === "auditsync"
            ? "audit"
            : n.type === "NOTIF_AUDIT_NETWORK" && f.subscriber === "anetsync"
              ? "audit_network"
              : n.type === "NOTIF_HA_INFO" && f.subscriber === "hasync"
                ? "ha"
                : undefined;
      assert.equal(n.ackKind, want, `line ${f.line} ${f.name}/${f.subscriber}`);
      // Without a mask every ackable type says which ack it would take.
      if (["NOTIF_AUDIT", "NOTIF_AUDIT_NETWORK", "NOTIF_HA_INFO", "NOTIF_COMMIT_DIFF"].includes(n.type)) assert.ok(decode(f, false).ackKind);
    }
  });

  it("AUDIT and syslog-style payloads", () => {
    assert.deepEqual(first("AUDIT").payload, { logno: 116, user: "admin", usid: 59, msg: "assigned to groups: admin" });
    assert.deepEqual(first("DAEMON").payload, { logno: 37, prio: 6, prioName: "info", msg: "Reloading daemon configuration." });
    assert.equal(first("NETCONF").payload.logno, 86);
    assert.equal(first("WEBUI").payload.logno, 190);
    assert.equal(first("JSONRPC").payload.logno, 180);
    assert.equal(first("DEVEL").payload.prioName, "debug");
  });

  it("USER_SESSION with the uinfo context sent as an atom", () => {
    assert.deepEqual(first("USER_SESSION").payload, {
      type: 1,
      typeName: "start",
      uinfo: {
        usid: 59,
        username: "admin",
        context: "cli",
        proto: 4,
        protoName: "console",
        addr: "127.0.0.1",
        af: 2,
        port: 0,
        logintime: 1795372452,
        snmp_v3_ctx: "",
        flags: 0,
        flagsNames: [],
      },
      database: 0,
      databaseName: "no_db",
    });
    const maapi = first("COMMIT_SIMPLE", (f) => f.trigger === "maapi");
    assert.equal((maapi.payload.uinfo as Record<string, unknown>).context, "my-maapi-ctx");
    assert.deepEqual((maapi.payload.uinfo as Record<string, unknown>).flagsNames, ["has_identification"]);
  });

  it("COMMIT_SIMPLE and COMMIT_DIFF (tctx for the ack, comment/label only when set, negative thandles)", () => {
    const simple = first("COMMIT_SIMPLE").payload;
    assert.equal(simple.database, 2);
    assert.equal(simple.databaseName, "running");
    // The Python API hands diff_available over as the integer NSO sent (1/0), not a boolean.
    assert.equal(simple.diff_available, 1);
    assert.deepEqual(simple.flagsNames, []);
    const diff = first("COMMIT_DIFF").payload;
    assert.deepEqual(diff.tctx, { th: 119 });
    assert.equal(diff.comment, "real-nso-trigger");
    assert.equal(diff.label, "lbl-101");
    const plain = first("COMMIT_DIFF", (f) => f.trigger === "maapi").payload;
    assert.ok(!("comment" in plain) && !("label" in plain));
    assert.deepEqual(first("COMMIT_DIFF", (f) => f.trigger === "upgrade").payload.tctx, { th: -2 });
  });

  it("PROGRESS, current generation: trace/span ids, attributes, links", () => {
    const p = first("PROGRESS", (f) => f.subscriber === "progress" && f.comment!.includes("commit_queue_id") && f.comment!.includes('<<"bd306620')).payload;
    assert.equal(p.type, 1);
    assert.equal(p.trace_id, "bd306620-dc1b-4034-8a31-6d74b9f5a5a8");
    assert.equal(p.span_id, "3b98139c63da6e52");
    assert.equal(p.timestampIso, "2026-11-22T18:34:39.605165Z");
    assert.deepEqual(p.attributes, [{ name: "commit_queue_id", type: 2, typeName: "number", number: 1795372479565 }]);
    assert.equal(p.num_links, 1);
    assert.deepEqual(p.links, [{ trace_id: "bd306620-dc1b-4034-8a31-6d74b9f5a5a8", span_id: "9fa798777c5bcefa" }]);
    const stop = first("COMMIT_PROGRESS", (f) => f.comment!.startsWith("{65536,{2,")).payload;
    assert.equal(stop.typeName, "stop");
    assert.equal(stop.duration, 412);
    assert.equal(stop.parent_span_id, "8b5acb1d19e6994f");
    const phase = first("COMMIT_PROGRESS", (f) => f.comment!.includes("transaction_phase")).payload;
    assert.deepEqual(phase.attributes, [{ name: "transaction_phase", type: 1, typeName: "string", string: "validate" }]);
  });

  it("PROGRESS, previous generation (LIB_VSN 0x07070100): same keys, extras as attributes", () => {
    const p = first("PROGRESS", (f) => f.subscriber === "progold" && f.comment!.includes('<<"d1">>')).payload;
    assert.equal(p.trace_id, "bd306620-dc1b-4034-8a31-6d74b9f5a5a8");
    assert.equal(p.subsystem, "commit-queue");
    assert.equal(p.msg, "push configuration");
    assert.ok(!("span_id" in p));
    assert.deepEqual(p.attributes, [
      { name: "commit_queue_id", type: 2, typeName: "number", number: 1795372479565 },
      { name: "device", type: 1, typeName: "string", string: "d1" },
    ]);
    assert.deepEqual(p.links, []);
    // The same event seen by a current-generation subscriber carries the same facts.
    const now = first("PROGRESS", (f) => f.subscriber === "progress" && f.comment!.includes('{device,<<"d1">>}')).payload;
    assert.equal(now.msg, p.msg);
    assert.equal(now.trace_id, p.trace_id);
  });

  it("CQ_PROGRESS: old (swapped id/tag) and new layouts give the same payload", () => {
    const pairs = notes.filter((f) => f.name === "CQ_PROGRESS");
    let compared = 0;
    for (let i = 0; i + 1 < pairs.length; i++) {
      const [a, b] = [decode(pairs[i]).payload, decode(pairs[i + 1]).payload];
      if (a.timestamp !== b.timestamp || pairs[i].subscriber === pairs[i + 1].subscriber) continue;
      const { trace_id: _t1, ...restA } = a;
      const { trace_id: _t2, ...restB } = b;
      assert.deepEqual(restA, restB, `lines ${pairs[i].line}/${pairs[i + 1].line}`);
      compared++;
    }
    assert.ok(compared >= 10, `compared ${compared} pairs`);
    const locked = first("CQ_PROGRESS", (f) => f.subscriber === "core").payload;
    assert.equal(locked.typeName, "locked");
    assert.equal(locked.cq_id, 1795372479565);
    assert.equal(locked.cq_tag, "device lock for commit with user session 83");
    assert.equal(locked.timestamp, "2026-11-22T18:34:39.565240Z");
    assert.deepEqual((locked.timestampParts as Record<string, unknown>).micro, 565240);
    const failed = first("CQ_PROGRESS", (f) => f.subscriber === "core" && f.comment!.startsWith("{4194304,5,")).payload;
    assert.deepEqual(failed.failed_devices, ["d1"]);
    assert.match((failed.failed_reasons as string[])[0], /out of range/);
    assert.equal(failed.trace_id, "6ba9e6f0-a5a1-4c95-b366-b4eff22ac0e8");
    assert.ok(!("cq_tag" in failed));
  });

  it("STREAM_EVENT: replay_complete, tag/value lists keeping ns and tag hashes, typed values", () => {
    assert.deepEqual(first("STREAM_EVENT", (f) => f.trigger === "subscribe").payload, { type: 3, typeName: "replay_complete" });
    const e = first("STREAM_EVENT", (f) => f.subscriber === "alarms").payload;
    assert.equal(e.type, 1);
    assert.equal(e.event_time, "2026-11-22T18:34:43.308954Z");
    const v = e.values as Array<{ ns: number; tag: number; value: unknown }>;
    assert.deepEqual(v[0], { ns: 311814602, tag: 1458797552, value: { type: "C_XMLBEGIN" } });
    assert.deepEqual(v[1].value, { type: "C_ENUM_VALUE", value: 0 });
    assert.equal(v[2].value, "d1");
    assert.deepEqual(v[3].value, { type: "C_IDENTITYREF", value: { ns: 311814602, id: 268737458 } });
    assert.deepEqual(v[4].value, {
      type: "C_OBJECTREF",
      value: [{ keys: ["d1"] }, { tag: 617911018 }, { ns: 469622343, tag: 270307409 }],
    });
    assert.equal(v[7].value, false);
    assert.deepEqual(v[9].value, { type: "C_UINT32", value: 0 });
    assert.equal((v[10].value as Record<string, unknown>).value, "2026-11-22T18:34:43.289293Z");
    assert.deepEqual(v[v.length - 1].value, { type: "C_XMLEND" });
    const nc = first("STREAM_EVENT", (f) => f.subscriber === "streamnc").payload.values as Array<{ value: unknown }>;
    assert.deepEqual(nc[4].value, { type: "C_IPV4", value: "127.0.0.1" });
    const leaf = first("STREAM_EVENT", (f) => f.comment!.includes(",leaf}")).payload.values as Array<{ value: unknown }>;
    assert.deepEqual(leaf[2].value, { type: "C_XMLTAG" });
    const cq = first("STREAM_EVENT", (f) => f.subscriber === "streamev" && f.trigger === "device-commit").payload.values as Array<{ value: unknown }>;
    assert.deepEqual(cq[1].value, { type: "C_UINT64", value: 1795372479565 });
  });

  it("SNMPA: varbinds, the error-status atom quirk, v2 traps with binary values", () => {
    const get = first("SNMPA").payload;
    assert.equal(get.pdu_typeName, "get_request");
    assert.equal(get.ip4, "127.0.0.1");
    assert.deepEqual(get.vb, [{ type: 1, typeName: "variable", vartype: 3, name: "sysDescr", val: null }]);
    const err = first("SNMPA", (f) => f.comment!.includes("noSuchName")).payload;
    assert.equal(err.error_status, 2);
    assert.equal(err.error_statusName, "noSuchName");
    assert.equal(err.error_index, 1);
    assert.equal((err.vb as Array<Record<string, unknown>>)[0].oid, "1.3.6.1.2.1.1.99.0");
    const trap = first("SNMPA", (f) => f.comment!.startsWith("{512,{2,")).payload;
    assert.equal(trap.pdu_typeName, "v2trap");
    const vb = trap.vb as Array<Record<string, unknown>>;
    assert.equal(vb.length, 13);
    assert.deepEqual(vb[2], { type: 3, typeName: "col_variable", vartype: 3, column: "tfAlarmType", rowindex: "0", val: "commit-through-queue-failed" });
    assert.deepEqual(vb[10].val, { binary: Buffer.from([7, 234, 11, 22, 18, 34, 43, 2, 43, 0, 0]).toString("base64") });
  });

  it("HA_INFO, UPGRADE, COMPACTION, AUDIT_NETWORK and the bare ones", () => {
    assert.deepEqual(first("HA_INFO").payload, { type: 6, typeName: "is_none" });
    assert.deepEqual(first("HA_INFO", (f) => f.comment === "{64,{5,0}}").payload, { type: 5, typeName: "is_primary" });
    assert.deepEqual(first("UPGRADE_EVENT").payload, { event: 1, eventName: "init_started" });
    assert.deepEqual(first("COMPACTION").payload, {
      dbfile: 2,
      dbfileName: "O.cdb",
      type: 2,
      typeName: "manual",
      fsize_start: 46863,
      fsize_end: 46630,
      fsize_last: 46515,
      time_start: 1795372473756079,
      time_startIso: "2026-11-22T18:34:33.756079Z",
      duration: 2052,
      ntrans: 5,
    });
    const an = first("AUDIT_NETWORK").payload;
    assert.equal(an.usid, 83);
    assert.equal(an.device, "d0");
    assert.match(an.config as string, /^<rpc xmlns=/);
    assert.equal(an.trace_id, "bd306620-dc1b-4034-8a31-6d74b9f5a5a8");
    for (const bare of ["HEARTBEAT", "HEALTH_CHECK", "PACKAGE_RELOAD", "REOPEN_LOGS"]) assert.deepEqual(first(bare).payload, {});
  });
});
