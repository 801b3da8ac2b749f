import { strict as assert } from "node:assert";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { load, node } from "../support/nso-nodes";
import { waitFor } from "../support/wait";

/**
 * A stream-only nso-events node across connection losses: what NSO replays reaches the flow
 * once, the break is announced as a gap filled by replay, and the flow sees the replay
 * completions it asked for, not those of the node's own resumes.
 */
helper.init(nodeRedPath);

type Msg = { topic: string; payload: Record<string, any> };

/** Resolves once the simulator has no subscriber left (the dropped socket is gone on its side). */
function noSubscribers(sim: RunningNsoSimulator): Promise<void> {
  if (sim.server.subscribers().length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (): void => {
      if (sim.server.subscribers().length === 0) {
        sim.server.off("closed", on);
        resolve();
      }
    };
    sim.server.on("closed", on);
  });
}

/** What the flow received, in order: "gap", the event's value text, or the completion's name. */
function summary(msgs: Msg[]): string[] {
  return msgs.map((m) => (m.topic === "gap" ? "gap" : m.payload.type === 1 ? String(m.payload.values[0].value) : String(m.payload.typeName)));
}

describe("nso-events: stream subscription resumes", function () {
  this.timeout(20000);
  let sim: RunningNsoSimulator;
  let got: Msg[];

  const start = async (events: Record<string, unknown>): Promise<void> => {
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port: sim.port, heartbeat: 0 },
      { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_STREAM_EVENT"], stream: "NETCONF", wires: [["out"]], ...events },
      { id: "out", type: "helper" },
    ]);
    got = [];
    node("out").on("input", (m: Msg) => got.push(m));
    await sim.server.waitForSubscribers(1);
  };

  /** Drop the connection, inject `values` while it is down, and wait for the resubscription. */
  const outage = async (...values: string[]): Promise<void> => {
    const back = new Promise<void>((resolve) => sim.server.once("subscribed", () => resolve()));
    sim.server.dropConnections();
    await noSubscribers(sim);
    for (const v of values) sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: [[1, 2, v]] });
    await back;
  };

  const live = async (v: string): Promise<void> => {
    sim.server.inject({ type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: [[1, 2, v]] });
    await waitFor(`live event ${v}`, () => summary(got).includes(v));
  };

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startNsoSimulator({ port: 0 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it("no event before the outage: the events made while down are replayed once, after a gap filled by replay", async () => {
    await start({});
    await outage("down-1", "down-2");
    await live("live");
    assert.deepEqual(summary(got), ["gap", "down-1", "down-2", "live"]);
    assert.equal(got[0].payload.filled, "replay");
    assert.equal(got[0].payload.streamResumed, true);
  });

  it("with a start time: one replay_complete, the one the user asked for; each outage is a gap filled by replay instead", async () => {
    await start({ startTime: new Date(Date.now() - 60_000).toISOString() });
    await waitFor("the replay the user asked for", () => got.length === 1);
    await outage("down-1");
    await live("live-1");
    await outage("down-2");
    await live("live-2");
    assert.deepEqual(summary(got), ["replay_complete", "gap", "down-1", "live-1", "gap", "down-2", "live-2"]);
    for (const g of got.filter((m) => m.topic === "gap")) assert.deepEqual([g.payload.filled, g.payload.streamResumed], ["replay", true]);
  });
});
