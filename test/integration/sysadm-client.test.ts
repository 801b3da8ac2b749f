import assert from "node:assert/strict";
import { once } from "node:events";
import { WebSocketServer } from "ws";
import { wsText } from "../support/ws-text";
import type { AddressInfo } from "node:net";
import type { StateChange } from "../../src/core/lifecycle";
import { RunningSysadmSimulator, SimRequest, startSysadmSimulator, SysadmSimOptions } from "../../src/sim/sysadm";
import { SysadmClient, SysadmClientOptions, SysadmEvent, SysadmServerError } from "../../src/sysadm";

const FAST = { initialMs: 20, maxMs: 200, jitter: 0, holdoffMs: 1500 };

describe("sysadm client against the simulator", () => {
  let sim: RunningSysadmSimulator | undefined;
  const clients: SysadmClient[] = [];
  const servers: WebSocketServer[] = [];

  async function start(o: SysadmSimOptions = {}): Promise<RunningSysadmSimulator> {
    sim = await startSysadmSimulator({ reorder: "random", ...o });
    return sim;
  }
  function client(o: Partial<SysadmClientOptions> = {}): SysadmClient {
    const c = new SysadmClient({ url: sim!.server.wsUrl!, username: "demo", password: "demo-password", backoff: FAST, pingMs: 0, keepaliveMs: 0, ...o });
    clients.push(c);
    return c;
  }
  function until(c: SysadmClient, pred: (s: StateChange) => boolean): Promise<StateChange> {
    return new Promise((resolve) => {
      const on = (s: StateChange) => {
        if (pred(s)) {
          c.lifecycle.off("state", on);
          resolve(s);
        }
      };
      c.lifecycle.on("state", on);
    });
  }
  const connected = (c: SysadmClient) => until(c, (s) => s.state === "connected");
  function collect(c: SysadmClient): SysadmEvent[] {
    const out: SysadmEvent[] = [];
    c.on("event", (e) => out.push(e));
    return out;
  }
  async function nextEvent(c: SysadmClient): Promise<SysadmEvent> {
    const [e] = await once(c, "event", { signal: AbortSignal.timeout(3000) });
    return e as SysadmEvent;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    await sim?.close();
    sim = undefined;
  });

  it("logs in, subscribes, and delivers events with parsed priority and the snapshot marked", async () => {
    const s = await start();
    s.server.systemState({ capacity: 95 });
    const c = client();
    await c.setSubscriptions(["system-state", "life-preserver"]);
    const events = collect(c);
    c.start();
    await connected(c);
    s.server.lifePreserver("replication-failed");
    await nextEvent(c);
    assert.equal(events[0].name, "system-state");
    assert.equal(events[0].snapshot, true);
    assert.deepEqual(events[0].priority, { level: 6, category: "Critical" });
    assert.equal(events[1].name, "life-preserver");
    assert.equal(events[1].snapshot, false);
    assert.deepEqual(events[1].priority, { level: 7, category: "Critical" });
  });

  it("matches out-of-order replies by id and turns error envelopes into errors with code", async () => {
    await start({ reorder: "reverse", reorderMaxMs: 5 });
    const c = client();
    c.start();
    await connected(c);
    const [q, sub, bad] = await Promise.allSettled([
      c.request("rpc", "query", {}),
      c.request("events", "subscribe", ["dispatcher"]),
      c.request("rpc", "no-such-thing", {}),
    ]);
    assert.equal(q.status === "fulfilled" && (q.value as Record<string, string>)["rpc/dispatcher"], "read/write");
    assert.deepEqual(sub.status === "fulfilled" && sub.value, { subscribe: "dispatcher" });
    assert.ok(bad.status === "rejected" && bad.reason instanceof SysadmServerError);
    assert.equal(bad.reason.status, "404");
    assert.equal(bad.reason.code, "sysadm-404");
  });

  it("wrong password: clear error, then backs off so the server's blacklist never triggers", async () => {
    const s = await start({ blacklistLoopback: true });
    const c = client({ password: "wrong", backoff: { ...FAST, holdoffMs: 60_000 } });
    const retries: StateChange[] = [];
    c.lifecycle.on("state", (st) => st.state === "waiting-to-retry" && retries.push(st));
    c.start();
    await until(c, (st) => st.state === "waiting-to-retry" && (st.delayMs ?? 0) >= 60_000);
    assert.match(retries[0].reason!.message, /login refused for user "demo" \(401\)/);
    assert.equal((retries[0].reason as { code?: string }).code, "auth-rejected");
    assert.deepEqual(
      retries.slice(0, 2).map((r) => r.delayMs),
      [20, 40],
    );
    assert.equal(retries.length, 3);
    assert.equal(s.server.stats.authFailures, 3);
    assert.equal(s.server.isBlacklisted(), false);
  });

  it("resumes with auth_token after a dropped connection, resubscribes and announces the gap", async () => {
    const s = await start();
    s.server.systemState();
    const requests: SimRequest[] = [];
    s.server.on("request", (r) => requests.push(r));
    const c = client();
    await c.setSubscriptions(["system-state", "dispatcher"]);
    const events = collect(c);
    const gaps: unknown[] = [];
    c.on("gap", (g) => gaps.push(g));
    c.start();
    await connected(c);
    s.server.dropConnections();
    const again = await connected(c);
    assert.equal(again.reconnected, true);
    assert.equal(gaps.length, 1);
    const names = requests.map((r) => r.name);
    assert.deepEqual(names, ["auth", "subscribe", "auth_token", "subscribe"]);
    // The second snapshot is the same report: suppressed, not delivered twice.
    assert.equal(events.filter((e) => e.name === "system-state").length, 1);
    assert.equal(c.stats.duplicateSnapshots, 1);
    s.server.publish("dispatcher", { after: "reconnect" });
    assert.deepEqual((await nextEvent(c)).args, { after: "reconnect" });
  });

  it("after a server restart (tokens gone, new certificate) falls back to the password", async () => {
    const s = await start();
    const requests: string[] = [];
    s.server.on("request", (r) => requests.push(r.name));
    const warnings: string[] = [];
    const c = client({ url: s.server.wssUrl!, tls: { mode: "insecure" } });
    c.on("warning", (w) => warnings.push(w));
    await c.setSubscriptions(["dispatcher"]);
    c.start();
    await connected(c);
    await s.server.restart();
    await connected(c);
    assert.deepEqual(
      requests.filter((n) => n.startsWith("auth")),
      ["auth", "auth_token", "auth"],
    );
    assert.equal(warnings.filter((w) => /without verifying/.test(w)).length, 2);
    s.server.publish("dispatcher", { n: 1 });
    assert.deepEqual((await nextEvent(c)).args, { n: 1 });
  });

  it("a pinned fingerprint refuses the restarted server's new certificate, loudly", async () => {
    const s = await start();
    const c = client({ url: s.server.wssUrl!, tls: { mode: "fingerprint", fingerprint: s.server.certificate!.fingerprint } });
    const requests: string[] = [];
    c.start();
    await connected(c);
    await s.server.restart();
    s.server.on("request", (r) => requests.push(r.name));
    const st = await until(c, (x) => x.state === "waiting-to-retry" && /fingerprint/.test(x.reason?.message ?? ""));
    assert.equal((st.reason as { code?: string }).code, "fingerprint-mismatch");
    assert.deepEqual(requests, [], "no credential sent to an unpinned server");
  });

  it("verifies the certificate by default: an untrusted self-signed server gets a clear error", async () => {
    const s = await start();
    const c = client({ url: s.server.wssUrl! });
    c.start();
    const st = await until(c, (x) => x.state === "waiting-to-retry");
    assert.match(st.reason!.message, /not trusted|self.signed/i);
    const ok = client({ url: s.server.wssUrl!, tls: { mode: "verify", base: { ca: s.server.certificate!.certPem } } });
    ok.start();
    await connected(ok);
  });

  it("keeps the token alive with rpc/query; re-logs in on the same socket when it died", async () => {
    const s = await start({ tokenLifetimeMs: 400, idleTimeoutMs: 400 });
    const requests: string[] = [];
    s.server.on("request", (r) => requests.push(r.name));
    const c = client({ keepaliveMs: 100 });
    const warnings: string[] = [];
    c.on("warning", (w) => warnings.push(w));
    const states: string[] = [];
    await c.setSubscriptions(["dispatcher"]);
    c.start();
    await connected(c);
    c.lifecycle.on("state", (x) => states.push(x.state));
    // Well past both the token lifetime and the idle limit: still the same connection.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(states, []);
    assert.ok(requests.filter((n) => n === "query").length >= 5);
    s.server.expireTokens();
    await new Promise<void>((resolve) => c.once("authenticated", () => resolve()));
    assert.match(warnings[0], /no longer valid; logging in again/);
    assert.deepEqual(states, []);
    s.server.publish("dispatcher", { ok: true });
    assert.deepEqual((await nextEvent(c)).args, { ok: true });
  });

  it("without keep-alive the server's idle close is survived: reconnect, resubscribe, gap", async () => {
    const s = await start({ idleTimeoutMs: 150 });
    const c = client({ keepaliveMs: 0 });
    await c.setSubscriptions(["dispatcher"]);
    c.start();
    await connected(c);
    const gap = once(c, "gap");
    const again = await connected(c);
    assert.equal(again.reconnected, true);
    const [g] = (await gap) as [{ reason: string }];
    assert.match(g.reason, /code 1000/);
    assert.equal(s.server.subscribers("dispatcher"), 1);
  });

  it("drops malformed and hostile frames, counts them, and keeps the connection", async () => {
    const s = await start({ reorder: "none" });
    const c = client({ limits: { maxFrameBytes: 2048, maxDepth: 16 } });
    await c.setSubscriptions(["dispatcher"]);
    const drops: string[] = [];
    c.on("drop", (e) => drops.push(e.code));
    const states: string[] = [];
    c.start();
    await connected(c);
    c.lifecycle.on("state", (x) => states.push(x.state));
    s.server.sendRaw("garbage");
    s.server.sendRaw("{not json");
    s.server.sendRaw(JSON.stringify({ namespace: "events", name: "dispatcher", id: "", args: { big: "x".repeat(3000) } }));
    s.server.sendRaw(`{"namespace":"events","name":"dispatcher","id":"","args":${"[".repeat(40)}${"]".repeat(40)}}`);
    s.server.sendRaw('{"namespace":"rpc","name":"response","id":"never-asked","args":{}}');
    s.server.sendRaw('{"namespace":"error","name":"error","id":"","args":{"code":"400","message":"Bad Request"}}');
    s.server.sendRaw("[1,2,3]");
    s.server.sendRaw(Buffer.from([0xff, 0xfe, 0x00]), true);
    s.server.sendRaw('{"namespace":"events","name":"dispatcher","id":"","args":{"__proto__":{"x":1}}}');
    const events = collect(c);
    const after = new Promise<void>((resolve) => c.on("event", (e) => (e.args as Record<string, unknown>).after && resolve()));
    s.server.publish("dispatcher", { after: "garbage" });
    await after;
    assert.equal(events.length, 2, "the __proto__ event is data, delivered as is");
    assert.deepEqual(events[1].args, { after: "garbage" });
    assert.deepEqual(drops, ["not-json", "bad-json", "frame-too-large", "too-deep", "unknown-id", "uncorrelated-error", "not-json", "not-json"]);
    assert.equal(c.drops.total, 8);
    assert.deepEqual(states, []);
  });

  it("a frame beyond the hard limit (4x) costs the connection, then it comes back", async () => {
    const s = await start();
    const c = client({ limits: { maxFrameBytes: 1024 } });
    await c.setSubscriptions(["dispatcher"]);
    c.start();
    await connected(c);
    s.server.sendRaw("x".repeat(10_000));
    const st = await until(c, (x) => x.state === "waiting-to-retry");
    assert.match(st.reason!.message, /hard size limit|1009/);
    await connected(c);
  });

  it("delivers a flood of 20000 events in order", async () => {
    const s = await start();
    const c = client();
    await c.setSubscriptions(["dispatcher"]);
    c.start();
    await connected(c);
    let n = 0;
    const done = new Promise<void>((resolve) =>
      c.on("event", () => {
        if (++n === 20000) resolve();
      }),
    );
    await s.server.flood(20000, "dispatcher");
    await done;
    assert.equal(n, 20000);
    assert.equal(c.drops.total, 0);
  });

  it("changes subscriptions at run time and rejects unknown event types", async () => {
    const s = await start({ reorder: "none" });
    const c = client();
    await c.setSubscriptions(["dispatcher"]);
    c.start();
    await connected(c);
    await c.setSubscriptions(["life-preserver"]);
    assert.equal(s.server.subscribers("dispatcher"), 0);
    assert.equal(s.server.subscribers("life-preserver"), 1);
    await assert.rejects(c.setSubscriptions(["life_preserver"]), /unknown sysadm event type "life_preserver"/);
    assert.deepEqual(c.subscriptions, ["life-preserver"]);
  });

  it("never takes a reply without a [token, n] as a login (empty-token bug servers included)", async () => {
    // A server that says "response" to auth without a token, and lets everything else through.
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    servers.push(wss);
    await once(wss, "listening");
    wss.on("connection", (ws) =>
      ws.on("message", (d) => {
        const r = JSON.parse(wsText(d)) as { id: string; namespace: string };
        ws.send(JSON.stringify({ args: {}, id: r.id, name: "response", namespace: r.namespace }));
      }),
    );
    sim = undefined;
    const c = new SysadmClient({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, username: "u", password: "p", backoff: FAST, pingMs: 0 });
    clients.push(c);
    c.start();
    const st = await until(c, (x) => x.state === "waiting-to-retry");
    assert.match(st.reason!.message, /auth reply is not \[token, seconds\]/);
    assert.equal(c.connected, false);
  });

  it("detects a silent peer with pings and the liveness watchdog", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", autoPong: false });
    servers.push(wss);
    await once(wss, "listening");
    wss.on("connection", (ws) =>
      ws.on("message", (d) => {
        const r = JSON.parse(wsText(d)) as { id: string; namespace: string; name: string };
        ws.send(JSON.stringify({ args: r.name === "auth" ? ["tok", 0] : {}, id: r.id, name: "response", namespace: r.namespace }));
      }),
    );
    const c = new SysadmClient({
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      username: "u",
      password: "p",
      backoff: FAST,
      pingMs: 40,
      keepaliveMs: 0,
    });
    clients.push(c);
    c.start();
    await connected(c);
    const st = await until(c, (x) => x.state === "waiting-to-retry");
    assert.equal((st.reason as { code?: string }).code, "liveness-timeout");
  });

  it("applies a subscription change made while it was still logging in", async () => {
    const s = await start({ reorder: "none" });
    const c = client();
    await c.setSubscriptions(["dispatcher"]);
    c.start();
    // The handshake's subscribe is in flight: change the wish before it is answered.
    await new Promise<void>((resolve) => s.server.on("request", (r) => r.name === "subscribe" && resolve()));
    await c.setSubscriptions(["life-preserver"]);
    await connected(c);
    for (let i = 0; i < 200 && s.server.subscribers("life-preserver") === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(s.server.subscribers("life-preserver"), 1);
    assert.equal(s.server.subscribers("dispatcher"), 0);
  });

  it("rejects nonsense settings up front", () => {
    assert.throws(() => new SysadmClient({ url: "http://x", username: "u", password: "p" }), /must start with wss:\/\/ or ws:\/\//);
    assert.throws(() => new SysadmClient({ url: "wss://x" }), /username and password, or a token/);
    assert.throws(() => new SysadmClient({ url: "wss://x", token: "t", tls: { mode: "fingerprint", fingerprint: "12:34" } }), /64 hex digits/);
  });
});
