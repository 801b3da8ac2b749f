import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import helper from "node-red-node-test-helper";
import { startServer, stopServer } from "../support/test-server";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import brokerNode from "../../src/nodes/amqp1-broker";
import eventsNode from "../../src/nodes/amqp1-events";
import sendNode from "../../src/nodes/amqp1-send";
import ackNode from "../../src/nodes/amqp1-ack";
import { cleanupNewQueues, queueNames } from "../unit/amqp/support/rabbit";

helper.init(nodeRedPath);

const core = requireCoreNode;
const coreNodes = [core("common/20-inject.js"), core("common/90-comment.js"), core("common/25-catch.js"), core("function/89-delay.js")];
const examplesDir = join(__dirname, "..", "..", "examples");
const files = readdirSync(examplesDir)
  .filter((f) => /^amqp-.*\.json$/.test(f))
  .sort();

type Msg = { topic: string; payload: any; amqp: any; ack?: unknown };
type FlowNode = { id: string; type: string; name?: string; [k: string]: unknown };

describe("amqp examples run unchanged against the broker on 127.0.0.1:5672", function () {
  this.timeout(30000);
  let queuesBefore: Set<string>;
  before(async () => {
    queuesBefore = await queueNames();
    await startServer();
  });
  after(async () => {
    await stopServer();
    await cleanupNewQueues(queuesBefore, queuesBefore.has("infra-events.example.work") ? [] : ["infra-events.example.work"]);
  });
  afterEach(() => helper.unload());

  it("ships the three flows, each with a comment node, using only core nodes besides ours", () => {
    assert.deepEqual(files, ["amqp-manual-ack.json", "amqp-phonestatus.json", "amqp-routing.json"]);
    const ours = new Set(["amqp1-broker", "amqp1-events", "amqp1-send", "amqp1-ack"]);
    const allowed = new Set(["tab", "comment", "inject", "debug", "catch", "delay", ...ours]);
    const used = new Set<string>();
    for (const f of files) {
      const flow = JSON.parse(readFileSync(join(examplesDir, f), "utf8")) as FlowNode[];
      assert.ok(
        flow.some((n) => n.type === "comment"),
        `${f} has a comment node`,
      );
      for (const n of flow) {
        assert.ok(allowed.has(n.type), `${f}: ${n.type} is not a core node or ours`);
        used.add(n.type);
        if (n.type === "amqp1-broker") assert.equal(n.urls, "amqp://127.0.0.1:5672");
      }
    }
    for (const t of ["amqp1-events", "amqp1-send", "amqp1-ack"]) assert.ok(used.has(t), `${t} appears in an example`);
  });

  it("all three deliver live events: the seed's PhoneStatus, routing by name, manual ack after the slow step", async () => {
    const seen = new EventEmitter();
    const got: Record<string, Msg[]> = {};
    const flow: FlowNode[] = [];
    const fileOf = new Map<string, string>();
    for (const f of files) {
      for (const n of JSON.parse(readFileSync(join(examplesDir, f), "utf8")) as FlowNode[]) {
        fileOf.set(n.id, f);
        if (n.type === "debug") {
          n.type = "helper";
          got[`${f}:${n.name}`] = [];
        }
        flow.push(n);
      }
    }
    await helper.load([brokerNode, eventsNode, sendNode, ackNode, ...coreNodes], flow);
    for (const n of flow) {
      if (n.type !== "helper") continue;
      helper.getNode(n.id).on("input", (m: unknown) => {
        got[`${fileOf.get(n.id)}:${n.name}`].push(m as Msg);
        seen.emit("msg");
      });
    }
    const want = [
      "amqp-phonestatus.json:PhoneStatus events",
      "amqp-routing.json:PhoneStatus",
      "amqp-routing.json:NodeStatus",
      "amqp-routing.json:other events",
      "amqp-manual-ack.json:done",
    ];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`examples silent: ${JSON.stringify(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.length])))}`)),
        20000,
      );
      const check = () => {
        if (want.every((k) => got[k]?.length > 0)) {
          clearTimeout(timer);
          seen.off("msg", check);
          resolve();
        }
      };
      seen.on("msg", check);
    });
    const phone = got["amqp-phonestatus.json:PhoneStatus events"][0];
    assert.equal(phone.topic, "PhoneStatus");
    assert.deepEqual(phone.payload, { CallerId: "012345", ReceiverId: "12343424", Status: "busy" });
    assert.ok(got["amqp-routing.json:PhoneStatus"].every((m) => m.topic === "PhoneStatus"));
    assert.ok(got["amqp-routing.json:NodeStatus"].every((m) => m.topic === "NodeStatus"));
    assert.ok(got["amqp-routing.json:other events"].every((m) => m.topic === "ClientPoll"));
    assert.equal(got["amqp-phonestatus.json:errors"].length, 0, JSON.stringify(got["amqp-phonestatus.json:errors"]));
    // The ack node settled what passed the slow step, without errors.
    const ackId = flow.find((n) => n.type === "amqp1-ack")!.id;
    const ack = helper.getNode(ackId) as unknown as Record<string, { getCalls(): Array<{ thisValue: unknown; args: any[] }> }>;
    const mine = (fn: string) => ack[fn].getCalls().filter((c) => c.thisValue === ack);
    assert.equal(mine("error").length, 0, JSON.stringify(mine("error").map((c) => String(c.args[0]))));
    assert.ok(mine("status").some((c) => /^accept/.test(c.args[0]?.text ?? "")));
  });
});
