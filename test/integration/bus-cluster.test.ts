import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import path from "node:path";
import { NsoSimServer } from "../../src/sim/nso/server";
import { EmbeddedNodeRed, linkPackage, makeUserDir, startNodeRed } from "../support/nodered-embed";
import { declareQuorumQueue, queueDepths, RabbitCluster, startCluster } from "../support/rabbit-cluster";

/**
 * The event bus on real parts (issue 16, item 6): a three-node RabbitMQ cluster on loopback, two
 * ingest Node-REDs fed by one NSO simulator (every event goes on the bus twice), three worker
 * Node-REDs (a de-duplication stage on a single-active-consumer quorum queue, then competing
 * consumers on a quorum work queue, settled after the work). Mid-stream one broker node (the work
 * queue's leader) is stopped and one worker is killed. Every event must be processed at least
 * once, none lost; what is processed twice is bounded by what the failures had in hand.
 */
const ROOT = path.join(__dirname, "../..");
const N = 600;
const WORK_CREDIT = 5;
const DEDUP_CREDIT = 20;
const INTAKE = "iebus.intake";
const WORK = "iebus.work";

interface Rec {
  topic: string;
  eventId: string;
  logno: number;
  worker: string;
  redelivered: boolean;
}

function until(what: string, cond: () => boolean | Promise<boolean>, ms: number, every = 250): Promise<void> {
  const deadline = Date.now() + ms;
  return (async () => {
    while (Date.now() < deadline) {
      if (await cond()) return;
      await new Promise((r) => setTimeout(r, every));
    }
    throw new Error(`timed out after ${ms} ms: ${what}`);
  })();
}

function brokerNode(id: string, urls: string) {
  return { id, type: "amqp1-broker", name: "cluster", urls, vhost: "", sasl: "none", tls: "", containerId: "", idleTimeout: 10 };
}

function ingestFlow(name: string, nsoPort: number, urls: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: `ingest ${name}` },
    {
      id: "nso",
      type: "nso-server",
      name: "sim",
      host: "127.0.0.1",
      port: nsoPort,
      protoVsn: "auto",
      libVsn: "",
      accessCheck: "none",
      secretFile: "",
      heartbeat: 10,
      maxFrameSize: 16777216,
    },
    brokerNode("br", urls),
    {
      id: "ev",
      type: "nso-events",
      z: "tab",
      server: "nso",
      notifications: ["NOTIF_AUDIT"],
      heartbeat: 10,
      healthCheck: 10,
      stream: "",
      routing: "single",
      ackMode: "sent",
      autoAck: 10,
      outputs: 1,
      x: 100,
      y: 100,
      wires: [["send"]],
    },
    { id: "send", type: "amqp1-send", z: "tab", broker: "br", address: `/amq/queue/${INTAKE}`, format: "bus", maxQueue: 10000, x: 300, y: 100, wires: [] },
  ];
}

