import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import helper from "node-red-node-test-helper";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import sysadmServer from "../../src/nodes/sysadm-server";
import sysadmEvents from "../../src/nodes/sysadm-events";
import { DEFAULT_WS_PORT, DEMO_PASSWORD, DEMO_USER, RunningSysadmSimulator, startSysadmSimulator } from "../../src/sim/sysadm";

helper.init(nodeRedPath);

const core = requireCoreNode;
const coreNodes = [
  core("common/20-inject.js"),
  core("common/90-comment.js"),
  core("function/10-switch.js"),
  core("function/15-change.js"),
  core("function/10-function.js"),
];
const examplesDir = join(__dirname, "..", "..", "examples");

type Msg = { topic: string; payload: any; sysadm?: any };
type FlowNode = { id: string; type: string; url?: string; [k: string]: unknown };

/**
 * Load an example as shipped, except: the debug nodes become helper nodes (so the test sees
 * what they would show) and the server URL points at this test's ephemeral simulator port
 * instead of the demo's fixed one.
 */
async function loadExample(file: string, sim: RunningSysadmSimulator): Promise<Record<string, Msg[]>> {
  const flow = JSON.parse(readFileSync(join(examplesDir, file), "utf8")) as FlowNode[];
  const creds: Record<string, unknown> = {};
  const seen: Record<string, Msg[]> = {};
  for (const n of flow) {
    if (n.type === "debug") {
      n.type = "helper";
      seen[String(n.name)] = [];
    }
    if (n.type === "sysadm-server") {
      assert.equal(n.url, `ws://127.0.0.1:${DEFAULT_WS_PORT}`, "examples use the simulator's default plain port");
      n.url = sim.server.wsUrl;
      creds[n.id] = { username: DEMO_USER, password: DEMO_PASSWORD };
    }
  }
  await helper.load([sysadmServer, sysadmEvents, ...coreNodes], flow, creds);
  for (const n of flow) {
    if (n.type === "helper") {
      (helper.getNode(n.id) as unknown as { on(e: string, fn: (m: Msg) => void): void }).on("input", (m) => seen[String(n.name)].push(m));
    }
  }
  return seen;
}

describe("sysadm example flows against the simulator", () => {
  let sim: RunningSysadmSimulator | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim?.close();
    sim = undefined;
  });

  it("every example is valid, has a comment, and uses only core nodes besides ours", () => {
    const files = readdirSync(examplesDir).filter((f) => f.startsWith("sysadm-"));
    assert.ok(files.length >= 2);
    const allowed = new Set(["tab", "comment", "inject", "debug", "switch", "change", "function", "sysadm-server", "sysadm-events"]);
    const used = new Set<string>();
    for (const f of files) {
      const flow = JSON.parse(readFileSync(join(examplesDir, f), "utf8")) as FlowNode[];
      assert.ok(
        flow.some((n) => n.type === "comment"),
        `${f} has a comment node`,
      );
      for (const n of flow) {
        assert.ok(allowed.has(n.type), `${f}: ${n.type}`);
        used.add(n.type);
        assert.ok(!("credentials" in n) && !("password" in n) && !("username" in n), `${f}: no credentials in the flow`);
      }
    }
    assert.ok(used.has("sysadm-events"));
  });

  it("life-preserver alerts: a failed replication raises one alert; snapshots and info do not", async () => {
    sim = await startSysadmSimulator({ wssPort: null, reorder: "none" });
    // A cached failure: re-sent as the subscribe snapshot, which the flow must not alert again.
    sim.server.setCached("life-preserver", { class: "replication", message: "old failure", priority: "7 - Critical" });
    const seen = await loadExample("sysadm-life-preserver-alerts.json", sim);
    await waitFor("subscribed", () => sim!.server.subscribers("life-preserver") === 1);
    sim.server.lifePreserver("snapshot");
    sim.server.lifePreserver("replication-failed", "tank/Home");
    await waitFor("alert", () => seen.ALERT.length === 1);
    assert.match(seen.ALERT[0].payload, /^Critical \(7\): .*Replication Failed for tank\/home/);
    assert.equal(seen.ALERT[0].topic, "life-preserver alert");
    sim.server.lifePreserver("replication-finished");
    sim.server.lifePreserver("replication-failed");
    await waitFor("second alert", () => seen.ALERT.length === 2);
  });

  it("dispatcher jobs: each finished job is reported once; health on output 2; run-time unsubscribe", async () => {
    sim = await startSysadmSimulator({ wssPort: null, reorder: "none" });
    const seen = await loadExample("sysadm-dispatcher-jobs.json", sim);
    await waitFor("subscribed", () => sim!.server.subscribers("dispatcher") === 1 && sim!.server.subscribers("system-state") === 1);
    const pkgId = await sim.server.dispatcherJob("pkg", 1);
    await sim.server.dispatcherJob("generic", 1, ["echo one", "false"]);
    await waitFor("two finished jobs", () => seen["finished jobs"].length === 2);
    const [pkg, generic] = seen["finished jobs"].map((m) => m.payload);
    assert.equal(pkg.job, pkgId);
    assert.equal(pkg.system, "sysadm/pkg");
    assert.equal(pkg.ok, true);
    assert.equal(generic.ok, false);
    // The function node's objects come from its sandbox (another realm): compare as JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(generic.returnCodes)), { "echo one": "0", false: "1" });
    sim.server.systemState({ capacity: 95 });
    await waitFor("health", () => seen.health.length === 1);
    assert.equal(seen.health[0].sysadm.priority.level, 6);
    helper.getNode("5a5ad3f1c0a20002").receive({});
    await waitFor("unsubscribed", () => sim!.server.subscribers("system-state") === 0);
    assert.equal(sim.server.subscribers("dispatcher"), 1);
  });
});
