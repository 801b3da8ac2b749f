import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// The README's first command (`npm start`) as a newcomer runs it: Node-RED with the package,
// every example flow deployed and the simulators in-process. Within seconds, events from each
// simulated channel must reach the debug nodes of the example flows.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startDemo } = require("../../scripts/demo.js");

type Demo = { url: string; RED: any; stop(): Promise<void>; simulators: Array<{ name: string }>; amqpUp: boolean };

describe("integration/demo (npm start)", function () {
  this.timeout(60000);
  let demo: Demo | undefined;
  let userDir: string;
  const seen = new Map<string, number>();

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-events-demo-"));
    demo = (await startDemo({ port: 0, userDir, logLevel: "warn", log: () => {} })) as Demo;
    // Count the messages each of our input nodes sends into the flows, and what debug nodes get.
    demo.RED.hooks.add("postDeliver.infra-demo-test", (ev: any) => {
      const from = ev.source?.node?.type ?? "unknown";
      seen.set(from, (seen.get(from) ?? 0) + 1);
      if (ev.destination?.node?.type === "debug") seen.set("debug", (seen.get("debug") ?? 0) + 1);
    });
  });

  after(async () => {
    demo?.RED.hooks.remove("*.infra-demo-test");
    await demo?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("serves the editor", async () => {
    const res = await fetch(demo!.url);
    assert.equal(res.status, 200);
  });

  it("deploys every example flow without unknown node types", async () => {
    const flows = await (await fetch(`${demo!.url}flows`, { headers: { "Node-RED-API-Version": "v2" } })).json();
    const types = new Set((flows.flows as Array<{ type: string }>).map((n) => n.type));
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8"));
    for (const t of Object.keys(pkg["node-red"].nodes)) {
      if (t.endsWith("-server") || t.endsWith("-controller") || t.endsWith("-broker")) continue;
      assert.ok(types.has(t), `no example flow uses ${t}`);
    }
    const known = new Set(demo!.RED.nodes.getNodeList().flatMap((s: { types: string[] }) => s.types));
    for (const t of types) if (t !== "tab") assert.ok(known.has(t), `example uses unknown type ${t}`);
  });

  it("shows live events from every simulated channel in the debug sidebar within seconds", async () => {
    const want = ["debug", ...demo!.simulators.map((s) => `${s.name}-events`)];
    if (demo!.amqpUp) want.push("amqp1-events");
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && !want.every((t) => (seen.get(t) ?? 0) > 0)) {
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const t of want) assert.ok((seen.get(t) ?? 0) > 0, `no ${t} message in 30 s (seen: ${JSON.stringify(Object.fromEntries(seen))})`);
  });
});
