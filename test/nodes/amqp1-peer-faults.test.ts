import assert from "node:assert/strict";
import * as net from "node:net";
import helper from "node-red-node-test-helper";
import type { Sender } from "rhea";
import { nodeRedPath } from "../support/node-red-path";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import { makeEvent } from "../../src/amqp";
import { RheaPeer, until } from "../unit/amqp/support/rhea-peer";
import { waitOn } from "../support/wait";

helper.init(nodeRedPath);

type Call = { args: unknown[]; thisValue: unknown };
const NODES = [brokerNode, eventsNode];

function calls(id: string, fn: "status" | "error" | "warn"): Call[] {
  const n = helper.getNode(id);
  return (n as unknown as Record<string, { getCalls(): Call[] }>)[fn].getCalls().filter((c) => c.thisValue === n);
}
const texts = (id: string, fn: "error" | "warn"): string[] => calls(id, fn).map((c) => String((c.args[0] as Error)?.message ?? c.args[0]));
const statusTexts = (id: string): string[] => calls(id, "status").map((c) => String((c.args[0] as { text?: string })?.text ?? ""));
const until$ = (id: string, fn: "status" | "error" | "warn", check: () => boolean, what: string) => waitOn(helper.getNode(id), `call:${fn}`, check, what, 8000);

const broker = (urls: string) => ({ id: "br", type: "amqp1-broker", urls, vhost: "", sasl: "none", tls: "", containerId: "", idleTimeout: 60 });
const events = (extra: Record<string, unknown> = {}) => ({
  id: "ev",
  type: "amqp1-events",
  name: "work queue",
  broker: "br",
  address: "q",
  xquery: "",
  format: "xml-event",
  routing: "single",
  events: "",
  ack: "manual",
  credit: 2,
  outputs: 1,
  wires: [["out"]],
  ...extra,
});

describe("amqp1 nodes against peers that misbehave", function () {
  this.timeout(20000);
  const cleanups: Array<() => Promise<void>> = [];
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });

  it("a broker that speaks only AMQP 0-9-1: the broker's error and the user's status name the plugin to enable", async () => {
    // What RabbitMQ without rabbitmq_amqp1_0 does: answer any other header with its own, and close.
    const server = net.createServer((s) => s.once("data", () => s.end(Buffer.from("AMQP\x00\x00\x09\x01", "latin1"))));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as net.AddressInfo).port;
    await helper.load(NODES, [broker(`amqp://127.0.0.1:${port}`), events(), { id: "out", type: "helper" }] as never);
    await until$("br", "error", () => texts("br", "error").some((t) => t.includes("rabbitmq-plugins enable rabbitmq_amqp1_0")), "the broker's error");
    assert.deepEqual(
      texts("br", "error").filter((t) => /0-9-1/.test(t)),
      [`amqp1-broker amqp://127.0.0.1:${port}: the broker speaks only AMQP 0-9-1: enable its AMQP 1.0 plugin (rabbitmq-plugins enable rabbitmq_amqp1_0)`],
    );
    await until$("ev", "status", () => statusTexts("ev").some((t) => t.includes("rabbitmq_amqp1_0")), "the user's status");
    assert.ok(statusTexts("ev").includes("disconnected: AMQP 0-9-1 only: enable rabbitmq_amqp1_0"), JSON.stringify(statusTexts("ev")));
  });

  it("a broker that sends beyond the credit: amqp1-events warns with its name, emits every delivery, and rhea prints nothing", async () => {
    const peer = await RheaPeer.start();
    cleanups.push(() => peer.close());
    await helper.load(NODES, [broker(peer.url), events(), { id: "out", type: "helper" }] as never);
    const got: unknown[] = [];
    helper.getNode("out").on("input", (m: unknown) => got.push(m));
    await until(
      () => peer.sendersFor("q").length === 1 && (peer.sendersFor("q")[0] as unknown as { credit: number }).credit === 2,
      8000,
      "attach with credit 2",
    );
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
      original(...args);
    };
    try {
      const s = peer.sendersFor("q")[0] as Sender & { credit: number };
      // rhea's sender writes only while it has credit: lend it three more, as RabbitMQ 3.x oversends.
      s.credit += 3;
      for (let i = 0; i < 5; i++) s.send({ body: makeEvent({ PhoneStatus: { CallerId: String(i), ReceiverId: "1", Status: "busy" } }).xml });
      await until$("ev", "warn", () => texts("ev", "warn").some((t) => /beyond the credit/.test(t)), "the overrun warning");
      await until(() => got.length === 5, 8000, "all five deliveries");
    } finally {
      console.error = original;
    }
    assert.deepEqual(lines, []);
    // Reported once (then at 10, 100, …), on the node itself: Node-RED's log line carries its name.
    assert.deepEqual(
      texts("ev", "warn").filter((t) => /beyond the credit/.test(t)),
      ["amqp1-events q: the broker sent a delivery beyond the credit it was given (1 so far; processed as usual, nothing lost)"],
    );
  });
});