function workerFlow(name: string, urls: string, collector: number): unknown[] {
  const post = (p: string) => ({
    method: "POST",
    ret: "txt",
    paytoqs: "ignore",
    url: `http://127.0.0.1:${collector}/${p}`,
    tls: "",
    persist: false,
    proxy: "",
    insecureHTTPParser: false,
    authType: "",
    senderr: false,
    headers: [],
  });
  return [
    { id: "tab", type: "tab", label: `worker ${name}` },
    brokerNode("br", urls),
    // 1. De-duplication stage: only one worker's is active (single active consumer).
    {
      id: "intake",
      type: "amqp1-events",
      z: "tab",
      broker: "br",
      address: `/amq/queue/${INTAKE}`,
      format: "xml-event",
      routing: "single",
      ack: "auto",
      credit: DEDUP_CREDIT,
      dedupSize: 100000,
      dedupAge: 600,
      outputs: 1,
      x: 100,
      y: 100,
      wires: [["fwd", "passedBody"]],
    },
    { id: "fwd", type: "amqp1-send", z: "tab", broker: "br", address: `/amq/queue/${WORK}`, format: "bus", maxQueue: 10000, x: 300, y: 100, wires: [] },
    {
      id: "passedBody",
      type: "function",
      z: "tab",
      func: `msg.payload = { eventId: msg.eventId, topic: msg.topic, worker: ${JSON.stringify(name)} }; return msg;`,
      outputs: 1,
      x: 300,
      y: 160,
      wires: [["passed"]],
    },
    { id: "passed", type: "http request", z: "tab", ...post("passed"), x: 500, y: 160, wires: [[]] },
    // 2. Work: competing consumers, settled after the work.
    {
      id: "work",
      type: "amqp1-events",
      z: "tab",
      broker: "br",
      address: `/amq/queue/${WORK}`,
      format: "xml-event",
      routing: "single",
      ack: "manual",
      credit: WORK_CREDIT,
      dedupSize: 100000,
      dedupAge: 600,
      outputs: 1,
      x: 100,
      y: 260,
      wires: [["job"]],
    },
    {
      id: "job",
      type: "function",
      z: "tab",
      // 5 ms of asynchronous work, then the record of it (the "ticket"), then the accept.
      func: `const rec = { topic: msg.topic, eventId: msg.eventId, logno: msg.payload.logno, worker: ${JSON.stringify(name)}, redelivered: !!(msg.bus && msg.bus.redelivered) };\nsetTimeout(() => { msg.payload = rec; node.send(msg); node.done(); }, 5);\nreturn null;`,
      outputs: 1,
      x: 300,
      y: 260,
      wires: [["record"]],
    },
    { id: "record", type: "http request", z: "tab", ...post("done"), x: 500, y: 260, wires: [["ack"]] },
    { id: "ack", type: "amqp1-ack", z: "tab", outcome: "accept", x: 700, y: 260, wires: [] },
  ];
}

