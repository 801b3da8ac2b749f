import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import type { Node, NodeAPI, NodeDef } from "node-red";
import { Attempt, ConnectionLifecycle } from "../../src/core/lifecycle";
import { SharedConnection, statusTarget } from "../../src/nodes/lib/shared-connection";

helper.init(nodeRedPath);

// A config node and a user node built from the shared glue, with a fake transport whose
// attempts the test completes by hand: this checks the glue inside the real runtime.
const opened: Attempt[] = [];
const lifecycles: ConnectionLifecycle[] = [];

function testNodes(RED: NodeAPI) {
  function TestServer(this: Node & { conn?: SharedConnection }, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const lc = new ConnectionLifecycle({ open: (a) => void opened.push(a), handshakeTimeoutMs: 0 });
    lifecycles.push(lc);
    this.conn = new SharedConnection(this, lc, "test server");
  }
  function TestUser(this: Node, config: NodeDef & { server: string }) {
    RED.nodes.createNode(this, config);
    const server = RED.nodes.getNode(config.server) as (Node & { conn: SharedConnection }) | null;
    if (!server) return;
    const me = statusTarget(this, 0);
    server.conn.users.register(me);
    this.on("close", (removed: boolean, done: () => void) => {
      server.conn.users.deregister(me, removed);
      done();
    });
  }
  RED.nodes.registerType("test-server", TestServer);
  RED.nodes.registerType("test-user", TestUser as never);
}

type StatusSpy = { calledWithMatch(s: object): boolean; lastCall: { args: Array<{ fill: string; shape: string; text: string }> } };
const statusSpy = (id: string) => (helper.getNode(id) as unknown as { status: StatusSpy }).status;

const flow = [
  { id: "s1", type: "test-server" },
  { id: "u1", type: "test-user", server: "s1", wires: [] },
  { id: "u2", type: "test-user", server: "s1", wires: [] },
];

describe("nodes/lib/shared-connection (in the Node-RED runtime)", () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    opened.length = 0;
    lifecycles.length = 0;
  });

  it("connects once for all users and fans the connected status out to each", async () => {
    await helper.load(testNodes, flow);
    assert.equal(opened.length, 1, "one connection shared by two users");
    opened[0].established();
    for (const id of ["u1", "u2"]) {
      assert.ok(statusSpy(id).calledWithMatch({ fill: "green", shape: "dot" }), `${id} shows connected`);
    }
  });

  it("closes the connection on redeploy without scheduling a reconnect, twenty times over", async () => {
    for (let i = 0; i < 20; i++) {
      await helper.load(testNodes, flow);
      opened.at(-1)!.established();
      await helper.unload();
      const lc = lifecycles.at(-1)!;
      assert.equal(lc.state, "closed");
      assert.equal(opened.at(-1)!.active, false);
    }
    assert.equal(opened.length, 20);
  });

  it("shows the retry reason on every user when the connection drops", async () => {
    await helper.load(testNodes, flow);
    opened[0].established();
    opened[0].fail(new Error("ECONNRESET"));
    const last = statusSpy("u2").lastCall.args[0];
    assert.equal(last.fill, "red");
    assert.equal(last.shape, "ring");
    assert.match(last.text, /ECONNRESET \(retry in 1 s\)/);
    assert.equal(lifecycles[0].state, "waiting-to-retry");
  });

  it("logs a retry storm once, not once per retry", async () => {
    await helper.load(testNodes, flow);
    const lc = lifecycles[0];
    opened[0].established();
    for (let i = 0; i < 5; i++) {
      opened.at(-1)!.fail(new Error("ECONNREFUSED"));
      lc.reconnectNow();
    }
    const { warn } = helper.getNode("s1") as unknown as { warn: { callCount: number; args: unknown[][] } };
    const retries = warn.args.filter((a) => /ECONNREFUSED/.test(String(a[0])));
    assert.equal(retries.length, 1, JSON.stringify(warn.args));
  });

  it("keeps the shared connection when a partial deploy only restarts its only user", async () => {
    const single = [
      { id: "s1", type: "test-server" },
      { id: "u1", type: "test-user", server: "s1", name: "before", wires: [] },
    ];
    await helper.load(testNodes, single);
    opened[0].established();
    await helper.setFlows([{ ...single[0] }, { ...single[1], name: "after" }], "nodes");
    assert.equal(helper.getNode("u1").name, "after", "the user node was restarted");
    assert.equal(opened.length, 1, "no new connection");
    assert.equal(lifecycles[0].state, "connected");
    assert.equal(opened[0].active, true);
  });

  it("closes the shared connection when its only user is deleted in a partial deploy", async () => {
    const single = [
      { id: "s1", type: "test-server" },
      { id: "u1", type: "test-user", server: "s1", wires: [] },
    ];
    await helper.load(testNodes, single);
    opened[0].established();
    await helper.setFlows([{ ...single[0] }], "nodes");
    assert.equal(lifecycles[0].state, "closed");
  });
});
