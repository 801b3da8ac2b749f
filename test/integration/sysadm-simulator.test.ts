import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningSimulator } from "../../src/sim/types";
import {
  DEMO_PASSWORD,
  DEMO_USER,
  RawSysadmClient,
  RunningSysadmSimulator,
  startSysadmSimulator,
  sysadmSimulator,
  SysadmSimOptions,
} from "../../src/sim/sysadm";
import { certificateFingerprint } from "../../src/sysadm/tls";

// The simulator checked against what a real sysadm server does on the wire (docs/sysadm.md),
// with a bare ws client so nothing of our own client logic is involved.
describe("sysadm simulator: wire fidelity", () => {
  let sim: RunningSysadmSimulator | undefined;
  const clients: RawSysadmClient[] = [];

  async function start(o: SysadmSimOptions = {}): Promise<RunningSysadmSimulator> {
    sim = await startSysadmSimulator({ wssPort: null, reorder: "none", ...o });
    return sim;
  }
  async function connect(url = sim!.server.wsUrl!): Promise<RawSysadmClient> {
    const c = await RawSysadmClient.connect(url);
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sim?.close();
    sim = undefined;
  });

  it("answers identify before auth, compact with keys sorted", async () => {
    await start();
    const c = await connect();
    c.send({ namespace: "rpc", name: "identify", id: "i1", args: "" });
    assert.equal(await c.next(), '{"args":{"hostname":"sysadm-sim","type":"server"},"id":"i1","name":"response","namespace":"rpc"}');
  });

  it("refuses unauthenticated requests with a string-coded 401 and keeps the socket", async () => {
    await start();
    const c = await connect();
    c.send({ namespace: "rpc", name: "query", id: "q1", args: {} });
    assert.equal(await c.next(), '{"args":{"code":"401","message":"Unauthorized"},"id":"q1","name":"error","namespace":"error"}');
    c.send({ namespace: "rpc", name: "identify", id: "i2", args: {} });
    assert.match(await c.next(), /"id":"i2"/);
  });

  it("logs in with [token, 0] and a 20-character token; a wrong password is 401", async () => {
    await start();
    const c = await connect();
    const { reply } = await c.request("rpc", "auth", { username: "demo", password: "demo-password" });
    const args = reply.args as unknown[];
    assert.equal(args.length, 2);
    assert.match(String(args[0]), /^[A-Za-z0-9]{20}$/);
    assert.equal(args[1], 0);
    const bad = await c.request("rpc", "auth", { username: "demo", password: "nope" });
    assert.deepEqual(bad.reply.args, { code: "401", message: "Unauthorized" });
  });

  it("reads a numeric id as empty and names the reply after the request", async () => {
    await start();
    const c = await connect();
    c.send({ namespace: "rpc", name: "identify", id: 7, args: {} });
    const f = await c.nextJson();
    assert.equal(f.id, "");
    assert.equal(f.name, "identify");
  });

  it("echoes the first line of a non-JSON frame in front of a 400", async () => {
    await start();
    const c = await connect();
    c.send("not json at all");
    assert.equal(await c.next(), 'not json at all\n{"args":{"code":"400","message":"Bad Request"},"id":"","name":"error","namespace":"error"}');
    c.send('{"a":1}{"b":2}');
    assert.match(await c.next(), /^\{"args":\{"code":"400"/);
    c.send({ namespace: "", name: "x", id: "e1" });
    assert.match(await c.next(), /"code":"400".*"id":"e1"/);
  });

  it("subscribes per §4.1: snapshot before the reply, last valid type, {} for unknowns, 400s", async () => {
    const s = await start();
    s.server.systemState({ capacity: 50 });
    s.server.setCached("life-preserver", { class: "snapshot", message: "m", priority: "1 - Information" });
    const c = await connect();
    await c.login("demo", "demo-password");
    const r = await c.request("events", "subscribe", ["dispatcher", "life-preserver", "bogus"]);
    assert.deepEqual(r.reply.args, { subscribe: "life-preserver" });
    assert.deepEqual(
      r.before.map((f) => [f.name, f.id]),
      [["life-preserver", ""]],
    );
    const r2 = await c.request("events", "subscribe", "system-state");
    assert.deepEqual(
      r2.before.map((f) => f.name),
      ["system-state"],
    );
    assert.deepEqual((await c.request("events", "subscribe", ["nope"])).reply.args, {});
    assert.deepEqual((await c.request("events", "subscribe", [])).reply.args, { code: "400", message: "Bad Request" });
    assert.deepEqual((await c.request("events", "subscribe", 5)).reply.args, { code: "400", message: "Bad Request" });
    assert.deepEqual((await c.request("events", "watch", ["dispatcher"])).reply.args, { code: "400", message: "Bad Request" });
    const u = await c.request("events", "unsubscribe", ["system-state"]);
    assert.deepEqual(u.reply.args, { unsubscribe: "system-state" });
    assert.equal(s.server.subscribers("system-state"), 0);
  });

  it("does not duplicate live events on a duplicate subscription", async () => {
    const s = await start();
    const c = await connect();
    await c.login("demo", "demo-password");
    await c.request("events", "subscribe", ["dispatcher"]);
    await c.request("events", "subscribe", ["dispatcher"]);
    s.server.publish("dispatcher", { n: 1 });
    s.server.publish("dispatcher", { n: 2 });
    assert.deepEqual((await c.nextJson()).args, { n: 1 });
    assert.deepEqual((await c.nextJson()).args, { n: 2 });
  });

  it("shares tokens across sockets; auth_token with your own token kills it", async () => {
    await start();
    const a = await connect();
    const token = await a.login("demo", "demo-password");
    const b = await connect();
    assert.deepEqual((await b.request("rpc", "auth_token", { token })).reply.args, [token, 0]);
    assert.deepEqual((await b.request("rpc", "auth_token", { token })).reply.args, { code: "401", message: "Unauthorized" });
    assert.deepEqual((await a.request("rpc", "query", {})).reply.args, { code: "401", message: "Unauthorized" });
  });

  it("auth_clear gets no reply, ends the token server-wide, but events keep flowing", async () => {
    const s = await start();
    const a = await connect();
    const token = await a.login("demo", "demo-password");
    const b = await connect();
    await b.request("rpc", "auth_token", { token });
    await b.request("events", "subscribe", ["dispatcher"]);
    // auth_token on b first invalidated and then re-validated the same token: a still shares it.
    a.send({ namespace: "rpc", name: "auth_clear", id: "c1", args: {} });
    a.send({ namespace: "rpc", name: "identify", id: "i1", args: {} });
    assert.match(await a.next(), /"id":"i1"/); // nothing came back for c1
    assert.deepEqual((await b.request("rpc", "query", {})).reply.args, { code: "401", message: "Unauthorized" });
    s.server.publish("dispatcher", { still: "flowing" });
    assert.deepEqual((await b.nextJson()).args, { still: "flowing" });
  });

  it("closes an unauthenticated socket at the auth deadline with 1000", async () => {
    await start({ authDeadlineMs: 80 });
    const c = await connect();
    const closed = await c.closed;
    assert.deepEqual(closed, { code: 1000, reason: "" });
  });

  it("closes an idle socket; pings do not count as activity, requests do", async () => {
    const s = await start({ idleTimeoutMs: 200 });
    const busy = await connect();
    await busy.login("demo", "demo-password");
    const idle = await connect();
    await idle.login("demo", "demo-password");
    const pinger = setInterval(() => idle.ws.ping(), 30);
    const keep = setInterval(() => busy.send({ namespace: "rpc", name: "identify", id: "k", args: {} }), 60);
    const serverSide = once(s.server, "close");
    try {
      const closed = await idle.closed;
      await serverSide;
      assert.equal(closed.code, 1000);
      assert.equal(busy.ws.readyState, busy.ws.OPEN);
      assert.equal(s.server.connectionCount, 1);
    } finally {
      clearInterval(pinger);
      clearInterval(keep);
    }
  });

  it("expires tokens after their lifetime unless used (sliding)", async () => {
    await start({ tokenLifetimeMs: 150 });
    const c = await connect();
    await c.login("demo", "demo-password");
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 60));
      const args = (await c.request("rpc", "query", {})).reply.args as Record<string, string>;
      assert.equal(args["rpc/dispatcher"], "read/write", "token slid forward by the previous query");
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual((await c.request("rpc", "query", {})).reply.args, { code: "401", message: "Unauthorized" });
  });

  it("is strict about the empty token unless the legacy bug switch is on", async () => {
    for (const legacy of [false, true]) {
      const s = await start({ legacyEmptyToken: legacy });
      const other = await connect();
      await other.login("demo", "demo-password");
      const anon = await connect();
      const r = await anon.request("events", "subscribe", ["dispatcher"]);
      if (legacy) assert.deepEqual(r.reply.args, { subscribe: "dispatcher" });
      else assert.deepEqual(r.reply.args, { code: "401", message: "Unauthorized" });
      for (const c of clients.splice(0)) c.close();
      await s.close();
    }
  });

  it("answers pooled requests out of order (reverse mode), auth in order", async () => {
    await start({ reorder: "reverse" });
    const c = await connect();
    await c.login("demo", "demo-password");
    c.send({ namespace: "events", name: "subscribe", id: "s1", args: "dispatcher" });
    c.send({ namespace: "events", name: "subscribe", id: "s2", args: "system-state" });
    const ids = [(await c.nextJson()).id, (await c.nextJson()).id];
    assert.deepEqual(ids, ["s2", "s1"]);
  });

  it("runs rpc/dispatcher jobs: start event, then the finished log stopping at the first failure", async () => {
    await start();
    const c = await connect();
    await c.login("demo", "demo-password");
    await c.request("events", "subscribe", ["dispatcher"]);
    const { reply } = await c.request("rpc", "dispatcher", { action: "run", job2: ["echo one", "false", "echo never"] });
    assert.deepEqual(reply.args, { started: ["job2"] });
    assert.deepEqual((await c.nextJson()).args, { process_id: "job2", state: "running" });
    const done = (await c.nextJson()).args as Record<string, string>;
    assert.equal(done.state, "finished");
    assert.equal(done["echo one"], "one\n");
    assert.equal(done["return_codes/false"], "1");
    assert.equal("echo never" in done, false);
  });

  it('rpc/query answers each subsystem with the real server\'s access values, not "true"', async () => {
    await start({ users: { demo: "demo-password", op: "pw" }, operators: ["op"] });
    const c = await connect();
    await c.login("demo", "demo-password");
    const full = await c.request("rpc", "query", {});
    assert.equal(full.reply.name, "response");
    assert.deepEqual(full.reply.args, {
      "rpc/dispatcher": "read/write",
      "rpc/logs": "read/write",
      "sysadm/lifepreserver": "read/write",
      "sysadm/update": "read/write",
    });
    // Without full access (operator, not wheel) the server offers logs and the dispatcher read-only.
    const o = await connect();
    await o.login("op", "pw");
    assert.deepEqual((await o.request("rpc", "query", {})).reply.args, {
      "rpc/dispatcher": "read",
      "rpc/logs": "read",
      "sysadm/lifepreserver": "read/write",
      "sysadm/update": "read/write",
    });
  });

  it("refuses rpc/dispatcher run to an operator with a string 403", async () => {
    await start({ users: { op: "pw" }, operators: ["op"] });
    const c = await connect();
    await c.login("op", "pw");
    const { reply } = await c.request("rpc", "dispatcher", { action: "run", j: ["echo x"] });
    assert.deepEqual(reply.args, { code: "403", message: "Forbidden" });
    assert.deepEqual(Object.keys(reply).sort(), ["args", "id", "name", "namespace"]);
  });

  it("blacklists an IP after 5 failures when told to include loopback, closing later connections", async () => {
    const s = await start({ blacklistLoopback: true });
    const c = await connect();
    for (let i = 0; i < 5; i++) await c.request("rpc", "auth", { username: "demo", password: "bad" });
    assert.equal(s.server.isBlacklisted("127.0.0.1"), true);
    const late = await connect();
    assert.equal((await late.closed).code, 1000);
  });

  it("never blacklists loopback by default, like the real server", async () => {
    const s = await start();
    const c = await connect();
    for (let i = 0; i < 6; i++) await c.request("rpc", "auth", { username: "demo", password: "bad" });
    assert.equal(s.server.isBlacklisted("127.0.0.1"), false);
  });

  it("serves wss with a new certificate at every start and writes it for a tls-config node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysadm-sim-"));
    try {
      const certFile = join(dir, "wsserver.crt");
      const s = await start({ wssPort: 0, wsPort: null, certFile });
      const first = s.server.certificate!.fingerprint;
      assert.equal(certificateFingerprint(readFileSync(certFile, "utf8")), first);
      const c = await RawSysadmClient.connect(s.server.wssUrl!, { ca: readFileSync(certFile), rejectUnauthorized: true });
      clients.push(c);
      await c.login("demo", "demo-password");
      const url = s.server.wssUrl;
      await s.server.restart();
      assert.equal(s.server.wssUrl, url, "same port after restart");
      assert.notEqual(s.server.certificate!.fingerprint, first);
      assert.notEqual(certificateFingerprint(readFileSync(certFile, "utf8")), first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("generates the three event types on its own when asked", async () => {
    const s = await start({ generate: { dispatcherMs: 30, lifePreserverMs: 30, systemStateFirstMs: 10, systemStateMs: 30 } });
    const c = await connect();
    await c.login("demo", "demo-password");
    await c.request("events", "subscribe", ["dispatcher", "life-preserver", "system-state"]);
    const seen = new Set<unknown>();
    for (let i = 0; i < 200 && seen.size < 3; i++) seen.add((await c.nextJson()).name);
    assert.deepEqual([...seen].sort(), ["dispatcher", "life-preserver", "system-state"]);
    void s;
  });

  it("emits a close event the tests can await", async () => {
    const s = await start();
    const c = await connect();
    const closing = once(s.server, "close");
    c.ws.close(1000, "bye");
    const [info] = await closing;
    assert.deepEqual(info, { code: 1000, reason: "bye", by: "client" });
  });

  it("CLI entry: demo user, certificate file, generated events within a few seconds", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysadm-cli-"));
    let running: RunningSimulator | undefined;
    try {
      const certFile = join(dir, "c.crt");
      // Ports 0 here only because tests never bind fixed ports; the CLI default is 12150/12152.
      running = await sysadmSimulator.start({ "wss-port": "0", "ws-port": "0", "cert-file": certFile });
      assert.match(running.endpoints.wss, /^wss:\/\/127\.0\.0\.1:\d+ \(certificate SHA-256 [0-9A-F:]{95}\)$/);
      assert.match(running.endpoints.ws, /^ws:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(running.endpoints.certificate, certFile);
      const c = await RawSysadmClient.connect(running.endpoints.ws);
      clients.push(c);
      await c.login(DEMO_USER, DEMO_PASSWORD);
      await c.request("events", "subscribe", ["system-state"]);
      const f = await c.nextJson(5000);
      assert.equal(f.name, "system-state");
      await assert.rejects(sysadmSimulator.start({ reorder: "sideways" }), /--reorder/);
    } finally {
      await running?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
