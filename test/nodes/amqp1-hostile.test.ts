import assert from "node:assert/strict";
import { once } from "node:events";
import helper from "node-red-node-test-helper";
import { startServer, stopServer } from "../support/test-server";
import { create_container, Sender } from "rhea";
import { nodeRedPath } from "../support/node-red-path";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import { CLACKS_NS, makeEvent } from "../../src/amqp";
import { deleteQueues, listQueues, RABBIT, RABBIT_URL, uniq } from "../unit/amqp/support/rabbit";
import { waitFor } from "../support/wait";

helper.init(nodeRedPath);

type Call = { args: any[]; thisValue: unknown };
const calls = (id: string, fn: "status" | "error" | "warn"): Call[] => {
  const n = helper.getNode(id);
  return (n as unknown as Record<string, { getCalls(): Call[] }>)[fn].getCalls().filter((c) => c.thisValue === n);
};
const texts = (id: string, fn: "status" | "error" | "warn"): string[] =>
  calls(id, fn).map((c) => (fn === "status" ? String(c.args[0]?.text) : String(c.args[0]?.message ?? c.args[0])));

const deep = (levels: number): string => `<Event xmlns="${CLACKS_NS}"><Deep>${"<a>".repeat(levels - 2)}x${"</a>".repeat(levels - 2)}</Deep></Event>`;
const creds = { br: { username: RABBIT.username, password: RABBIT.password } };
const broker = { id: "br", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 };

describe("amqp1-events against hostile XML (Node-RED runtime, real RabbitMQ)", function () {
  this.timeout(30000);
  const queues: string[] = [];
  let queue: string;
  let pub: ReturnType<ReturnType<typeof create_container>["connect"]> | undefined;

  async function publisher(): Promise<Sender> {
    pub = create_container({ id: uniq("pub") }).connect({
      host: RABBIT.host,
      port: RABBIT.port,
      username: RABBIT.username,
      password: RABBIT.password,
      reconnect: false,
    });
    const s = pub.open_sender({ target: { address: `/amq/queue/${queue}` } });
    await once(s, "sendable");
    return s;
  }
  const messagesIn = async (q: string) => (await listQueues()).find((x) => x.name === q)?.messages ?? -1;

  before(() => startServer());
  after(async () => {
    await stopServer();
    await deleteQueues(queues.splice(0));
  });
  beforeEach(() => {
    queue = uniq("ietest-hostile-node");
    queues.push(queue);
  });
  afterEach(async () => {
    pub?.close();
    pub = undefined;
    await helper.unload();
  });

  async function deploy(extra: Record<string, unknown> = {}): Promise<{ got: Array<{ port: string; topic: string }> }> {
    await helper.load(
      [brokerNode, eventsNode],
      [
        broker,
        {
          id: "ev",
          type: "amqp1-events",
          broker: "br",
          address: `/queue/${queue}`,
          format: "xml-event",
          routing: "single",
          ack: "auto",
          credit: 10,
          outputs: 1,
          wires: [["a", "b"]],
          ...extra,
        },
        { id: "a", type: "helper" },
        { id: "b", type: "helper" },
      ] as never,
      creds,
    );
    const got: Array<{ port: string; topic: string }> = [];
    for (const id of ["a", "b"]) helper.getNode(id).on("input", (m: any) => got.push({ port: id, topic: m.topic }));
    await waitFor("connected", () => calls("ev", "status").some((c) => c.args[0]?.fill === "green"), 10000);
    return { got };
  }

  it("rejects the 3,000-deep event once as a counted drop, and the next event reaches both wires", async () => {
    const { got } = await deploy();
    const s = await publisher();
    s.send({ message_id: "deep", body: deep(3002) });
    s.send({ message_id: "ok", body: makeEvent({ PhoneStatus: { Status: "busy" } }).xml });
    await waitFor("the next event on both wires", () => got.length >= 2, 10000);
    assert.deepEqual(got.map((g) => g.port).sort(), ["a", "b"]);
    assert.ok(got.every((g) => g.topic === "PhoneStatus"));
    const errors = texts("ev", "error");
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0], /nests deeper than 64 levels/);
    await waitFor("the status count", () => texts("ev", "status").some((t) => /1 events, 1 dropped/.test(t)), 5000);
    assert.equal(await messagesIn(queue), 0, "rejected, not put back");
  });

  it("takes its depth from the editor setting and refuses a bad one", async () => {
    const { got } = await deploy({ maxDepth: 5 });
    const s = await publisher();
    s.send({ body: deep(6) });
    s.send({ body: deep(5) });
    await waitFor("the 5-level event", () => got.length >= 2, 10000);
    assert.match(texts("ev", "error")[0], /deeper than 5 levels/);
    await helper.unload();
    await helper.load(
      [brokerNode, eventsNode],
      [broker, { id: "ev", type: "amqp1-events", broker: "br", address: `/queue/${queue}`, maxDepth: 5000, wires: [[]] }] as never,
      creds,
    );
    assert.match(texts("ev", "error")[0], /maximum nesting depth must be a whole number from 2 to 1000/);
  });
});
