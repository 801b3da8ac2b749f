import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { readFrames } from "../unit/nso/term-support";
import { load, nextMsg, node } from "../support/nso-nodes";

/**
 * nso-events with "Names": the netconf-config-change event a real NSO 6.2.5 sent, replayed
 * byte for byte by the simulator, reaches the flow as NSO's own XML: the instance-identifier
 * as its prefixed path, the enumerations by name. The prefixes, list keys and labels come from
 * the simulator's schema over MAAPI (LOAD_ALL_NS), the tag names from its hash table.
 */
helper.init(nodeRedPath);

const NCN = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications";

function realFrame(trigger: string): Buffer {
  const f = readFrames().find((x) => x.name === "STREAM_EVENT" && x.subscriber === "streamnc" && x.trigger === trigger);
  assert.ok(f?.bytes, `no ${trigger} STREAM_EVENT frame in the capture`);
  return f.bytes;
}

describe("nso-events: stream names as NSO's XML", function () {
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

  it("renders the real cli-commit event with its target path and enumeration names", async () => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_STREAM_EVENT"], stream: "NETCONF", streamNames: true, wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    await sim.server.waitForSubscribers(1);
    const got = nextMsg(node("out"));
    assert.equal(sim.server.injectBytes(realFrame("cli-commit")), 1);
    const msg = await got;
    assert.equal(
      msg.payload.xml,
      `<netconf-config-change xmlns="${NCN}">` +
        "<changed-by><username>admin</username><session-id>0</session-id><source-host>127.0.0.1</source-host></changed-by>" +
        "<datastore>running</datastore>" +
        '<edit><target xmlns:ncs="http://tail-f.com/ns/ncs">/ncs:devices/ncs:global-settings/ncs:connect-timeout</target><operation>replace</operation></edit>' +
        "</netconf-config-change>",
    );
    const byName = new Map<string, any>(msg.payload.values.map((v: any) => [v.name, v]));
    assert.deepEqual(byName.get("operation").value, { type: "C_ENUM_VALUE", value: 1, label: "replace" });
    assert.equal(byName.get("target").value.path, "/ncs:devices/ncs:global-settings/ncs:connect-timeout");
    assert.equal(node("ev").warn.getCalls().length, 0);
  });
});
