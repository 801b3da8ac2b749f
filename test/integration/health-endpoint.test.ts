import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { nodeRedDir, runtimeLabel } from "../support/node-red-path";
import { EmbeddedNodeRed, linkPackage, makeUserDir, startNodeRed } from "../support/nodered-embed";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";
import { waitFor } from "../support/wait";

// GET /infra-events/metrics and /infra-events/health on a real Node-RED with adminAuth set
// (docs/health.md): the routes ask for a login, a user with only the read permission may read
// them, the metrics parse as Prometheus text exposition (with a maintained parser), and their
// counters agree with the messages the flow received. The package is loaded from this working
// tree's build (npm test builds first), as a user's `npm install <folder>` would.

const parse = require("parse-prometheus-text-format") as (
  text: string,
) => Array<{ name: string; type: string; metrics: Array<{ value: string; labels?: Record<string, string> }> }>;
// Node-RED hashes adminAuth passwords with bcrypt; the runtime under test brings bcryptjs.

const bcrypt = require(require.resolve("bcryptjs", { paths: [nodeRedDir] })) as { hashSync(p: string, rounds: number): string };

const repoRoot = path.resolve(__dirname, "../..");
const PASSWORD = "health-test-password";

const AUDITS = 40;
const SESSIONS = 15;

/** nso-events -> a function node counting by topic (global context); GET /api/counts reads the counts. */
function flows(port: number): object[] {
  return [
    { id: "t1", type: "tab", label: "health" },
    { id: "srv", type: "nso-server", name: "sim", host: "127.0.0.1", port, heartbeat: 0 },
    { id: "ev", z: "t1", type: "nso-events", server: "srv", notifications: ["NOTIF_AUDIT", "NOTIF_USER_SESSION"], routing: "single", wires: [["count"]] },
    {
      id: "count",
      z: "t1",
      type: "function",
      func: "const c = global.get('counts') || {};\nc[msg.topic] = (c[msg.topic] || 0) + 1;\nglobal.set('counts', c);\nreturn null;",
      outputs: 1,
      wires: [[]],
    },
    { id: "in", z: "t1", type: "http in", url: "/counts", method: "get", wires: [["read"]] },
    { id: "read", z: "t1", type: "function", func: "msg.payload = global.get('counts') || {};\nreturn msg;", outputs: 1, wires: [["out"]] },
    { id: "out", z: "t1", type: "http response", wires: [] },
  ];
}

/** An access token as the editor gets one at login; `scope` must be within the user's permissions. */
async function token(base: string, username: string, scope: string): Promise<string> {
  const res = await fetch(`${base}auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: "node-red-admin", grant_type: "password", scope, username, password: PASSWORD }).toString(),
  });
  assert.equal(res.status, 200, `login as ${username}: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe(`GET /infra-events/metrics and /health with adminAuth (${runtimeLabel})`, function () {
  this.timeout(60000);
  let sim: RunningNsoSimulator;
  let nr: EmbeddedNodeRed | undefined;
  let userDir: string;

  before(async () => {
    if (!fs.existsSync(path.join(repoRoot, "dist", "plugins", "infra-events-health.js")))
      throw new Error("dist/plugins/infra-events-health.js missing: run `npm run build` first (npm test does)");
    sim = await startNsoSimulator({ port: 0 });
    userDir = makeUserDir("ie-health-");
    linkPackage(userDir, repoRoot);
    const hash = bcrypt.hashSync(PASSWORD, 8);
    nr = await startNodeRed({
      userDir,
      flows: flows(sim.port),
      settings: {
        adminAuth: {
          type: "credentials",
          users: [{ username: "viewer", password: hash, permissions: "read" }],
        },
      },
    });
    assert.equal(nr.flowState, "started", nr.output());
    await sim.server.waitForSubscribers(1);
    for (let i = 0; i < AUDITS; i++) sim.server.inject({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: `audit ${i}` });
    for (let i = 0; i < SESSIONS; i++)
      sim.server.inject({
        type: "NOTIF_USER_SESSION",
        session_type: 1,
        uinfo: { usid: 59, username: "admin", context: "cli", proto: 2, ip: "192.0.2.10", port: 52344 },
        database: 0,
      });
  });

  after(async function () {
    this.timeout(20000);
    await nr?.stop();
    await sim?.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  /** What the flow's function node counted, read through the flow's own HTTP endpoint. */
  const flowCounts = async (): Promise<Record<string, number>> => (await (await fetch(`${nr!.url}api/counts`)).json()) as Record<string, number>;

  it("asks for a login: no token, no figures", async () => {
    for (const p of ["infra-events/metrics", "infra-events/health"]) {
      const res = await fetch(`${nr!.url}${p}`);
      assert.equal(res.status, 401, `${p} without a token`);
    }
  });

  it("serves a user with only the read permission", async () => {
    const auth = { Authorization: `Bearer ${await token(nr!.url, "viewer", "read")}` };
    const res = await fetch(`${nr!.url}infra-events/health`, { headers: auth });
    assert.equal(res.status, 200);
    const health = (await res.json()) as { connections: Array<{ id: string; channel: string; state: string }> };
    assert.deepEqual(
      health.connections.map((c) => [c.id, c.channel]),
      [["srv", "nso"]],
    );
  });

  it("parses as Prometheus text exposition and agrees with what the flow received", async () => {
    let counts: Record<string, number> = {};
    let polls = 0;
    await waitFor(
      "every notification counted by the flow",
      () => {
        if (polls++ % 10 === 0) void flowCounts().then((c) => (counts = c));
        return (counts.NOTIF_AUDIT ?? 0) + (counts.NOTIF_USER_SESSION ?? 0) === AUDITS + SESSIONS;
      },
      20000,
    );
    const res = await fetch(`${nr!.url}infra-events/metrics`, { headers: { Authorization: `Bearer ${await token(nr!.url, "viewer", "read")}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain;.*\bversion=0\.0\.4\b/);
    const families = parse(await res.text());
    const sample = (name: string, labels: Record<string, string>) =>
      families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    const ours = { channel: "nso", node: "srv", server: `127.0.0.1:${sim.port}` };
    assert.equal(families.find((f) => f.name === "infra_events_events_total")?.type, "COUNTER");
    for (const type of ["NOTIF_AUDIT", "NOTIF_USER_SESSION"]) {
      assert.equal(Number(sample("infra_events_events_total", { ...ours, type })?.value), counts[type], `${type}: metrics vs flow`);
    }
    assert.equal(Number(sample("infra_events_connected", ours)?.value), 1);
    assert.equal(Number(sample("infra_events_gaps_total", ours)?.value), 0);
    assert.equal(Number(sample("infra_events_reconnects_total", ours)?.value), 0);
    assert.equal(Number(sample("infra_events_in_flight", ours)?.value), 0);
    assert.equal(Number(sample("infra_events_acks_pending", ours)?.value), 0);
  });
});
