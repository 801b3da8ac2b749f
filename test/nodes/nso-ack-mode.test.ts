import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { called, load, nextMsg, node, NSO_NODES, text } from "../support/nso-nodes";

/**
 * Auto-ack stays a safety net, but the user is told when it is what holds NSO (issue 10,
 * item 3): an explicit "ack as soon as the message is sent" mode for flows that only observe,
 * and a warning at deploy when a blocking type waits for an nso-ack that no wire reaches.
 */
helper.init(nodeRedPath);

const linkNodes = requireCoreNode("common/60-link.js");

/** Warnings logged by node `id` itself (the helper's spies are shared by all nodes). */
const warnings = (id: string): string[] =>
  (node(id).warn.getCalls() as Array<{ args: unknown[]; thisValue?: unknown }>).filter((c) => c.thisValue === node(id)).map((c) => text(c.args[0]));

const server = (port: number) => ({ id: "srv", type: "nso-server", host: "127.0.0.1", port, heartbeat: 0 });
const NO_ACK = /no nso-ack/;

describe("nso-events: ack modes and the deploy-time nso-ack check", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    // Shorter than the 10 s auto-ack: "acked" can only come from an ack the node sent itself.
    sim = await startNsoSimulator({ port: 0, eventReplyTimeoutMs: 4000 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("ack as soon as the message is sent: NSO is released with no nso-ack and no auto-ack, msg.ack is left out", async () => {
    await load([
      server(sim.port),
      {
        id: "ev",
        type: "nso-events",
        server: "srv",
        notifications: ["NOTIF_COMMIT_DIFF", "NOTIF_AUDIT", "NOTIF_AUDIT_SYNC"],
        ackMode: "sent",
        autoAck: 10,
        wires: [["out"]],
      },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    const c = sim.server.inject({ type: "NOTIF_COMMIT_DIFF", uinfo: { usid: 59 } });
    const msg = await got;
    assert.deepEqual(await c.done, ["acked"]);
    assert.equal(msg.ack, undefined);
    const audit = nextMsg(node("out"));
    const a = sim.server.inject({ type: "NOTIF_AUDIT", usid: 59, msg: "line" });
    assert.equal((await audit).ack, undefined);
    assert.deepEqual(await a.done, ["acked"]);
    assert.deepEqual(warnings("ev"), [], "neither an auto-ack nor a missing nso-ack to warn about");
  });

  it("warns at deploy when a blocking type waits for an nso-ack that no wire reaches, naming the types", async () => {
    await load([
      server(sim.port),
      { id: "lone", type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF", "NOTIF_AUDIT", "NOTIF_AUDIT_SYNC"], autoAck: 2, wires: [["sink"]] },
      { id: "sink", type: "helper" },
    ]);
    await called(node("lone"), "warn", () => warnings("lone").some((w) => NO_ACK.test(w)));
    const w = warnings("lone").find((x) => NO_ACK.test(x))!;
    assert.match(w, /NOTIF_COMMIT_DIFF/);
    assert.match(w, /NOTIF_AUDIT\b/);
    assert.match(w, /2 s/, "says how long each one holds NSO");
    assert.match(w, /as soon as the message is sent/, "says what to do");
  });

  it("no warning when an nso-ack is reachable (through other nodes), behind a link node, in 'sent' mode, or with nothing blocking", async () => {
    // Nodes on a tab need a position, or the runtime takes them for config nodes.
    await helper.load(
      [...NSO_NODES, linkNodes] as never,
      [
        { id: "tab", type: "tab" },
        server(sim.port),
        { id: "via", type: "nso-events", z: "tab", x: 0, y: 0, server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], wires: [["m1"]] },
        { id: "m1", type: "helper", z: "tab", x: 0, y: 0, wires: [["m2"]] },
        { id: "m2", type: "helper", z: "tab", x: 0, y: 0, wires: [["m1", "ack"]] },
        { id: "ack", type: "nso-ack", z: "tab", x: 0, y: 0, wires: [[]] },
        { id: "linked", type: "nso-events", z: "tab", x: 0, y: 0, server: "srv", notifications: ["NOTIF_HA_INFO", "NOTIF_HA_INFO_SYNC"], wires: [["lo"]] },
        { id: "lo", type: "link out", z: "tab", x: 0, y: 0, links: ["li"], wires: [] },
        { id: "li", type: "link in", z: "tab", x: 0, y: 0, links: ["lo"], wires: [["ack"]] },
        { id: "sent", type: "nso-events", z: "tab", x: 0, y: 0, server: "srv", notifications: ["NOTIF_COMMIT_DIFF"], ackMode: "sent", wires: [[]] },
        { id: "plain", type: "nso-events", z: "tab", x: 0, y: 0, server: "srv", notifications: ["NOTIF_AUDIT"], wires: [[]] },
        {
          id: "typed",
          type: "nso-events",
          z: "tab",
          x: 0,
          y: 0,
          server: "srv",
          notifications: ["NOTIF_AUDIT", "NOTIF_COMMIT_DIFF"],
          routing: "type",
          outputs: 3,
          wires: [["ack"], [], []],
        },
      ] as never,
    );
    await sim.server.waitForSubscribers(1);
    // The checks run when the flows have started; the "typed" node routes its commit diffs to an
    // unwired output, so its warning proves they ran for every node before we look.
    await called(node("typed"), "warn", () => warnings("typed").some((w) => NO_ACK.test(w)));
    assert.match(
      warnings("typed").find((w) => NO_ACK.test(w))!,
      /NOTIF_COMMIT_DIFF/,
    );
    for (const id of ["via", "linked", "sent", "plain"])
      assert.deepEqual(
        warnings(id).filter((w) => NO_ACK.test(w)),
        [],
        id,
      );
  });
});
