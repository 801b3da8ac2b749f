import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath, requireCoreNode } from "../support/node-red-path";
import { waitFor } from "../support/wait";
import amqpBroker from "../../src/nodes/amqp1-broker";
import amqpEvents from "../../src/nodes/amqp1-events";
import apicController from "../../src/nodes/apic-controller";
import apicEvents from "../../src/nodes/apic-events";
import sysadmServer from "../../src/nodes/sysadm-server";
import sysadmEvents from "../../src/nodes/sysadm-events";
import nsoServer = require("../../src/nodes/nso-server");
import nsoEvents = require("../../src/nodes/nso-events");
import { startApicSimulator, StartedApicSimulator } from "../../src/sim/apic";
import { RunningSysadmSimulator, startSysadmSimulator } from "../../src/sim/sysadm";

const tlsConfig = requireCoreNode("network/05-tls.js");
helper.init(nodeRedPath);

type Call = { args: unknown[] };
type Spy = { getCalls(): Call[] };

/**
 * Everything the runtime was shown: every node's log/warn/error/status/send arguments (the
 * helper spies on Node.prototype, so one flow node's spies see all nodes' calls, config nodes'
 * too) and the runtime log.
 * Errors are written out with message and stack; messages as JSON.
 */
function everythingShown(anyNodeId: string): string {
  // From the prototype: a node may wrap its own send (flow control) on the instance.
  const n = Object.getPrototypeOf(helper.getNode(anyNodeId)) as Record<string, Partial<Spy>>;
  const calls = ["log", "warn", "error", "status", "send", "debug", "trace"].flatMap((fn) => {
    const spy = n[fn];
    if (typeof spy.getCalls !== "function") throw new Error(`${fn} is not spied on ${anyNodeId}`);
    return spy.getCalls();
  });
  calls.push(...(helper.log() as unknown as Spy).getCalls());
  return calls.map((c) => JSON.stringify(c.args, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))).join("\n");
}

function assertHidden(anyNodeId: string, secrets: string[]): void {
  const shown = everythingShown(anyNodeId);
  assert.ok(shown.length > 0);
  for (const s of secrets)
    assert.ok(
      !shown.includes(s),
      `"${s}" was shown:\n${shown
        .split("\n")
        .filter((l) => l.includes(s))
        .join("\n")}`,
    );
}

function warnings(id: string, match: RegExp): string[] {
  const n = helper.getNode(id) as unknown as { warn: Spy };
  return n.warn
    .getCalls()
    .filter((c) => (c as unknown as { thisValue: unknown }).thisValue === n)
    .map((c) => String(c.args[0]))
    .filter((t) => match.test(t));
}

const unverifiedTls = {
  id: "tls",
  type: "tls-config",
  cert: "",
  key: "",
  ca: "",
  certname: "",
  keyname: "",
  caname: "",
  servername: "",
  verifyservercert: false,
};
const TLS_OFF = /TLS certificate verification is off/;

