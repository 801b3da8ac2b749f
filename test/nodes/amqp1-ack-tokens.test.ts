import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import helper from "node-red-node-test-helper";
import { startServer, stopServer } from "../support/test-server";
import { nodeRedPath } from "../support/node-red-path";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import sendNode from "../../src/nodes/amqp1-send";
import ackNode from "../../src/nodes/amqp1-ack";
import { cleanupNewQueues, queueNames, RABBIT, RABBIT_URL, uniq } from "../unit/amqp/support/rabbit";

/**
 * amqp1-ack against the real RabbitMQ (issue 10, item 1): a token kept in a flow across a full
 * redeploy must not settle the message the new connection holds under the same number; a token
 * of another channel is refused by kind. Both are errors a Catch node sees.
 */
helper.init(nodeRedPath);

type Call = { args: any[]; thisValue: unknown };
type Msg = { payload: any; ack?: any; amqp: any };
const NODES = [brokerNode, eventsNode, sendNode, ackNode];
const creds = { br: { username: RABBIT.username, password: RABBIT.password } };

function calls(id: string, fn: "status" | "error"): Call[] {
  const n = helper.getNode(id);
  return (n as unknown as Record<string, { getCalls(): Call[] }>)[fn].getCalls().filter((c) => c.thisValue === n);
}

/** The next message on helper node `id`. */
function next(id: string): Promise<Msg> {
  return new Promise((resolve) => helper.getNode(id).once("input", (m: unknown) => resolve(m as Msg)));
}

/** Feed `msg` to amqp1-ack; resolves with "settled <status text>" or "error <code> <message>". */
function settle(msg: object): Promise<string> {
  const errors = calls("ack", "error").length;
  const statuses = calls("ack", "status").length;
  const n = helper.getNode("ack") as unknown as EventEmitter & { receive(m: unknown): void };
  return new Promise<string>((resolve) => {
    const check = (): void => {
      const e = calls("ack", "error")[errors];
      const s = calls("ack", "status")
        .slice(statuses)
        .find((c) => c.args[0]?.fill === "green");
      if (!e && !s) return;
      n.removeListener("call:error", check);
      n.removeListener("call:status", check);
      // done(err) is Node-RED's node.error(err, msg): the message goes with it, for a Catch node.
      if (e) resolve(`error ${e.args[0]?.code} ${e.args[0]?.message ?? e.args[0]}${e.args[1] && typeof e.args[1] === "object" ? "" : " (no msg)"}`);
      else resolve(`settled ${s!.args[0].text}`);
    };
    n.on("call:error", check);
    n.on("call:status", check);
    n.receive(msg);
  });
}

describe("amqp1-ack: tokens that must not settle anything (RabbitMQ)", function () {
  this.timeout(30000);
  let queuesBefore: Set<string>;
  const queues: string[] = [];
  before(async () => {
    queuesBefore = await queueNames();
    await startServer();
  });
  after(async () => {
    await stopServer();
    await cleanupNewQueues(queuesBefore, queues.splice(0));
  });
  afterEach(() => helper.unload());

  it("a token kept across a full redeploy does not reject the message the new connection holds", async () => {
    const q = uniq("ietest.ackredeploy.");
    queues.push(q);
    const flow = [
      { id: "br", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 },
      { id: "ev", type: "amqp1-events", broker: "br", address: `/queue/${q}`, ack: "manual", credit: 5, outputs: 1, wires: [["out"]] },
      { id: "snd", type: "amqp1-send", broker: "br", address: `/amq/queue/${q}`, domain: "org.ietest", wires: [] },
      { id: "ack", type: "amqp1-ack", outcome: "msg", wires: [] },
      { id: "out", type: "helper" },
    ];
    await helper.load(NODES, flow, creds);
    const first = next("out");
    helper.getNode("snd").receive({ payload: { NodeStatus: { Id: "1" } } });
    const kept = JSON.parse(JSON.stringify((await first).ack));
    // A full deploy: the broker node, its connection and its registry are new; the unsettled
    // message comes back to the new link, held under the new connection's first token.
    const again = new Promise<Msg>((resolve) => {
      const attach = (): void => void next("out").then(resolve);
      helper.setFlows(flow as never, "full", creds as never).then(attach, () => undefined);
    });
    const redelivered = await again;
    assert.equal(redelivered.amqp.redelivered, true);
    assert.match(await settle({ ack: kept, outcome: "reject" }), /^error ack-connection-gone .*earlier connection/);
    // Had the kept token rejected it, the message's own token would now be "already used".
    assert.match(await settle({ ack: redelivered.ack, outcome: "accept" }), /^settled accept/);
  });

  it("a token of another kind (an NSO diff token) is refused by kind, naming the node that settles it", async () => {
    const q = uniq("ietest.ackkind.");
    queues.push(q);
    await helper.load(
      NODES,
      [
        { id: "br", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 },
        { id: "ev", type: "amqp1-events", broker: "br", address: `/queue/${q}`, ack: "manual", credit: 5, outputs: 1, wires: [["out"]] },
        { id: "snd", type: "amqp1-send", broker: "br", address: `/amq/queue/${q}`, domain: "org.ietest", wires: [] },
        { id: "ack", type: "amqp1-ack", outcome: "accept", wires: [] },
        { id: "out", type: "helper" },
      ] as never,
      creds,
    );
    const got = next("out");
    helper.getNode("snd").receive({ payload: { NodeStatus: { Id: "2" } } });
    const m = await got;
    assert.match(await settle({ ack: { ...m.ack, kind: "diff" } }), /^error ack-wrong-kind .*nso-ack/);
    assert.match(await settle({ ack: m.ack }), /^settled accept/);
  });
});
