import { strict as assert } from "node:assert";
import { once } from "node:events";
import * as net from "node:net";
import { Backoff } from "../../src/core/backoff";
import type { StateChange } from "../../src/core/lifecycle";
import { NsoClient, NsoClientOptions, NsoEvent } from "../../src/nso/client";
import { maskOf } from "../../src/nso/constants";
import { encodeFrame } from "../../src/nso/framing";
import { encodeHeader } from "../../src/nso/handshake";
import { encodeTerm } from "../../src/nso/term";
import { atom, tuple } from "../../src/nso/term/types";
import { startNsoSimulator, RunningNsoSimulator, StartNsoSimOptions } from "../../src/sim/nso";
import fc from "fast-check";

/** Client <-> simulator over real loopback sockets: every fault of the issue, each ending in a clear state. */
let sim: RunningNsoSimulator;
let clients: NsoClient[] = [];

async function startSim(opts: StartNsoSimOptions = {}): Promise<RunningNsoSimulator> {
  sim = await startNsoSimulator({ port: 0, ...opts });
  return sim;
}

function client(types: string[], extra: Partial<NsoClientOptions> = {}): NsoClient {
  const c = new NsoClient({
    host: "127.0.0.1",
    port: sim.port,
    backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }),
    subscription: () => ({ mask: maskOf(types) }),
    ...extra,
  });
  clients.push(c);
  return c;
}

function nextState(c: NsoClient, state: StateChange["state"]): Promise<StateChange> {
  return new Promise((resolve) => {
    const on = (ch: StateChange): void => {
      if (ch.state === state) {
        c.lifecycle.off("state", on);
        resolve(ch);
      }
    };
    c.lifecycle.on("state", on);
  });
}

function nextEvent(c: NsoClient, type?: string): Promise<NsoEvent> {
  return new Promise((resolve) => {
    const on = (ev: NsoEvent): void => {
      if (type === undefined || ev.notification.type === type) {
        c.off("notification", on);
        resolve(ev);
      }
    };
    c.on("notification", on);
  });
}

async function connected(c: NsoClient): Promise<void> {
  const p = nextState(c, "connected");
  c.start();
  await p;
}

