import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import sysadmServer from "../../src/nodes/sysadm-server";
import sysadmEvents from "../../src/nodes/sysadm-events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunningSysadmSimulator, startSysadmSimulator, SysadmSimOptions } from "../../src/sim/sysadm";

const tlsConfigNode = requireCoreNode("network/05-tls.js");

helper.init(nodeRedPath);

type Msg = { topic: string; payload: any; sysadm: any };
type Spy = { getCalls(): Array<{ args: any[] }>; callCount: number };
const CREDS = { s1: { username: "demo", password: "demo-password" } };
const nodesUnderTest = [sysadmServer, sysadmEvents, tlsConfigNode];

function statuses(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  return (helper.getNode(id).status as unknown as Spy).getCalls().map((c) => c.args[0]);
}
const lastStatus = (id: string) => statuses(id).at(-1);

function collector(id: string): Msg[] {
  const got: Msg[] = [];
  (helper.getNode(id) as unknown as { on(e: string, fn: (m: Msg) => void): void }).on("input", (m: Msg) => got.push(m));
  return got;
}

describe("sysadm-server + sysadm-events nodes", function () {
  let sim: RunningSysadmSimulator | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim?.close();
    sim = undefined;
  });

  async function start(o: SysadmSimOptions = {}): Promise<RunningSysadmSimulator> {
    sim = await startSysadmSimulator({ reorder: "none", ...o });
    return sim;
  }
  function flow(events: string, routing = "single", outputs = 1, extra: Record<string, unknown> = {}): never {
    const wires = Array.from({ length: outputs }, (_, i) => [`h${i}`]);
    return <never>[
      { id: "s1", type: "sysadm-server", url: sim!.server.wsUrl, keepalive: 60, ...extra },
      { id: "e1", type: "sysadm-events", server: "s1", events, routing, outputs, wires },
      ...wires.map(([h]) => ({ id: h, type: "helper" })),
    ];
  }
  const connected = () =>
    waitFor("connected", () => sim!.server.subscribers("dispatcher") + sim!.server.subscribers("life-preserver") + sim!.server.subscribers("system-state") > 0);

  it("turns each event into one message: topic, payload = args, msg.sysadm", async () => {
    const s = await start();
    s.server.systemState({ capacity: 95 });
    await helper.load(nodesUnderTest, flow("dispatcher,life-preserver,system-state"), CREDS);
    const got = collector("h0");
    await connected();
    s.server.lifePreserver("replication-failed");
    await waitFor("two messages", () => got.length >= 2);
    assert.equal(got[0].topic, "system-state");
    assert.deepEqual(got[0].sysadm, { priority: { level: 6, category: "Critical" }, snapshot: true, server: s.server.wsUrl });
    assert.equal(got[0].payload.zpools.tank.capacity, "95%");
    assert.equal(got[1].topic, "life-preserver");
    assert.equal(got[1].payload.class, "replication");
    assert.deepEqual(got[1].sysadm.priority, { level: 7, category: "Critical" });
    assert.equal(got[1].sysadm.snapshot, false);
  });

  it("routes per event type, with a last output for other types and gap markers", async () => {
    const s = await start();
    await helper.load(nodesUnderTest, flow("system-state,life-preserver", "event", 3), CREDS);
    const outs = [collector("h0"), collector("h1"), collector("h2")];
    await connected();
    s.server.lifePreserver("snapshot");
    s.server.systemState();
    await waitFor("routed", () => outs[0].length === 1 && outs[1].length === 1);
    assert.equal(outs[0][0].topic, "system-state");
    assert.equal(outs[1][0].topic, "life-preserver");
    // Dispatcher added at run time: not in the output list, so "other".
    helper.getNode("e1").receive({ action: "subscribe", events: ["dispatcher"] });
    await waitFor("dispatcher subscribed", () => s.server.subscribers("dispatcher") === 1);
    await s.server.dispatcherJob("generic", 1);
    await waitFor("other output", () => outs[2].length === 2);
    assert.deepEqual(
      outs[2].map((m) => m.topic),
      ["dispatcher", "dispatcher"],
    );
    s.server.dropConnections();
    await waitFor("gap marker", () => outs[2].some((m) => m.topic === "gap"));
    const gap = outs[2].find((m) => m.topic === "gap")!;
    assert.equal(gap.sysadm.gap, true);
    assert.deepEqual(Object.keys(gap.payload).sort(), ["channel", "filled", "reason", "server", "since", "until"]);
    assert.equal(gap.payload.channel, "sysadm");
    assert.equal(gap.payload.filled, false, "sysadm has no replay");
    assert.match(gap.payload.reason, /code 1000/);
    assert.ok(Date.parse(gap.payload.since) <= Date.parse(gap.payload.until));
  });

  it("restores subscriptions (including run-time ones) after a reconnect and warns about the gap", async () => {
    const s = await start();
    await helper.load(nodesUnderTest, flow("life-preserver"), CREDS);
    const got = collector("h0");
    await connected();
    helper.getNode("e1").receive({ action: "subscribe", events: "dispatcher" });
    await waitFor("dispatcher subscribed", () => s.server.subscribers("dispatcher") === 1);
    s.server.dropConnections();
    await waitFor("gap", () => got.some((m) => m.topic === "gap"));
    await waitFor("resubscribed", () => s.server.subscribers("dispatcher") === 1 && s.server.subscribers("life-preserver") === 1);
    const { warn } = helper.getNode("e1") as unknown as { warn: Spy };
    assert.ok(warn.getCalls().some((c) => /gap/.test(String(c.args[0]))));
    helper.getNode("e1").receive({ action: "unsubscribe", events: ["dispatcher"] });
    await waitFor("dispatcher unsubscribed", () => s.server.subscribers("dispatcher") === 0);
  });

  it("rejects a bad input message through done(err), so a Catch node sees it", async () => {
    await start();
    await helper.load(nodesUnderTest, flow("dispatcher"), CREDS);
    await connected();
    const e1 = helper.getNode("e1");
    e1.receive({ action: "explode" });
    e1.receive({ action: "subscribe", events: ["life_preserver"] });
    const errors = (e1 as unknown as { error: Spy }).error;
    await waitFor("two errors", () => errors.callCount >= 2);
    const texts = errors.getCalls().map((c) => String(c.args[0]?.message ?? c.args[0]));
    assert.match(texts[0], /bad-action|subscribe/);
    assert.match(texts[1], /life_preserver|bad-events/);
  });

  it("shows status transitions: connecting, connected with a count, disconnected with the reason", async () => {
    const s = await start();
    await helper.load(nodesUnderTest, flow("dispatcher"), CREDS);
    await waitFor("green", () => lastStatus("e1")?.fill === "green");
    assert.equal(statuses("e1")[0].fill, "yellow");
    assert.equal(statuses("e1")[0].shape, "ring");
    await s.server.dispatcherJob("generic", 1);
    await waitFor("count in status", () => /^connected: 2 events$/.test(lastStatus("e1")?.text ?? ""));
    await s.close();
    await waitFor("red", () => lastStatus("e1")?.fill === "red");
    assert.match(lastStatus("e1")!.text!, /disconnected/);
  });

  it("a wrong password gives a red status that says so, and no blacklisting", async () => {
    const s = await start({ blacklistLoopback: true });
    await helper.load(nodesUnderTest, flow("dispatcher"), { s1: { username: "demo", password: "wrong" } });
    await waitFor("red", () => lastStatus("e1")?.fill === "red");
    assert.match(lastStatus("e1")!.text!, /login refused/);
    assert.equal(s.server.isBlacklisted(), false);
  });

  it("reports hostile frames once per kind as catchable errors and keeps delivering", async () => {
    const s = await start();
    await helper.load(nodesUnderTest, flow("dispatcher", "single", 1, { maxFrameKB: 1 }), CREDS);
    const got = collector("h0");
    await connected();
    for (let i = 0; i < 3; i++) {
      s.server.sendRaw("garbage");
      s.server.sendRaw(JSON.stringify({ namespace: "events", name: "dispatcher", id: "", args: { pad: "x".repeat(2000) } }));
      s.server.sendRaw(`{"namespace":"events","name":"dispatcher","id":"","args":${"[".repeat(200)}${"]".repeat(200)}}`);
    }
    s.server.publish("dispatcher", { ok: 1 });
    await waitFor("good event", () => got.length === 1);
    assert.deepEqual(got[0].payload, { ok: 1 });
    const errors = (helper.getNode("e1").error as unknown as Spy).getCalls();
    assert.deepEqual(
      errors.map((c) => c.args[1]?.payload?.code),
      ["not-json", "frame-too-large", "too-deep"],
    );
    assert.equal(s.server.connectionCount, 1);
  });

  it("shares one connection between two nodes and gives each only its types", async () => {
    const s = await start();
    await helper.load(
      [sysadmServer, sysadmEvents],
      [
        { id: "s1", type: "sysadm-server", url: s.server.wsUrl },
        { id: "a", type: "sysadm-events", server: "s1", events: "dispatcher", routing: "single", outputs: 1, wires: [["ha"]] },
        { id: "b", type: "sysadm-events", server: "s1", events: "life-preserver", routing: "single", outputs: 1, wires: [["hb"]] },
        { id: "ha", type: "helper" },
        { id: "hb", type: "helper" },
      ] as never,
      CREDS,
    );
    const ga = collector("ha");
    const gb = collector("hb");
    await waitFor("both subscribed", () => s.server.subscribers("dispatcher") === 1 && s.server.subscribers("life-preserver") === 1);
    assert.equal(s.server.connectionCount, 1);
    s.server.publish("dispatcher", { n: 1 });
    s.server.lifePreserver("snapshot");
    await waitFor("both got one", () => ga.length === 1 && gb.length === 1);
    assert.equal(ga[0].topic, "dispatcher");
    assert.equal(gb[0].topic, "life-preserver");
  });

  it("says plainly when no credentials are set", async () => {
    await start();
    await helper.load(nodesUnderTest, flow("dispatcher"), {});
    await waitFor("red", () => lastStatus("e1")?.fill === "red");
    assert.match(lastStatus("e1")!.text!, /username and password, or a token/);
  });

  it("twenty redeploys leak no sockets, listeners or timers", async function () {
    this.timeout(30000);
    const s = await start();
    const handles = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap").length;
    const runs = async () => {
      await helper.load(nodesUnderTest, flow("dispatcher,life-preserver"), CREDS);
      await connected();
      await helper.unload();
      await waitFor("server side closed", () => s.server.connectionCount === 0);
    };
    await runs(); // warm-up: first load creates runtime-wide timers
    const before = handles();
    const listenersBefore = process.listenerCount("uncaughtException");
    for (let i = 0; i < 20; i++) await runs();
    await waitFor("handles settle", () => handles() <= before + 2);
    assert.ok(handles() <= before + 2, `handles grew from ${before} to ${handles()}`);
    assert.equal(process.listenerCount("uncaughtException"), listenersBefore);
    assert.equal(s.server.connectionCount, 0);
    assert.equal(s.server.stats.connectionsAccepted, 21);
  });

  it("delivers a flood of 5000 events, in order, and shows the count", async () => {
    const s = await start();
    await helper.load(nodesUnderTest, flow("life-preserver"), CREDS);
    const got = collector("h0");
    await connected();
    await s.server.flood(5000, "life-preserver", { class: "snapshot", message: "m", priority: "1 - Information" });
    await waitFor("5000 messages", () => got.length === 5000, 15000);
    await waitFor("count in status", () => /^connected: 5\.0k events$/.test(lastStatus("e1")?.text ?? ""));
    assert.ok(got.every((m) => m.topic === "life-preserver" && m.sysadm.priority.level === 1));
  });

  it("verifies wss through a tls-config CA; a restarted server's new certificate is refused with a clear status", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysadm-node-tls-"));
    try {
      const certFile = join(dir, "wsserver.crt");
      const s = await start({ wssPort: 0, wsPort: null, certFile });
      await helper.load(
        nodesUnderTest,
        [
          { id: "tls1", type: "tls-config", cert: "", key: "", ca: certFile, certname: "", keyname: "", caname: "", servername: "", verifyservercert: true },
          { id: "s1", type: "sysadm-server", url: s.server.wssUrl, tls: "tls1", tlsMode: "verify" },
          { id: "e1", type: "sysadm-events", server: "s1", events: "dispatcher", routing: "single", outputs: 1, wires: [["h0"]] },
          { id: "h0", type: "helper" },
        ] as never,
        CREDS,
      );
      await waitFor("subscribed over wss", () => s.server.subscribers("dispatcher") === 1);
      await s.server.restart(); // new certificate; the tls-config still holds the old one
      await waitFor("red: not trusted", () => /not trusted/.test(lastStatus("e1")?.text ?? ""), 6000);
      assert.equal(lastStatus("e1")!.fill, "red");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