describe("integration/bus-cluster: three RabbitMQ nodes, two ingests, three workers", function () {
  this.timeout(300000);
  let cluster: RabbitCluster | undefined;
  let sim: NsoSimServer | undefined;
  let collector: http.Server | undefined;
  const reds: EmbeddedNodeRed[] = [];
  const dirs: string[] = [];
  const done: Rec[] = [];
  const passed: Array<{ eventId: string; worker: string; topic: string }> = [];

  async function red(flows: unknown[]): Promise<EmbeddedNodeRed> {
    const userDir = makeUserDir("ie-bus-red-");
    dirs.push(userDir);
    linkPackage(userDir, ROOT);
    const r = await startNodeRed({ userDir, flows, startTimeoutMs: 60000 });
    reds.push(r);
    assert.equal(r.flowState, "started", r.output());
    return r;
  }

  after(async () => {
    await Promise.all(
      reds.map((r) =>
        r.stop().catch(() => {
          try {
            process.kill(r.pid, "SIGKILL");
          } catch {
            // gone
          }
        }),
      ),
    );
    await sim?.close();
    await new Promise<void>((r) => (collector ? collector.close(() => r()) : r()));
    await cluster?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("processes every event at least once through a broker node stop and a worker kill; duplicates stay bounded", async () => {
    cluster = await startCluster(3);
    // The intake's leader on node 1, the work queue's on node 2: the node that will be stopped.
    await declareQuorumQueue(cluster, 0, INTAKE, true);
    await declareQuorumQueue(cluster, 1, WORK);

    collector = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const rec = JSON.parse(body) as Rec;
        if (req.url === "/done") done.push(rec);
        else passed.push(rec);
        res.end("ok");
      });
    });
    await new Promise<void>((r) => collector!.listen(0, "127.0.0.1", r));
    const cport = (collector.address() as AddressInfo).port;

    sim = new NsoSimServer({ host: "127.0.0.1", port: 0, maapi: false });
    const { port: nsoPort } = await sim.listen();

    // Workers on nodes 1, 2 and 3 first; the ingests on nodes 1 and 3 (their lists go on to the
    // others). w1 starts first, so its de-duplication stage is the active consumer of the intake:
    // the failures below hit the others (a failover of the stage itself is described in
    // docs/scale-out.md: its window starts empty).
    const workers = [await red(workerFlow("w1", cluster.urls(0), cport))];
    workers.push(...(await Promise.all(["w2", "w3"].map((w, i) => red(workerFlow(w, cluster!.urls(i + 1), cport))))));
    await red(ingestFlow("A", nsoPort, cluster.urls(0)));
    await red(ingestFlow("B", nsoPort, cluster.urls(2)));
    await until("both ingests subscribed to the simulator", () => sim!.subscribers().length >= 2, 30000);

    let failures: Promise<void> | undefined;
    const killed = workers[2];
    for (let i = 0; i < N; i++) {
      sim.inject({ type: "NOTIF_AUDIT", logno: i, usid: 7, user: "bus", msg: `bus event ${i}` });
      if (i === 200) {
        // Mid-stream: the work queue's leader node goes, and a worker dies with events in hand.
        failures = cluster.stopNode(1);
        process.kill(killed.pid, "SIGKILL");
      }
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 50));
    }
    await failures;

    // The ingests' own gap messages go on the bus too (an ingest may have missed events); only
    // the simulator's audit events are counted.
    const audits = () => done.filter((r) => r.topic === "NOTIF_AUDIT");
    const lognos = () => new Set(audits().map((r) => r.logno));
    await until(`all ${N} events processed (have ${lognos().size})`, () => lognos().size >= N, 180000, 500);
    // Settled everywhere: nothing left in either queue (node 1 answers; node 2 is down).
    await until(
      "both queues empty",
      async () => {
        const d = await queueDepths(cluster!, 0);
        return [INTAKE, WORK].every((q) => d[q] && d[q].ready === 0 && d[q].unacked === 0);
      },
      60000,
      1000,
    );

    const byId = new Map<string, Rec[]>();
    for (const r of audits()) byId.set(r.eventId, [...(byId.get(r.eventId) ?? []), r]);
    const twice = [...byId.values()].filter((rs) => rs.length > 1);
    const passedAudits = passed.filter((p) => p.topic === "NOTIF_AUDIT");
    const passedTwice = passedAudits.length - new Set(passedAudits.map((p) => p.eventId)).size;
    console.log(
      `      ${N} events, 2 ingests: ${2 * N} copies published; the de-duplication stage passed ${passed.length} (${passedTwice} twice), ` +
        `removed ${2 * N - passed.length} duplicates; processed ${done.length} times for ${byId.size} events; processed twice: ${twice.length} ` +
        `(${twice.map((rs) => `#${rs[0].logno} by ${rs.map((r) => `${r.worker}${r.redelivered ? "*" : ""}`).join("+")}`).join(", ") || "none"}; * = redelivered); ` +
        `other messages: ${JSON.stringify(done.filter((r) => r.topic !== "NOTIF_AUDIT").map((r) => r.topic))}`,
    );
    assert.equal(lognos().size, N, "every event processed at least once");
    assert.equal(byId.size, N, "one event id per event");
    for (const r of audits()) assert.ok(r.logno >= 0 && r.logno < N);
    // Processed twice only where a failure had it in hand: the killed worker's and the stopped
    // node's work consumers (credit each), and a de-duplication stage that lost its link (credit).
    assert.ok(twice.length <= 3 * WORK_CREDIT + DEDUP_CREDIT, `${twice.length} events processed twice`);
    // Exactly once after the window: every audit event left the de-duplication stage once, from
    // the one active stage.
    assert.equal(passedAudits.length, N, "each event passed the de-duplication window once");
    assert.equal(passedTwice, 0);
    assert.deepEqual([...new Set(passedAudits.map((p) => p.worker))], ["w1"], "one active de-duplication stage");
    const survivors = new Set(done.filter((r) => r.worker !== "w3").map((r) => r.worker));
    assert.ok(survivors.size >= 2, `both surviving workers shared the work (${[...survivors].join(", ")})`);
  });
});