describe("nso integration: client <-> simulator", () => {
  afterEach(async () => {
    for (const c of clients) c.stop();
    clients = [];
    await sim?.close();
  });

  it("subscribes and delivers an audit notification with the seed's keys", async () => {
    await startSim();
    const c = client(["NOTIF_AUDIT", "NOTIF_USER_SESSION"]);
    await connected(c);
    assert.equal(sim.server.subscribers()[0].mask, 33);
    const ev = nextEvent(c);
    sim.server.inject({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: "hello" });
    const { notification, ack } = await ev;
    assert.equal(notification.type, "NOTIF_AUDIT");
    assert.equal(notification.payload.logno, 116);
    assert.equal(notification.payload.msg, "hello");
    assert.equal(ack, undefined);
  });

  it("holds a commit until the diff-done ack, which the server receives as {Th, done}", async () => {
    await startSim();
    const c = client(["NOTIF_COMMIT_DIFF"]);
    await connected(c);
    const ev = nextEvent(c, "NOTIF_COMMIT_DIFF");
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th: 4242 });
    const { ack } = await ev;
    assert.ok(ack);
    assert.deepEqual(Object.keys(ack).sort(), ["connection", "id", "kind", "server"]);
    const seen = sim.server.waitForAck("diff", 4242);
    await c.ack(JSON.parse(JSON.stringify(ack)));
    assert.deepEqual(await seen, { kind: "diff", id: 4242 });
    assert.deepEqual(await r.done, ["acked"]);
    await assert.rejects(c.ack(ack), /already used/);
  });

  it("acks audit, audit-network and HA syncs exactly as §8", async () => {
    await startSim();
    const c = client(["NOTIF_AUDIT", "NOTIF_AUDIT_SYNC", "NOTIF_AUDIT_NETWORK", "NOTIF_AUDIT_NETWORK_SYNC", "NOTIF_HA_INFO", "NOTIF_HA_INFO_SYNC"]);
    await connected(c);
    c.on("notification", (ev) => void c.ack(ev.ack));
    const outcomes = await Promise.all([
      sim.server.inject({ type: "NOTIF_AUDIT", usid: 59 }).done,
      sim.server.inject({ type: "NOTIF_AUDIT_NETWORK", usid: 83 }).done,
      sim.server.inject({ type: "NOTIF_HA_INFO", ha_type: 5 }).done,
    ]);
    assert.deepEqual(outcomes, [["acked"], ["acked"], ["acked"]]);
  });

  it("auto-acks a blocking notification the flow leaves unanswered, and says so", async () => {
    await startSim();
    const c = client(["NOTIF_COMMIT_DIFF"], { autoAckMs: () => 30 });
    await connected(c);
    const ev = nextEvent(c);
    const auto = once(c, "autoAck");
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF" });
    const { ack } = await ev;
    const [info] = await auto;
    assert.equal(info.why, "timeout");
    assert.deepEqual(await r.done, ["acked"]);
    await assert.rejects(c.ack(ack), (e: Error & { code?: string }) => e.code === "ack-unknown");
  });

  it("beyond the open-ack limit the oldest blocking notification is answered, not left hanging", async () => {
    await startSim();
    const c = client(["NOTIF_COMMIT_DIFF"], { maxOpenAcks: 2 });
    await connected(c);
    const evicted = once(c, "autoAck");
    const first = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th: 1 });
    sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th: 2 });
    sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th: 3 });
    assert.deepEqual(await first.done, ["acked"]);
    assert.equal((await evicted)[0].why, "evicted");
    assert.equal(c.acks.size, 2);
  });

  it("an ack for a connection that is gone is a clear error", async () => {
    await startSim();
    const c = client(["NOTIF_COMMIT_DIFF"]);
    await connected(c);
    const ev = nextEvent(c);
    sim.server.inject({ type: "NOTIF_COMMIT_DIFF" });
    const { ack } = await ev;
    const down = nextState(c, "waiting-to-retry");
    sim.server.dropConnections();
    await down;
    await assert.rejects(c.ack(ack), (e: Error & { code?: string }) => e.code === "ack-connection-gone" && /no longer exists/.test(e.message));
  });

  it("the event-reply timeout closes an unanswering subscriber, which reconnects", async () => {
    await startSim({ eventReplyTimeoutMs: 50 });
    const c = client(["NOTIF_COMMIT_DIFF"]);
    await connected(c);
    const lost = nextState(c, "waiting-to-retry");
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF" });
    assert.deepEqual(await r.done, ["timeout"]);
    assert.match((await lost).reason!.message, /closed the notification socket/);
    await nextState(c, "connected");
  });

  for (const kind of ["md5", "sha256"] as const) {
    it(`passes the IPC access check (${kind}) and fails clearly with a wrong secret`, async () => {
      await startSim({ secret: Buffer.from("right\n") });
      const good = client(["NOTIF_AUDIT"], { accessCheck: kind, secret: () => Buffer.from("right\n") });
      await connected(good);
      const bad = client(["NOTIF_AUDIT"], { accessCheck: kind, secret: () => Buffer.from("wrong\n") });
      const st = nextState(bad, "waiting-to-retry");
      bad.start();
      assert.match((await st).reason!.message, /wrong secret/);
    });
  }

  it("an access check the server does not expect ends in a clear handshake error", async () => {
    await startSim();
    const c = client(["NOTIF_AUDIT"], { accessCheck: "md5", secret: () => Buffer.from("x") });
    const st = nextState(c, "waiting-to-retry");
    c.start();
    assert.match((await st).reason!.message, /closed during handshake/);
  });

  it("a rejected version is a clear error; 'auto' retries once with the server's version", async () => {
    await startSim({ protoVsn: 77, compatProtoVsns: [] });
    const pinned = client(["NOTIF_AUDIT"], { protoVsn: 82 });
    const st = nextState(pinned, "waiting-to-retry");
    pinned.start();
    assert.match((await st).reason!.message, /protocol version 82 rejected: NSO speaks 77/);
    pinned.stop();
    const auto = client(["NOTIF_AUDIT"], { protoVsn: "auto" });
    await connected(auto);
    assert.equal(sim.server.subscribers()[0].protoVsn, 77);
  });

  it("a server in phase 0 (closes at once) gives a handshake error and keeps retrying", async () => {
    await startSim({ phase0: true });
    const c = client(["NOTIF_AUDIT"]);
    const st = nextState(c, "waiting-to-retry");
    c.start();
    assert.match((await st).reason!.message, /phase 0/);
    await nextState(c, "connecting");
  });

  it("a subscription error carries the server's code and text", async () => {
    await startSim();
    const c = client(["NOTIF_STREAM_EVENT"], { subscription: () => ({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "NoSuchStream" } }) });
    const st = nextState(c, "waiting-to-retry");
    c.start();
    const err = (await st).reason as Error & { errorCode?: number };
    assert.equal(err.errorCode, 1);
    assert.match(err.message, /Unknown stream name/);
  });

  it("garbage, truncated and oversize frames are dropped and counted; the connection stays", async () => {
    await startSim();
    const c = client(["NOTIF_AUDIT"], { maxFrameSize: 1024 });
    await connected(c);
    const drops: string[] = [];
    c.on("drop", (e) => drops.push(e.code));
    const stateChanges: string[] = [];
    c.lifecycle.on("state", (s) => stateChanges.push(s.state));
    sim.server.injectBytes(encodeFrame(Buffer.from([131, 104, 9, 97]))); // truncated term
    sim.server.injectBytes(encodeFrame(Buffer.from("not a term at all")));
    sim.server.injectBytes(encodeFrame(Buffer.alloc(5000, 0x61))); // oversize
    sim.server.injectTerm(tuple(1, atom("bad"), 3)); // right tag, wrong shape
    const frame = encodeFrame(encodeTerm(tuple(1, 7, Buffer.from("u"), 59, Buffer.from("after garbage"))));
    sim.server.injectBytes(frame.subarray(0, 5)); // split across writes
    const ev = nextEvent(c);
    setImmediate(() => sim.server.injectBytes(frame.subarray(5)));
    assert.equal((await ev).notification.payload.msg, "after garbage");
    assert.equal(drops.length, 4);
    assert.ok(drops.includes("nso-frame-too-large"));
    assert.equal(c.drops.total, 4);
    assert.deepEqual(stateChanges, []);
  });

  it("garbage instead of the subscription reply, or a truncated version reply, ends the attempt with a clear error", async () => {
    sim = await startNsoSimulator({ port: 0 }); // closed by afterEach; this test uses its own fake peer
    const modes = ["garbage-reply", "truncated-version"] as const;
    for (const mode of modes) {
      const fake = net.createServer((s) => {
        s.once("data", () => {
          if (mode === "garbage-reply") s.write(Buffer.concat([Buffer.from("000052080205000e05", "hex"), encodeFrame(Buffer.from("garbage"))]));
          else s.end(Buffer.from("000052", "hex"));
        });
      });
      await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
      const port = (fake.address() as net.AddressInfo).port;
      const c = client(["NOTIF_AUDIT"], { port });
      const st = nextState(c, "waiting-to-retry");
      c.start();
      const reason = (await st).reason as Error & { code?: string };
      c.stop();
      await new Promise<void>((r) => fake.close(() => r()));
      if (mode === "garbage-reply") assert.ok(reason.code && reason.name === "ProtocolError", `${reason.name} ${reason.message}`);
      else assert.match(reason.message, /closed during handshake \(version\)/);
    }
  });

  it("fuzz: any framed bytes from NSO end in a notification or a counted drop, never a reconnect", async () => {
    await startSim();
    const c = client(["NOTIF_AUDIT"], { maxFrameSize: 4096 });
    await connected(c);
    const states: string[] = [];
    c.lifecycle.on("state", (st) => states.push(st.state));
    const outcome = (): Promise<string> =>
      new Promise((resolve) => {
        const done = (what: string) => (): void => {
          c.off("notification", onN);
          c.off("drop", onD);
          resolve(what);
        };
        const onN = done("notification");
        const onD = done("drop");
        c.once("notification", onN);
        c.once("drop", onD);
      });
    let drops = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, versioned) => {
        const payload = versioned ? Buffer.concat([Buffer.from([131]), bytes]) : Buffer.from(bytes);
        const next = outcome();
        sim.server.injectBytes(encodeFrame(payload));
        if ((await next) === "drop") drops++;
      }),
      { numRuns: 300 },
    );
    assert.deepEqual(states, []);
    assert.equal(c.drops.total, drops);
    assert.ok(drops > 250, `most random frames are garbage (${drops} dropped)`);
  });

  it("an unknown notification type arrives as NOTIF_UNKNOWN, not a crash", async () => {
    await startSim();
    const c = client(["NOTIF_AUDIT"]);
    await connected(c);
    const ev = nextEvent(c);
    sim.server.injectTerm(tuple(999999, atom("mystery")));
    assert.equal((await ev).notification.type, "NOTIF_UNKNOWN");
  });

  it("no heartbeat within the watchdog timeout (a hung NSO) -> reconnect", async () => {
    await startSim({ minIntervalMs: 20 });
    const c = client(["NOTIF_AUDIT"], {
      subscription: () => ({ mask: maskOf(["NOTIF_AUDIT", "NOTIF_HEARTBEAT"]), heartbeatMs: 20 }),
      livenessTimeoutMs: 60,
    });
    await connected(c);
    await nextEvent(c, "NOTIF_HEARTBEAT");
    sim.server.setHung(true);
    const lost = await nextState(c, "waiting-to-retry");
    assert.equal((lost.reason as Error & { code?: string }).code, "liveness-timeout");
    sim.server.setHung(false);
    const back = await nextState(c, "connected");
    assert.equal(back.reconnected, true);
  });

  it("the server dying mid-stream and coming back: the client reconnects and resubscribes", async () => {
    await startSim();
    const port = sim.port;
    const c = client(["NOTIF_AUDIT"]);
    await connected(c);
    const down = nextState(c, "waiting-to-retry");
    await sim.close();
    await down;
    await startSim({ port });
    const up = await nextState(c, "connected");
    assert.equal(up.reconnected, true);
    const ev = nextEvent(c);
    sim.server.inject({ type: "NOTIF_AUDIT", msg: "after restart" });
    assert.equal((await ev).notification.payload.msg, "after restart");
  });

  it("a stream subscription resumes from the last event time: nothing lost, no duplicate", async () => {
    await startSim();
    const c = client(["NOTIF_STREAM_EVENT"], { subscription: () => ({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "NETCONF" } }) });
    await connected(c);
    const got: string[] = [];
    c.on("notification", (ev) => got.push(String(JSON.stringify(ev.notification.payload))));
    const values = (s: string): unknown[] => [[1, 2, s]];
    const t0 = Date.now();
    const firstTwo = new Promise<void>((resolve) => c.on("notification", () => got.length === 2 && resolve()));
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", event_time: new Date(t0).toISOString(), values: values("e1") });
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", event_time: new Date(t0 + 1).toISOString(), values: values("e2") });
    await firstTwo;
    const down = nextState(c, "waiting-to-retry");
    sim.server.dropConnections();
    await down;
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", event_time: new Date(t0 + 2).toISOString(), values: values("e3") });
    const resumed = once(c, "resumed");
    await nextState(c, "connected");
    await resumed;
    assert.equal(got.length, 3);
    assert.ok(got[0].includes("e1") && got[1].includes("e2") && got[2].includes("e3"));
    assert.equal(c.drops.count("stream-duplicate"), 1);
    const sub = sim.server.subscribers()[0];
    assert.ok(sub.stream?.start !== undefined);
  });

  /** The stream events a client receives, in order: the event's value text, or the completion's name. */
  function streamLog(c: NsoClient): string[] {
    const log: string[] = [];
    c.on("notification", (ev) => {
      if (ev.notification.type !== "NOTIF_STREAM_EVENT") return;
      const p = ev.notification.payload as { type?: number; typeName?: string; values?: Array<{ value: unknown }> };
      log.push(p.type === 1 ? String(p.values?.[0]?.value) : String(p.typeName));
    });
    return log;
  }

  /** Resolves once `log` holds `last` (the notification listener above has run by then). */
  function logged(c: NsoClient, log: string[], last: string): Promise<void> {
    return new Promise((resolve) => {
      const on = (): void => {
        if (log.includes(last)) {
          c.off("notification", on);
          resolve();
        }
      };
      c.on("notification", on);
      on();
    });
  }

  const streamSpec = (name: string, values: string) => ({ type: "NOTIF_STREAM_EVENT", stream: name, values: [[1, 2, values]] });

  it("a stream subscription without a start time resumes from its own start when no event had arrived: events made while down arrive once", async () => {
    await startSim();
    const c = client(["NOTIF_STREAM_EVENT"], { subscription: () => ({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "NETCONF" } }) });
    const requestedAt = Date.now();
    await connected(c);
    const log = streamLog(c);
    const down = nextState(c, "waiting-to-retry");
    sim.server.dropConnections();
    await down;
    sim.server.inject(streamSpec("NETCONF", "down-1"));
    sim.server.inject(streamSpec("NETCONF", "down-2"));
    const [info] = await once(c, "subscribed");
    sim.server.inject(streamSpec("NETCONF", "live"));
    await logged(c, log, "live");
    assert.deepEqual(log, ["down-1", "down-2", "live"]);
    assert.equal(c.drops.count("stream-duplicate"), 0);
    assert.equal(info.reconnect, true);
    assert.ok(info.resumedFrom !== undefined, "the reconnect is a resume");
    const start = sim.server.subscribers()[0].stream?.start;
    assert.ok(start !== undefined && start >= requestedAt * 1000 && start <= Date.now() * 1000, `replay start ${start} is the subscription's own start`);
  });

  it("a stream subscription with a user start time and no event yet resumes from that start time, and says it resumed", async () => {
    await startSim();
    const userStart = new Date(Date.now() - 60_000).toISOString();
    const c = client(["NOTIF_STREAM_EVENT"], {
      subscription: () => ({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "NETCONF", startTime: userStart } }),
    });
    const log = streamLog(c);
    await connected(c);
    await logged(c, log, "replay_complete"); // the (empty) replay the user asked for
    const down = nextState(c, "waiting-to-retry");
    sim.server.dropConnections();
    await down;
    sim.server.inject(streamSpec("NETCONF", "down-1"));
    const [info] = await once(c, "subscribed");
    assert.equal(info.resumedFrom, new Date(userStart).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z"));
    assert.equal(sim.server.subscribers()[0].stream?.start, Date.parse(userStart) * 1000);
    sim.server.inject(streamSpec("NETCONF", "live"));
    await logged(c, log, "live");
    const events = log.filter((x) => x !== "replay_complete");
    assert.deepEqual(events, ["down-1", "live"]);
  });

  it("with a user start time the flow gets one replay_complete; each reconnect's own replay ends with 'resumed' instead", async () => {
    await startSim();
    const userStart = new Date(Date.now() - 60_000).toISOString();
    const c = client(["NOTIF_STREAM_EVENT"], {
      subscription: () => ({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "NETCONF", startTime: userStart } }),
    });
    const log = streamLog(c);
    let resumes = 0;
    c.on("resumed", () => resumes++);
    await connected(c);
    await logged(c, log, "replay_complete");
    for (const n of [1, 2]) {
      const down = nextState(c, "waiting-to-retry");
      sim.server.dropConnections();
      await down;
      sim.server.inject(streamSpec("NETCONF", `down-${n}`));
      await nextState(c, "connected");
      // A live event after the resume's replay: everything the replay sent is in by then.
      sim.server.inject(streamSpec("NETCONF", `live-${n}`));
      await logged(c, log, `live-${n}`);
    }
    assert.deepEqual(log, ["replay_complete", "down-1", "live-1", "down-2", "live-2"]);
    assert.equal(resumes, 2);
  });

  it("with a stop time in the past the flow gets one notification_complete, not one more per reconnect", async () => {
    await startSim();
    const t0 = Date.now();
    sim.server.inject({ ...streamSpec("NETCONF", "old"), event_time: new Date(t0 - 45_000).toISOString() });
    const stream = { name: "NETCONF", startTime: new Date(t0 - 60_000).toISOString(), stopTime: new Date(t0 - 30_000).toISOString() };
    const c = client([], { subscription: () => ({ mask: maskOf(["NOTIF_STREAM_EVENT", "NOTIF_AUDIT"]), stream }) });
    const log = streamLog(c);
    await connected(c);
    await logged(c, log, "notification_complete");
    const down = nextState(c, "waiting-to-retry");
    sim.server.dropConnections();
    await down;
    await nextState(c, "connected");
    // An audit line after the resume's replay: everything the replay sent is in by then.
    const audit = nextEvent(c, "NOTIF_AUDIT");
    sim.server.inject({ type: "NOTIF_AUDIT", msg: "after" });
    await audit;
    assert.deepEqual(log, ["old", "replay_complete", "notification_complete"]);
    assert.equal(c.drops.count("stream-duplicate"), 2);
  });

  it("a stream without replay: the resume is refused (error 18), the client resubscribes live and says so", async () => {
    await startSim();
    const c = client(["NOTIF_STREAM_EVENT"], { subscription: () => ({ mask: maskOf(["NOTIF_STREAM_EVENT"]), stream: { name: "ncs-alarms" } }) });
    await connected(c);
    const ev = nextEvent(c);
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "ncs-alarms", values: [[1, 2, "alarm"]] });
    await ev;
    const refused = nextState(c, "waiting-to-retry");
    sim.server.dropConnections();
    await refused;
    const second = await nextState(c, "waiting-to-retry");
    assert.match(second.reason!.message, /subscription refused: error 18/);
    const [info] = await once(c, "subscribed");
    assert.deepEqual([info.reconnect, info.replayUnsupported], [true, true]);
    assert.equal(sim.server.subscribers()[0].stream?.start, undefined);
  });

  it("the simulator closes a client that does not subscribe in time, and one that sends an illegal message", async () => {
    await startSim({ subscriptionDeadlineMs: 50 });
    const s1 = net.connect(sim.port, "127.0.0.1");
    s1.write(encodeHeader());
    s1.resume();
    await once(s1, "close");
    const s2 = net.connect(sim.port, "127.0.0.1");
    s2.write(encodeHeader());
    s2.write(encodeFrame(encodeTerm(tuple(32, 0, 0, atom("undefined"), 0))));
    await sim.server.waitForSubscribers(1);
    s2.write(encodeFrame(encodeTerm(tuple(atom("foo")))));
    s2.resume();
    await once(s2, "close");
    assert.equal(sim.server.subscribers().length, 0);
  });
});