describe("a password written into a URL never reaches a log line, a status or a message", function () {
  this.timeout(20000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  describe("amqp1-broker", () => {
    const events = { id: "ev", type: "amqp1-events", broker: "br", address: "/exchange/amq.topic/x.#", wires: [[]] };
    for (const [urls, secrets] of [
      ["amqp://admin:s3cr@t-pw@127.0.0.1:5672", ["s3cr", "t-pw"]],
      ["amqp://127.0.0.1:5672,amqps://u:t0p:s3cret@[::1]:5671", ["t0p", "s3cret"]],
      ["amqp://u:p%40ss-w0rd@127.0.0.1", ["ss-w0rd"]],
    ] as const) {
      it(`${urls.replace(/:[^:@/]*@/, ":…@")}: refused, and said without the password (node, its users, their status)`, async () => {
        await helper.load([amqpBroker, amqpEvents] as never, [{ id: "br", type: "amqp1-broker", urls }, events] as never, {
          br: { username: "guest", password: "guest" },
        });
        await waitFor("the user's error status", () =>
          (helper.getNode("ev") as unknown as { status: Spy }).status.getCalls().some((c) => (c.args[0] as { fill?: string })?.fill === "red"),
        );
        assertHidden("ev", [...secrets]);
        assert.match(everythingShown("ev"), /put the user name and password in the credentials/);
      });
    }

    it("certificate verification off: one warning at deploy, however often it reconnects", async () => {
      await helper.load(
        [amqpBroker, amqpEvents, tlsConfig] as never,
        [unverifiedTls, { id: "br", type: "amqp1-broker", urls: "amqps://127.0.0.1:1", tls: "tls" }, events] as never,
      );
      const br = helper.getNode("br") as unknown as { amqp: { lifecycle: { on(e: string, f: (s: { state: string }) => void): void } } };
      let retries = 0;
      br.amqp.lifecycle.on("state", (s) => s.state === "waiting-to-retry" && retries++);
      await waitFor("two failed attempts", () => retries >= 2, 10000);
      assert.equal(warnings("br", TLS_OFF).length, 1);
    });
  });

  describe("apic-controller", () => {
    let sim: StartedApicSimulator;
    beforeEach(async () => {
      sim = await startApicSimulator();
    });
    afterEach(() => sim.close());

    it("msg.apic.controller, gap messages, logs and status carry the address without user:password@", async () => {
      const hosts = sim.url.replace("http://", "http://admin:pa@ss:Secr3t@");
      await helper.load(
        [apicController, apicEvents] as never,
        [
          { id: "ctl", type: "apic-controller", hosts, domain: "", tls: "", pingInterval: "1" },
          {
            id: "ev",
            type: "apic-events",
            controller: "ctl",
            routing: "single",
            classes: "",
            outputs: 1,
            subscriptions: [{ kind: "class", target: "fvTenant" }],
            wires: [["out"]],
          },
          { id: "out", type: "helper" },
        ] as never,
        { ctl: { username: "admin", password: "demo-password" } },
      );
      const got: Array<{ topic: string; apic?: { controller?: string }; payload?: { controller?: string } }> = [];
      (helper.getNode("out") as unknown as { on(e: string, f: (m: never) => void): void }).on("input", (m) => got.push(m));
      await waitFor("the snapshot", () => got.length >= 5, 8000);
      sim.sim.create("fvTenant", "uni/tn-secret-test", { name: "n1" });
      await waitFor("the change", () => got.some((m) => (m as { payload?: { name?: string } }).payload?.name === "n1"), 8000);
      sim.sim.killSockets("reset");
      await waitFor("the gap message", () => got.some((m) => m.topic === "gap"), 10000);
      assert.ok(
        got.every((m) => m.apic?.controller === undefined || m.apic.controller === sim.url),
        JSON.stringify(got.map((m) => m.apic)),
      );
      assert.equal(got.find((m) => m.topic === "gap")!.payload!.controller, sim.url);
      assertHidden("ev", ["pa@ss", "Secr3t", "pa%40ss"]);
      assert.equal(warnings("ctl", /holds a user name and password/).length, 1);
    });

    it("an address that is refused is reported without its password", async () => {
      await helper.load(
        [apicController, apicEvents] as never,
        [
          { id: "ctl", type: "apic-controller", hosts: "ftp://admin:Secr3t@apic", domain: "" },
          { id: "ev", type: "apic-events", controller: "ctl", routing: "single", subscriptions: [{ kind: "class", target: "fvTenant" }], wires: [[]] },
        ] as never,
      );
      await waitFor("the error", () => /not an http\(s\) address/.test(everythingShown("ev")));
      assertHidden("ev", ["Secr3t"]);
    });

    it("certificate verification off: one warning at deploy", async () => {
      await helper.load(
        [apicController, apicEvents, tlsConfig] as never,
        [
          unverifiedTls,
          { id: "ctl", type: "apic-controller", hosts: "https://127.0.0.1:1", domain: "", tls: "tls" },
          { id: "ev", type: "apic-events", controller: "ctl", routing: "single", subscriptions: [{ kind: "class", target: "fvTenant" }], wires: [[]] },
        ] as never,
        { ctl: { username: "admin", password: "x" } },
      );
      const ctl = helper.getNode("ctl") as unknown as { client: { lifecycle: { on(e: string, f: (s: { state: string }) => void): void } } };
      let retries = 0;
      ctl.client.lifecycle.on("state", (s) => s.state === "waiting-to-retry" && retries++);
      await waitFor("two failed attempts", () => retries >= 2, 15000);
      assert.equal(warnings("ctl", TLS_OFF).length, 1);
    });
  });

  describe("sysadm-server", () => {
    let sim: RunningSysadmSimulator | undefined;
    afterEach(async () => {
      await sim?.close();
      sim = undefined;
    });
    const events = { id: "e1", type: "sysadm-events", server: "s1", events: "dispatcher,life-preserver", routing: "single", outputs: 1, wires: [["h"]] };
    const creds = { s1: { username: "demo", password: "demo-password" } };

    it("msg.sysadm.server, logs and status carry the URL without user:password@", async () => {
      sim = await startSysadmSimulator({ reorder: "none" });
      const url = sim.server.wsUrl!.replace("ws://", "ws://admin:pa@ss:Secr3t@");
      await helper.load([sysadmServer, sysadmEvents] as never, [{ id: "s1", type: "sysadm-server", url }, events, { id: "h", type: "helper" }] as never, creds);
      const got: Array<{ sysadm?: { server?: string } }> = [];
      (helper.getNode("h") as unknown as { on(e: string, f: (m: never) => void): void }).on("input", (m) => got.push(m));
      const s = sim;
      await waitFor("subscribed", () => s.server.subscribers("life-preserver") > 0, 8000);
      s.server.lifePreserver("replication-failed");
      await waitFor("an event", () => got.length > 0, 8000);
      assert.equal(got[0].sysadm!.server, sim.server.wsUrl);
      assertHidden("e1", ["pa@ss", "Secr3t", "pa%40ss"]);
    });

    it("a refused URL is reported without its password, by the server node and its users", async () => {
      await helper.load(
        [sysadmServer, sysadmEvents] as never,
        [{ id: "s1", type: "sysadm-server", url: "http://admin:Secr3t@127.0.0.1:1" }, events, { id: "h", type: "helper" }] as never,
        creds,
      );
      await waitFor("the error status", () =>
        (helper.getNode("e1") as unknown as { status: Spy }).status.getCalls().some((c) => (c.args[0] as { fill?: string })?.fill === "red"),
      );
      assert.match(everythingShown("e1"), /must start with wss:\/\/ or ws:\/\//);
      assertHidden("e1", ["Secr3t"]);
    });

    it("'do not verify': one warning at deploy, not one per connect", async () => {
      sim = await startSysadmSimulator({ reorder: "none", wssPort: 0, wsPort: null });
      const s = sim;
      await helper.load(
        [sysadmServer, sysadmEvents] as never,
        [{ id: "s1", type: "sysadm-server", url: s.server.wssUrl, tlsMode: "insecure" }, events, { id: "h", type: "helper" }] as never,
        creds,
      );
      await waitFor("subscribed", () => s.server.subscribers("dispatcher") > 0, 8000);
      await s.server.restart();
      await waitFor("subscribed again", () => s.server.subscribers("dispatcher") > 0, 15000);
      assert.equal(warnings("s1", /verif/i).length, 1, JSON.stringify(warnings("s1", /./)));
      assert.equal(warnings("s1", TLS_OFF).length, 1);
    });
  });

  describe("nso-server", () => {
    it("a user:password@ typed into the host field stays out of logs, status and msg.nso.server", async () => {
      await helper.load(
        [nsoServer, nsoEvents] as never,
        [
          { id: "srv", type: "nso-server", host: "admin:Secr3t@127.0.0.1", port: 1, heartbeat: 0 },
          { id: "ev", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT"], routing: "single", autoAck: 0, wires: [[]] },
        ] as never,
      );
      const srv = helper.getNode("srv") as unknown as { endpoint: string; client?: { lifecycle: { on(e: string, f: (s: { state: string }) => void): void } } };
      assert.equal(srv.endpoint, "127.0.0.1:1");
      await waitFor("a failed attempt", () => /ENOTFOUND|EAI_AGAIN|getaddrinfo|lost/.test(everythingShown("ev")), 10000);
      assertHidden("ev", ["Secr3t"]);
    });
  });
});
