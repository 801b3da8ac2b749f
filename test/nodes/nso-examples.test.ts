import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import helper from "node-red-node-test-helper";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import nsoServerNode = require("../../src/nodes/nso-server");
import nsoEventsNode = require("../../src/nodes/nso-events");
import nsoAckNode = require("../../src/nodes/nso-ack");
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { maskOf } from "../../src/nso/constants";
import { DEMO_DIFF } from "../../src/sim/nso/maapi";

helper.init(nodeRedPath);

/**
 * The shipped examples/nso-*.json, deployed as they are against the simulator (only the port is
 * pointed at the test's ephemeral one): each subscribes and, where it acks, NSO sees the ack.
 */
const core = requireCoreNode;
const NODES = [nsoServerNode, nsoEventsNode, nsoAckNode, core("common/21-debug.js"), core("common/90-comment.js"), core("function/15-change.js")];
const dir = join(__dirname, "..", "..", "examples");
// As the demo and the editor's import do: positioned nodes go on a tab, config nodes stay global.
const example = (file: string, port: number): object[] => [
  { id: "example-tab", type: "tab", label: file },
  ...(JSON.parse(readFileSync(join(dir, file), "utf8")) as Array<Record<string, unknown>>).map((n) =>
    n.type === "nso-server" ? { ...n, port } : n.x !== undefined ? { ...n, z: "example-tab" } : n,
  ),
];

describe("nso examples against the simulator", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startNsoSimulator({ port: 0 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("every nso node type appears in an example, and every example is a list with a comment node", () => {
    const files = readdirSync(dir).filter((f) => f.startsWith("nso-") && f.endsWith(".json"));
    const types = new Set<string>();
    for (const f of files) {
      const nodes = JSON.parse(readFileSync(join(dir, f), "utf8")) as Array<{ type: string }>;
      assert.ok(
        nodes.some((n) => n.type === "comment"),
        `${f} has a comment node`,
      );
      for (const n of nodes) types.add(n.type);
    }
    for (const t of ["nso-server", "nso-events", "nso-ack"]) assert.ok(types.has(t), `${t} is used in an example`);
  });

  const cases: Array<[string, string[], Record<string, unknown> | undefined]> = [
    ["nso-audit-log.json", ["NOTIF_AUDIT"], undefined],
    ["nso-commit-diff-ack.json", ["NOTIF_COMMIT_DIFF", "NOTIF_COMMIT_SIMPLE"], { type: "NOTIF_COMMIT_DIFF", diff: DEMO_DIFF }],
    ["nso-ha-sync.json", ["NOTIF_HA_INFO", "NOTIF_HA_INFO_SYNC"], { type: "NOTIF_HA_INFO", ha_type: 5 }],
    ["nso-netconf-stream.json", ["NOTIF_STREAM_EVENT"], undefined],
  ];
  for (const [file, types, blocking] of cases) {
    it(`${file} subscribes to ${types.join(" + ")}${blocking ? " and acks" : ""}`, async () => {
      await helper.load(NODES, example(file, sim.port) as never);
      const [sub] = await sim.server.waitForSubscribers(1);
      // The watchdog heartbeat of the nso-server node comes on top of the example's types.
      assert.equal(sub.mask, maskOf([...types, "NOTIF_HEARTBEAT"]));
      if (types.includes("NOTIF_STREAM_EVENT")) assert.equal(sub.stream?.name, "NETCONF");
      if (blocking) {
        const r = sim.server.inject(blocking as { type: string });
        assert.deepEqual(await r.done, ["acked"]);
      }
    });
  }
});
