import { strict as assert } from "node:assert";
import { once } from "node:events";
import * as net from "node:net";
import { decodeTerm, encodeTerm } from "../../src/nso/term";
import { atom, isTuple, Term, tuple } from "../../src/nso/term/types";
import { encodeFrame, ByteReader } from "../../src/nso/framing";
import { encodeHeader } from "../../src/nso/handshake";
import { datetimeTerm } from "../../src/nso/datetime";
import { startNsoSimulator, RunningNsoSimulator, nsoSimulator, DEMO_SCENARIO, loadScenario } from "../../src/sim/nso";
import { buildNotification, streamValues } from "../../src/sim/nso/builders";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The simulator on the wire, byte for byte against what a real NSO 6.2.5 answered to the same
 * client bytes (test/fixtures/nso/nso-real-frames.txt), plus the per-LIB_VSN formats.
 */
const REAL = {
  replyOk: "000052080205000e05",
  replyProto77: "010052080205000e05",
  replyMaxDepth1: "020052080205000e05",
  subOk: "00000006836400026f6b",
  sub4tuple: "000000148368046108610061007709756e646566696e6564",
  sub4tupleReply: "000000278368036400056572726f7261126d0000001542616420737562736372697074696f6e2064617461",
  badStream: "000000438368056200080000610061006806770c4e6f5375636853747265616d7709756e646566696e65647709756e646566696e65647709756e646566696e6564610061006100",
  badStreamReply: "000000258368036400056572726f7261016d00000013556e6b6e6f776e2073747265616d206e616d65",
  legacy4: "0000000400000020",
  latin1: "00000017836805612061006100640009756e646566696e65646100",
};

let sim: RunningNsoSimulator;
const sockets: net.Socket[] = [];

/** A raw client: collects every byte until the server closes (or `untilBytes` arrived). */
async function talk(send: Buffer[], untilBytes?: number): Promise<{ bytes: Buffer; closed: boolean }> {
  const s = net.connect(sim.port, "127.0.0.1");
  sockets.push(s);
  await once(s, "connect");
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise((resolve) => {
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      resolve({ bytes: Buffer.concat(chunks), closed });
    };
    s.on("data", (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (untilBytes !== undefined && total >= untilBytes) finish(false);
    });
    s.on("close", () => finish(true));
    for (const b of send) s.write(b);
  });
}

/** Handshake + subscription with `mask`, then returns the frames as terms as they arrive. */
async function subscriber(header: Buffer, sub: Term): Promise<{ frames: Term[]; next: () => Promise<Term>; socket: net.Socket }> {
  const s = net.connect(sim.port, "127.0.0.1");
  sockets.push(s);
  const r = new ByteReader();
  const frames: Term[] = [];
  const waiters: Array<(t: Term) => void> = [];
  let handshaken = false;
  s.on("data", (c: Buffer) => {
    r.push(c);
    if (!handshaken && r.take(9)) handshaken = true;
    for (let f = r.nextFrame(); f; f = r.nextFrame()) {
      const t = decodeTerm(f);
      const w = waiters.shift();
      if (w) w(t);
      else frames.push(t);
    }
  });
  s.write(header);
  s.write(encodeFrame(encodeTerm(sub)));
  const next = (): Promise<Term> => (frames.length ? Promise.resolve(frames.shift()!) : new Promise((resolve) => waiters.push(resolve)));
  assert.ok((await next()) === atom("ok"));
  return { frames, next, socket: s };
}

