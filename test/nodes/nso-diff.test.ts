import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator, StartNsoSimOptions } from "../../src/sim/nso";
import { bulkDiffSpec, DEMO_DIFF } from "../../src/sim/nso/maapi";
import { called, load, nextMsg, node, text } from "../support/nso-nodes";
import { waitFor } from "../support/wait";

/**
 * nso-events "read what changed" (issue 7) inside the Node-RED runtime, against the NSO
 * simulator serving the event socket and MAAPI on one port. Every outcome must answer the
 * commit: the simulator's `done` says "acked" (not "timeout" or "closed"), well inside its
 * event-reply-timeout.
 */
helper.init(nodeRedPath);

const REPLY_TIMEOUT_MS = 4000;

function flow(port: number, events: Record<string, unknown> = {}): object[] {
  return [
    { id: "srv", type: "nso-server", host: "127.0.0.1", port, protoVsn: "auto", heartbeat: 0 },
    {
      id: "ev",
      type: "nso-events",
      server: "srv",
      notifications: ["NOTIF_COMMIT_DIFF"],
      routing: "single",
      autoAck: 0,
      readDiff: true,
      wires: [["out"]],
      ...events,
    },
    { id: "out", type: "helper" },
  ];
}

describe("nso-events: read what changed (MAAPI) and gaps", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;

  const start = async (opts: StartNsoSimOptions = {}): Promise<void> => {
    await sim?.close();
    sim = await startNsoSimulator({ port: 0, eventReplyTimeoutMs: REPLY_TIMEOUT_MS, ...opts });
  };

  /** Inject a commit with `diff`; resolves with the ack outcome and how long the commit was held. */
  const commit = async (diff = DEMO_DIFF, th?: number): Promise<{ outcomes: string[]; heldMs: number; th: number }> => {
    const t = th ?? sim.server.nextThandle();
    const t0 = Date.now();
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th: t, uinfo: { usid: 59, username: "admin" }, comment: "test", diff });
    const outcomes = await r.done;
    return { outcomes, heldMs: Date.now() - t0, th: t };
  };

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => start());
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("puts the changes in msg.payload.changes, keeps tctx and msg.ack, and nso-ack finishes the commit", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      {
        id: "ev",
        type: "nso-events",
        server: "srv",
        notifications: ["NOTIF_COMMIT_DIFF"],
        routing: "single",
        autoAck: 0,
        readDiff: true,
        wires: [["ack", "out"]],
      },
      { id: "ack", type: "nso-ack", wires: [[]] },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = await commit();
    const msg = await got;
    assert.deepEqual(c.outcomes, ["acked"]);
    assert.equal(msg.payload.truncated, false);
    assert.equal(msg.payload.changes.length, DEMO_DIFF.length);
    assert.deepEqual(msg.payload.tctx, { th: c.th });
    assert.equal(msg.ack.kind, "diff");
    const byPath = new Map<string, any>(msg.payload.changes.map((x: any) => [x.path + ":" + x.op, x]));
    assert.equal(byPath.get("/devices/device{ce0}:created").op, "created");
    assert.equal(byPath.get("/devices/device{old-pe}:deleted").op, "deleted");
    assert.match(JSON.stringify(byPath.get("/devices/device{ce0}/state/admin-state:value_set").value), /southbound-locked/);
    assert.ok(msg.payload.changes.some((x: any) => x.op === "moved_after"));
  });

  it("ack at once: the node acks after reading, msg.ack is left out, msg.nso.acked is true", async () => {
    await load(flow(sim.port, { ackAtOnce: true }));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = await commit();
    assert.deepEqual(c.outcomes, ["acked"], "released by the node's ack, not by NSO's reply timeout");
    const msg = await got;
    assert.equal(msg.ack, undefined);
    assert.equal(msg.nso.acked, true);
    assert.equal(msg.payload.changes.length, DEMO_DIFF.length);
  });

  it("a 2000-change diff is read inside the budget and acked", async () => {
    await load(flow(sim.port, { ackAtOnce: true }));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = await commit(bulkDiffSpec(500));
    const msg = await got;
    assert.deepEqual(c.outcomes, ["acked"]);
    assert.equal(msg.payload.changes.length, 2000);
    assert.equal(msg.payload.truncated, false);
  });

  it("budget exceeded: truncated with reason budget, a warning, and the commit is still acked", async () => {
    await start({ maapi: { itemDelayMs: 20 } });
    await load(flow(sim.port, { ackAtOnce: true, diffBudget: 0.3, autoAck: 2 }));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = await commit(bulkDiffSpec(100));
    const msg = await got;
    assert.deepEqual(c.outcomes, ["acked"], "released by the node's ack, not by NSO's reply timeout");
    assert.equal(msg.payload.truncated, true);
    assert.equal(msg.payload.truncatedReason, "budget");
    assert.ok(msg.payload.changes.length < 400, "the overrun stopped the read (how many fit in 300 ms depends on the load)");
    await called(node("ev"), "warn", (a) => /budget ran out/.test(text(a[0])));
  });

  it("budget exceeded without ack at once: msg.ack still reaches nso-ack and releases the commit", async () => {
    await start({ maapi: { itemDelayMs: 20 } });
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], autoAck: 2, readDiff: true, diffBudget: 0.2, wires: [["ack"]] },
      { id: "ack", type: "nso-ack", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = await commit(bulkDiffSpec(100));
    assert.deepEqual(c.outcomes, ["acked"]);
    const msg = await got;
    assert.equal(msg.payload.truncated, true);
    assert.equal(
      node("ev")
        .warn.getCalls()
        .filter((x) => /auto-acked/.test(text(x.args[0]))).length,
      0,
      "nso-ack answered, not the auto-ack",
    );
  });

  it("the change cap and the subtree filter bound what is read", async () => {
    await load(flow(sim.port, { ackAtOnce: true, diffSubtree: "/nacm", diffMaxChanges: 3 }));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = await commit();
    const msg = await got;
    assert.deepEqual(c.outcomes, ["acked"]);
    assert.equal(msg.payload.changes.length, 3);
    assert.ok(
      msg.payload.changes.every((x: any) => x.path.startsWith("/nacm/")),
      JSON.stringify(msg.payload.changes),
    );
    assert.equal(msg.payload.truncatedReason, "max-changes");
  });

  it("MAAPI error (attach refused: the commit is no longer blocked): error reported with the message, commit acked", async () => {
    await load(flow(sim.port, { ackAtOnce: true }));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const th = sim.server.nextThandle();
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th, uinfo: { usid: 59 }, diff: DEMO_DIFF });
    // Released on the MAAPI side before the node can attach: NSO answers the attach with an error.
    sim.server.maapi!.store.release(th, "closed");
    assert.deepEqual(await r.done, ["acked"]);
    const msg = await got;
    assert.equal(msg.payload.truncated, true);
    assert.equal(msg.payload.truncatedReason, "error");
    assert.equal(typeof msg.payload.diffError.message, "string");
    const args = await called(node("ev"), "error", (a) => /could not read what changed/.test(text(a[0])));
    assert.equal(args[1]?.topic, "NOTIF_COMMIT_DIFF");
  });

  it("MAAPI refused (no MAAPI service): the commit is acked, and the next commit too", async () => {
    await start({ maapi: false });
    await load(flow(sim.port, { ackAtOnce: true }));
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = await commit();
    assert.deepEqual(c.outcomes, ["acked"]);
    assert.equal((await got).payload.truncatedReason, "error");
    const c2 = await commit();
    assert.deepEqual(c2.outcomes, ["acked"]);
    assert.equal(sim.server.subscribers().length, 1, "the event socket stayed up");
  });

  it("MAAPI socket lost in the middle of the iteration: truncated, commit acked, the next commit reads again", async () => {
    await start({ maapi: { itemDelayMs: 2 } });
    await load(flow(sim.port, { ackAtOnce: true }));
    await sim.server.waitForSubscribers(1);
    let items = 0;
    const onItem = (): void => {
      if (++items === 5) sim.server.maapi!.dropConnections();
    };
    sim.server.maapi!.on("item", onItem);
    const got = nextMsg(node("out"));
    const c = await commit(bulkDiffSpec(50));
    sim.server.maapi!.off("item", onItem);
    assert.deepEqual(c.outcomes, ["acked"]);
    const msg = await got;
    assert.equal(msg.payload.truncated, true);
    assert.equal(msg.payload.truncatedReason, "error");
    assert.ok(msg.payload.changes.length < 200);
    const got2 = nextMsg(node("out"));
    await commit(DEMO_DIFF);
    assert.equal((await got2).payload.truncated, false);
  });

  for (const ackAtOnce of [true, false]) {
    it(`redeploy in the middle of an iteration (ack at once ${ackAtOnce ? "on" : "off"}): the commit is acked at once, no message`, async () => {
      await start({ maapi: { itemDelayMs: 10 } });
      await load(flow(sim.port, { ackAtOnce, autoAck: 0 }));
      await sim.server.waitForSubscribers(1);
      let sent = false;
      node("out").on("input", () => (sent = true));
      let closing: Promise<void> | undefined;
      const onItem = (): void => {
        // The nso-events node alone goes (a "modified nodes" deploy): the server and its socket stay.
        closing ??= node("ev").close(true);
      };
      sim.server.maapi!.on("item", onItem);
      const c = await commit(bulkDiffSpec(200));
      sim.server.maapi!.off("item", onItem);
      await closing;
      assert.deepEqual(c.outcomes, ["acked"], "released by an ack, not by NSO's reply timeout");
      assert.equal(sent, false);
    });
  }

  it("a full redeploy in the middle of a read ends cleanly: the commit is released at once, not after the timeout", async () => {
    await start({ maapi: { itemDelayMs: 10 } });
    await load(flow(sim.port, { ackAtOnce: false, autoAck: 0 }));
    await sim.server.waitForSubscribers(1);
    const firstItem = new Promise<void>((resolve) => sim.server.maapi!.once("item", () => resolve()));
    const th = sim.server.nextThandle();
    const r = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", th, uinfo: { usid: 59 }, diff: bulkDiffSpec(200) });
    await firstItem;
    await helper.unload();
    const outcomes = await r.done;
    // Released by the ack or by the socket closing, never left to NSO's reply timeout.
    assert.ok(outcomes[0] === "acked" || outcomes[0] === "closed", String(outcomes));
    assert.equal(await sim.server.maapi!.store.whenReleased(th), "not-blocked");
  });

  it("redeploys with MAAPI in use leak no sockets: the MAAPI socket closes with its config node", async () => {
    const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
    const before = sockets();
    for (let i = 0; i < 5; i++) {
      await load(flow(sim.port, { ackAtOnce: true }));
      await sim.server.waitForSubscribers(1);
      // Past the gap message each reload announces (the previous flow's connection was closed).
      const got = nextMsg(node("out"), "NOTIF_COMMIT_DIFF");
      const c = await commit(DEMO_DIFF.slice(0, 3));
      assert.deepEqual(c.outcomes, ["acked"]);
      assert.equal((await got).payload.changes.length, 3);
      await helper.unload();
    }
    // libuv closes destroyed sockets asynchronously, with no callback to wait on: bounded poll.
    const t0 = Date.now();
    while (sockets() > before && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    assert.ok(sockets() <= before, `TCP sockets ${before} -> ${sockets()}`);
  });

  it("a package reload drops the MAAPI socket (label and hash caches may be stale); the next commit dials afresh", async () => {
    await load(flow(sim.port, { ackAtOnce: true, notifications: ["NOTIF_COMMIT_DIFF", "NOTIF_PACKAGE_RELOAD"] }));
    await sim.server.waitForSubscribers(1);
    const maapi = (helper.getNode("srv") as unknown as { maapi(): { dials: number; connected: boolean } }).maapi();
    const first = nextMsg(node("out"));
    await commit();
    await first;
    assert.equal(maapi.dials, 1);
    const reload = nextMsg(node("out"));
    sim.server.inject({ type: "NOTIF_PACKAGE_RELOAD" });
    assert.equal((await reload).topic, "NOTIF_PACKAGE_RELOAD");
    assert.equal(maapi.connected, false);
    const again = nextMsg(node("out"));
    await commit();
    assert.equal((await again).payload.changes.length, DEMO_DIFF.length);
    assert.equal(maapi.dials, 2);
  });

  it("deploy-time checks: a budget not below the auto-ack delay, or a bad subtree, is refused with a reason", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "e1", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], readDiff: true, autoAck: 5, diffBudget: 5, wires: [[]] },
      { id: "e2", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], readDiff: true, diffSubtree: "devices", wires: [[]] },
      { id: "e3", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], readDiff: true, diffMaxChanges: -1, wires: [[]] },
    ]);
    await called(node("e1"), "error", (a) => /shorter than the auto-ack delay/.test(text(a[0])));
    await called(node("e2"), "error", (a) => /subtree|\//i.test(text(a[0])));
    await called(node("e3"), "error", (a) => /change cap/.test(text(a[0])));
  });

  it("stream events: values gain YANG names and the notification is rendered as XML", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_STREAM_EVENT"], stream: "NETCONF", streamNames: true, wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const NS = 1244620176;
    sim.server.inject({
      type: "NOTIF_STREAM_EVENT",
      stream: "NETCONF",
      values: [
        [NS, 2103098691, "start"],
        [NS, 737643097, "start"],
        [NS, 870658415, "admin & <co>"],
        [NS, 737643097, "stop"],
        [NS, 2103098691, "stop"],
      ],
    });
    const msg = await got;
    const names = msg.payload.values.map((v: any) => v.name);
    assert.deepEqual(names, ["netconf-config-change", "changed-by", "username", "changed-by", "netconf-config-change"]);
    assert.equal(msg.payload.values[0].nsUri, "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications");
    assert.equal(msg.payload.values[2].tag, 870658415, "the numeric tag is kept beside the name");
    assert.equal(
      msg.payload.xml,
      '<netconf-config-change xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"><changed-by><username>admin &amp; &lt;co&gt;</username></changed-by></netconf-config-change>',
    );
  });

  it("stream names without MAAPI: the values stay unnamed with one warning, events keep flowing in order", async () => {
    await start({ maapi: false });
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      {
        id: "ev",
        type: "nso-events",
        server: "srv",
        notifications: ["NOTIF_STREAM_EVENT", "NOTIF_AUDIT"],
        stream: "NETCONF",
        streamNames: true,
        wires: [["out"]],
      },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got: Array<Record<string, any>> = [];
    const three = new Promise<void>((resolve) =>
      node("out").on("input", (m: Record<string, any>) => {
        got.push(m);
        if (got.length === 3) resolve();
      }),
    );
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: [[1244620176, 870658415, "a"]] });
    sim.server.inject({ type: "NOTIF_AUDIT", msg: "between" });
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: [[1244620176, 870658415, "b"]] });
    await three;
    assert.deepEqual(
      got.map((m) => m.topic),
      ["NOTIF_STREAM_EVENT", "NOTIF_AUDIT", "NOTIF_STREAM_EVENT"],
    );
    assert.equal(got[0].payload.values[0].name, undefined);
    assert.equal(got[0].payload.xml, undefined);
    assert.equal(
      node("ev")
        .warn.getCalls()
        .filter((c) => /left unnamed/.test(text(c.args[0]))).length,
      1,
    );
  });

  it("after a reconnect the node says so: one topic 'gap' message, not filled, with since/until/streamResumed", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      {
        id: "ev",
        type: "nso-events",
        server: "srv",
        notifications: ["NOTIF_AUDIT", "NOTIF_USER_SESSION"],
        routing: "type",
        outputs: 3,
        wires: [["a"], ["u"], ["o"]],
      },
      { id: "a", type: "helper" },
      { id: "u", type: "helper" },
      { id: "o", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const t0 = Date.now();
    const gap = nextMsg(node("o"));
    const back = new Promise<void>((resolve) => sim.server.once("subscribed", () => resolve()));
    sim.server.dropConnections();
    await back;
    const msg = await gap;
    assert.equal(msg.topic, "gap");
    assert.deepEqual(Object.keys(msg.payload).sort(), ["channel", "filled", "reason", "server", "since", "streamResumed", "until"]);
    assert.equal(msg.payload.channel, "nso");
    assert.equal(msg.payload.filled, false);
    assert.equal(msg.payload.server, `127.0.0.1:${sim.port}`);
    assert.equal(msg.payload.streamResumed, false);
    assert.ok(Date.parse(msg.payload.since) >= t0 - 1000 && Date.parse(msg.payload.since) <= Date.parse(msg.payload.until));
    // Events flow again after the gap message.
    const a = nextMsg(node("a"));
    sim.server.inject({ type: "NOTIF_AUDIT", msg: "after" });
    assert.equal((await a).payload.msg, "after");
  });

  it("a stream-only node whose subscription resumed from its last event gets a gap message filled by replay", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_STREAM_EVENT"], stream: "NETCONF", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const seen: string[] = [];
    node("out").on("input", (m: { topic: string }) => seen.push(m.topic));
    const first = nextMsg(node("out"));
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: [[1244620176, 870658415, "one"]] });
    await first;
    const back = new Promise<{ stream?: { start?: number } }>((resolve) => sim.server.once("subscribed", resolve));
    sim.server.dropConnections();
    const info = await back;
    assert.ok(info.stream?.start !== undefined, "resumed with a replay start");
    const gap = nextMsg(node("out"));
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: [[1244620176, 870658415, "two"]] });
    const g = await gap;
    assert.equal(g.topic, "gap");
    assert.equal(g.payload.filled, "replay");
    assert.equal(g.payload.streamResumed, true);
    await waitFor("the event after the gap", () => seen.length === 3);
    assert.deepEqual(seen, ["NOTIF_STREAM_EVENT", "gap", "NOTIF_STREAM_EVENT"]);
  });
});