describe("nso integration: simulator wire fidelity", () => {
  beforeEach(async () => {
    sim = await startNsoSimulator({ port: 0 });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await sim.close();
  });

  it("answers the header, a subscription and a legacy raw subscription like NSO 6.2.5", async () => {
    const a = await talk([encodeHeader(), encodeFrame(encodeTerm(tuple(32, 0, 0, atom("undefined"), 0), { atoms: "utf8" }))], 19);
    assert.equal(a.bytes.toString("hex"), REAL.replyOk + REAL.subOk);
    const b = await talk([encodeHeader(), Buffer.from(REAL.legacy4, "hex")], 19);
    assert.equal(b.bytes.toString("hex"), REAL.replyOk + REAL.subOk);
    const c = await talk([encodeHeader(), Buffer.from(REAL.latin1, "hex")], 19);
    assert.equal(c.bytes.toString("hex"), REAL.replyOk + REAL.subOk);
  });

  it("accepts proto 81, answers code 1 to proto 77 and code 2 to MAXDEPTH/MAXKEYLEN 1/1, then closes", async () => {
    assert.equal((await talk([encodeHeader({ protoVsn: 81 })], 9)).bytes.toString("hex"), REAL.replyOk);
    const p77 = await talk([encodeHeader({ protoVsn: 77 })]);
    assert.deepEqual([p77.bytes.toString("hex"), p77.closed], [REAL.replyProto77, true]);
    const small = Buffer.from("0b0052080205000101", "hex");
    const md = await talk([small]);
    assert.deepEqual([md.bytes.toString("hex"), md.closed], [REAL.replyMaxDepth1, true]);
  });

  it("refuses a 4-tuple subscription and an unknown stream with NSO's exact bytes, then closes", async () => {
    const a = await talk([encodeHeader(), Buffer.from(REAL.sub4tuple, "hex")]);
    assert.deepEqual([a.bytes.toString("hex"), a.closed], [REAL.replyOk + REAL.sub4tupleReply, true]);
    const b = await talk([encodeHeader(), Buffer.from(REAL.badStream, "hex")]);
    assert.deepEqual([b.bytes.toString("hex"), b.closed], [REAL.replyOk + REAL.badStreamReply, true]);
  });

  it("refuses replay on a stream without replay, an unknown usid and a broken XPath", async () => {
    const sub = (stream: Term): Buffer => encodeFrame(encodeTerm(tuple(524288, 0, 0, stream, 0)));
    const U = atom("undefined");
    const cases: Array<[Term, number, string]> = [
      [tuple(atom("ncs-alarms"), datetimeTerm("2020-01-01T00:00:00Z"), U, U, 0, 0), 18, ""],
      [tuple(atom("NETCONF"), U, U, U, 4711, 0), 22, "User session does not exist"],
      [tuple(atom("NETCONF"), U, U, Buffer.from("/a[b"), 0, 0), 50, "XPath compile failed: unbalanced brackets"],
    ];
    for (const [stream, code, text] of cases) {
      const r = await talk([encodeHeader(), sub(stream)]);
      assert.ok(r.closed);
      const t = decodeTerm(r.bytes.subarray(13));
      assert.ok(isTuple(t, 3));
      assert.deepEqual([t.get(1), (t.get(2) as Buffer).toString()], [code, text]);
    }
  });

  it("sends progress in the format the subscriber's LIB_VSN selects (15-tuple vs 19-tuple)", async () => {
    const sub = tuple(16777216, 0, 0, atom("undefined"), 0);
    const now = await subscriber(encodeHeader(), sub);
    const old = await subscriber(encodeHeader({ libVsn: 0x07070100 }), sub);
    sim.server.inject({ type: "NOTIF_PROGRESS", ptype: 3, msg: "applying" });
    const a = await now.next();
    const b = await old.next();
    assert.ok(isTuple(a, 2) && isTuple(b, 2));
    assert.equal((a.get(1) as { arity: number }).arity, 15);
    assert.equal((b.get(1) as { arity: number }).arity, 19);
  });

  it("sends heartbeats and health checks at the asked interval, and nothing while health fails", async () => {
    await sim.close();
    sim = await startNsoSimulator({ port: 0, minIntervalMs: 10 });
    const s = await subscriber(encodeHeader(), tuple(8192 | 262144, 10, 10, atom("undefined"), 0));
    const seen = new Set<number>();
    while (seen.size < 2) {
      const t = await s.next();
      if (isTuple(t, 1)) seen.add(t.get(0) as number);
    }
    assert.deepEqual(
      [...seen].sort((x, y) => x - y),
      [8192, 262144],
    );
    await sim.close();
    sim = await startNsoSimulator({ port: 0, minIntervalMs: 10, healthFailing: true });
    const f = await subscriber(encodeHeader(), tuple(8192 | 262144, 10, 10, atom("undefined"), 0));
    for (let i = 0; i < 5; i++) assert.deepEqual(await f.next(), tuple(8192));
  });

  it("replays a stream from its log, then replay_complete, then live events", async () => {
    const t0 = Date.parse("2026-03-01T10:00:00Z");
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", event_time: new Date(t0).toISOString(), values: [[1, 2, "old"]] });
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", event_time: new Date(t0 + 1000).toISOString(), values: [[1, 2, "newer"]] });
    const U = atom("undefined");
    const s = await subscriber(encodeHeader(), tuple(524288, 0, 0, tuple(atom("NETCONF"), datetimeTerm(new Date(t0 + 500)), U, U, 0, 0), 0));
    const first = (await s.next()) as ReturnType<typeof tuple>;
    assert.match(
      JSON.stringify(first, (_k, v) => (v?.type === "Buffer" ? Buffer.from(v.data).toString() : v)),
      /newer/,
    );
    assert.deepEqual(await s.next(), tuple(524288, atom("replay_complete")));
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: [[1, 2, "live"]] });
    assert.match(
      JSON.stringify(await s.next(), (_k, v) => (v?.type === "Buffer" ? Buffer.from(v.data).toString() : v)),
      /live/,
    );
  });

  it("the CLI entry starts with CLI-style options and rejects a malformed scenario file", async () => {
    const run = await nsoSimulator.start({ port: "0", scenario: "none" });
    try {
      assert.match(run.endpoints.events, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await run.close();
    }
    const dir = mkdtempSync(join(tmpdir(), "nso-scen-"));
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ steps: [{ msg: "no type" }] }));
    assert.throws(() => loadScenario(join(dir, "bad.json")), /a scenario is/);
    writeFileSync(join(dir, "ok.json"), JSON.stringify({ steps: [{ type: "NOTIF_AUDIT", msg: "hi", delayMs: 1 }] }));
    assert.equal(loadScenario(join(dir, "ok.json")).steps.length, 1);
  });

  it("every step of the built-in demo scenario builds for old and new LIB_VSN subscribers", () => {
    for (const { delayMs: _d, wait: _w, ...spec } of DEMO_SCENARIO.steps) {
      if (spec.type === "NOTIF_STREAM_EVENT") assert.ok(streamValues(spec.values).length > 0);
      else for (const libVsn of [0x07050000, 0x08020500]) assert.ok(isTuple(buildNotification(spec, { libVsn, mask: 0x7fffffff })));
    }
  });

  it("a looping scenario plays on its own: a subscriber sees its events", async () => {
    await sim.close();
    sim = await startNsoSimulator({ port: 0, scenario: { loop: true, steps: [{ type: "NOTIF_AUDIT", msg: "scripted", delayMs: 20 }] } });
    const s = await subscriber(encodeHeader(), tuple(1, 0, 0, atom("undefined"), 0));
    const t = await s.next();
    assert.ok(isTuple(t, 5) && (t.get(4) as Buffer).toString() === "scripted");
  });
});
