import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { EventEmitter } from "node:events";
import path from "node:path";
import { Backoff } from "../../src/core/backoff";
import { ApicError } from "../../src/apic/envelope";
import { Collector, Rig, states, untilState, waitOn } from "../unit/apic/helpers";
import { waitFor } from "../support/wait";
import { pingsForReleases } from "../support/ping-count";
import { FakeClock } from "../support/fake-clock";

const fast = (): Backoff => new Backoff({ initialMs: 30, maxMs: 300, jitter: 0 });
const fixtures = path.join(__dirname, "../unit/apic/fixtures");

describe("apic client against the simulator", function () {
  this.timeout(15000);
  const rig = new Rig();
  afterEach(() => rig.close());

  it("delivers the snapshot as sync, then created/modified/deleted in APIC's shapes", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url] });
    const col = new Collector();
    c.subscribe({ kind: "dn", target: "uni/tn-demo", options: "query-target=subtree&target-subtree-class=fvAEPg" }, col);
    c.start();
    await col.until((x) => x.events.length === 2, "EPG snapshot");
    assert.deepEqual(
      col.events.map((e) => [e.status, e.class, e.dn]),
      [
        ["sync", "fvAEPg", "uni/tn-demo/ap-web/epg-front"],
        ["sync", "fvAEPg", "uni/tn-demo/ap-web/epg-back"],
      ],
    );
    s.sim.create("fvAEPg", "uni/tn-demo/ap-web/epg-new", { name: "new" });
    s.sim.create("fvAEPg", "uni/tn-shop/ap-web/epg-other", { name: "other" }); // outside the DN: not delivered
    s.sim.create("fvAp", "uni/tn-demo/ap-x", { name: "x" }); // other class: not delivered
    s.sim.modify("uni/tn-demo/ap-web/epg-new", { descr: "hello" });
    s.sim.delete("uni/tn-demo/ap-web/epg-new");
    await col.until((x) => x.live().length === 3, "three live changes");
    const [cr, mo, de] = col.live();
    assert.equal(cr.status, "created");
    assert.equal(cr.attributes.name, "new");
    assert.equal(cr.attributes.pcEnfPref, "unenforced"); // created = the full object
    assert.deepEqual(Object.keys(mo.attributes).sort(), ["childAction", "descr", "dn", "modTs", "rn", "status"]);
    assert.equal(de.status, "deleted");
    assert.match(cr.subscriptionIds[0], /^\d{17}$/);
    assert.equal(typeof cr.subscriptionIds[0], "string");
    assert.ok(
      s.sim.requests.includes("GET /api/mo/uni/tn-demo.json?query-target=subtree&target-subtree-class=fvAEPg&subscription=yes"),
      s.sim.requests.join("\n"),
    );
  });

  it("sends filters to APIC byte for byte and opens /socket<token> with the raw token", async () => {
    const s = await rig.sim({ policy: { tokenStyle: "classic" } });
    const c = rig.client({ hosts: [s.url] });
    const col = new Collector();
    c.subscribe(
      { kind: "class", target: "fvTenant", options: 'query-target-filter=or(eq(fvTenant.name,"demo"),wcard(fvTenant.name,"^sh"))&order-by=fvTenant.dn|asc' },
      col,
    );
    c.start();
    await col.until((x) => x.events.length === 2, "filtered snapshot");
    assert.deepEqual(col.events.map((e) => e.dn).sort(), ["uni/tn-demo", "uni/tn-shop"]);
    assert.ok(
      s.sim.requests.includes(
        "GET /api/class/fvTenant.json?query-target-filter=or(eq(fvTenant.name,%22demo%22),wcard(fvTenant.name,%22^sh%22))&order-by=fvTenant.dn|asc&subscription=yes",
      ),
      s.sim.requests.join("\n"),
    );
    const upgrade = s.sim.requests.find((r) => r.startsWith("UPGRADE "))!;
    assert.match(upgrade, /^UPGRADE \/socket[A-Za-z0-9+/=]*[/+][A-Za-z0-9+/=]*$/);
  });

  it("delivers a frame listing several ids once per matching local subscription, ignores unknown ids", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url] });
    const a = new Collector();
    const b = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, a);
    c.subscribe({ kind: "dn", target: "uni/tn-demo" }, b);
    c.start();
    await b.until((x) => x.events.length === 1, "dn snapshot");
    s.sim.modify("uni/tn-demo", { descr: "x" });
    await a.until((x) => x.live().length === 1, "class sub event");
    await b.until((x) => x.live().length === 1, "dn sub event");
    assert.equal(a.live()[0].subscriptionIds.length, 2); // one frame, both ids
    s.sim.sendRaw('{"subscriptionId":["99999999999999999"],"imdata":[{"fvTenant":{"attributes":{"dn":"uni/tn-demo","status":"modified"}}}]}');
    s.sim.modify("uni/tn-demo", { descr: "y" });
    await a.until((x) => x.live().length === 2, "second event");
    assert.equal(b.live().length, 2);
    assert.equal(c.drops.count("unknown-subscription-id"), 1);
  });

  it("wrong password: a clear auth error, backoff instead of a retry storm", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], credentials: { username: "admin", password: "wrong" } });
    c.start();
    const st = await untilState(c, (x) => x.state === "waiting-to-retry", "login failure");
    assert.ok(st.reason instanceof ApicError && st.reason.kind === "auth", String(st.reason));
    assert.match(st.reason.message, /Username or password is incorrect/);
    assert.ok(st.delayMs! >= 500, `retry after ${st.delayMs} ms`);
    assert.equal(s.sim.stats.loginFailures, 1);
  });

  it("wrong password: backs off like sysadm, so a lockout policy of 5 failures in 5 minutes is never tripped", async () => {
    const s = await rig.sim();
    const clock = new FakeClock();
    const creds = { username: "admin", password: "wrong" };
    const c = rig.client({ hosts: [s.url], credentials: creds, clock });
    // Simulated time of each refused login, read off the simulator's own count.
    const failures: number[] = [];
    c.start();
    for (;;) {
      await untilState(c, (x) => x.state === "waiting-to-retry", `login failure ${failures.length + 1}`);
      failures.push(clock.now());
      assert.equal(s.sim.stats.loginFailures, failures.length);
      if (clock.now() >= 40 * 60_000) break;
      clock.advance(clock.nextDelay()!);
    }
    for (let i = 0; i + 4 < failures.length; i++) {
      assert.ok(failures[i + 4] - failures[i] > 5 * 60_000, `5 failed logins within ${(failures[i + 4] - failures[i]) / 1000} s: ${failures.join(", ")}`);
    }
    assert.ok(failures.length >= 5, `it keeps trying (${failures.length} logins in 40 simulated minutes)`);
    // Once the password is corrected, the next attempt logs in.
    creds.password = "demo-password";
    const up = untilState(c, (x) => x.state === "connected", "connected once the password is right");
    clock.advance(clock.nextDelay()!);
    await up;
  });

  it("logs into a login domain as apic:<domain>\\<user>", async () => {
    const s = await rig.sim({ users: { "apic:RADIUS\\ops": "pw" } });
    const c = rig.client({ hosts: [s.url], credentials: { username: "ops", password: "pw", domain: "RADIUS" } });
    c.start();
    await untilState(c, (x) => x.state === "connected", "connected");
  });

  it("refreshes the token at half its lifetime and adopts the new one, without a gap", async () => {
    const s = await rig.sim({ tokenTtlSeconds: 0.4 });
    const c = rig.client({ hosts: [s.url] });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    // Four refreshes = twice the token's lifetime: only adopting each new token keeps it alive.
    await until(s.sim, () => s.sim.stats.tokenRefreshes >= 4, "four token refreshes");
    s.sim.create("fvTenant", "uni/tn-after", {});
    await col.until((x) => x.live().length === 1, "event after refreshes");
    assert.equal(s.sim.stats.logins, 1);
    assert.equal(col.gaps.length, 0);
  });

  it("expired token mid-stream: logs in again, resubscribes, announces the gap, re-reads", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], backoff: fast() });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    s.sim.expireTokens();
    await col.until((x) => x.gaps.length === 1 && x.events.filter((e) => e.status === "sync").length === 10, "gap and re-read");
    assert.deepEqual(col.gaps[0].queries, ["/api/class/fvTenant.json"]);
    assert.match(col.gaps[0].reason, /socket closed/);
    assert.ok(col.gaps[0].since! <= col.gaps[0].until);
    // The gap comes before the re-read objects.
    const gapAt = col.events.length - 5;
    assert.ok(col.events.slice(gapAt).every((e) => e.status === "sync"));
    assert.equal(s.sim.stats.logins, 2);
    s.sim.create("fvTenant", "uni/tn-back", {});
    await col.until((x) => x.live().length === 1, "events flow again");
  });

  it("a failed aaaRefresh (403) while the socket looks fine: logs in again, gap, re-read", async () => {
    const s = await rig.sim({ tokenTtlSeconds: 1, policy: { closeSocketOnTokenExpiry: false } });
    const c = rig.client({ hosts: [s.url], backoff: fast() });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvAp" }, col);
    c.start();
    await col.until((x) => x.events.length === 2, "snapshot");
    s.sim.expireTokens(); // the session is gone server-side; its socket stays open and silent
    const st = await untilState(c, (x) => x.state === "waiting-to-retry", "refresh failure");
    assert.ok(st.reason instanceof ApicError && st.reason.kind === "token", String(st.reason));
    assert.match(st.reason.message, /aaaRefresh: Token was invalid \(Error: Token timeout\)/);
    await col.until((x) => x.gaps.length === 1 && x.events.length === 4, "gap and re-read");
    assert.equal(s.sim.stats.logins, 2);
  });

  it("a subscription that lapses is resubscribed alone, with a gap for that query only", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], refreshTimeoutSeconds: 1 });
    const a = new Collector();
    const b = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, a);
    c.subscribe({ kind: "class", target: "fvAp" }, b);
    c.start();
    await b.until((x) => x.events.length === 2, "snapshots");
    const idsBefore = s.sim.subscriptionIds();
    s.sim.lapseSubscriptions();
    await a.until((x) => x.gaps.length === 1, "gap on a", 4000);
    await b.until((x) => x.gaps.length === 1, "gap on b", 4000);
    assert.match(a.gaps[0].reason, /could not be refreshed/);
    assert.deepEqual(a.gaps[0].queries, ["/api/class/fvTenant.json"]);
    assert.equal(s.sim.stats.logins, 1, "the session itself was kept");
    const idsAfter = s.sim.subscriptionIds();
    assert.equal(idsAfter.length, 2);
    assert.ok(idsAfter.every((id) => !idsBefore.includes(id)));
    s.sim.create("fvAp", "uni/tn-demo/ap-z", {});
    await b.until((x) => x.live().length === 1, "events on the new id");
  });

  it("keeps subscriptions alive with subscriptionRefresh before refresh-timeout", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url] });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant", options: "refresh-timeout=1" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    await until(s.sim, () => s.sim.stats.subscriptionRefreshes >= 3, "three refreshes (1.5 s)", 4000);
    assert.equal(s.sim.stats.refreshFailures, 0);
    assert.equal(col.gaps.length, 0);
    assert.ok(s.sim.requests.includes(`GET /api/subscriptionRefresh.json?id=${s.sim.subscriptionIds()[0]}`));
  });

  it("detects a socket that dies without a close frame (half-open) by the missing pong", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], backoff: fast(), pingIntervalMs: 100 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    s.sim.killSockets("silent");
    const st = await untilState(c, (x) => x.state === "waiting-to-retry", "liveness timeout");
    assert.match(st.reason!.message, /silent/);
    await col.until((x) => x.gaps.length === 1 && x.events.length === 10, "recovered with gap + re-read");
  });

  it("objects re-read after a gap keep their children when the query asks for a subtree (rsp-subtree)", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], backoff: fast() });
    const col = new Collector();
    c.subscribe({ kind: "dn", target: "uni/tn-demo", options: "rsp-subtree=full" }, col);
    c.start();
    await col.until((x) => x.events.length === 1, "snapshot");
    const childRns = (e: { children?: unknown[] }) =>
      (e.children ?? []).map((ch) => Object.values(ch as Record<string, { attributes: { rn: string } }>)[0].attributes.rn).sort();
    assert.deepEqual(childRns(col.events[0]), ["BD-bd1", "ap-web"]);
    s.sim.killSockets("reset");
    await col.until((x) => x.gaps.length === 1 && x.events.length === 2, "re-read after the gap");
    const reread = col.events[1];
    assert.equal(reread.status, "sync");
    assert.deepEqual(childRns(reread), ["BD-bd1", "ap-web"]);
    const ap = (reread.children as Array<Record<string, { children?: unknown[] }>>).find((ch) => "fvAp" in ch)!.fvAp;
    assert.equal(ap.children?.length, 2, "rsp-subtree=full: the EPGs under the application profile too");
  });

  it("a TCP reset is a lost socket: reconnect, gap, re-read", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], backoff: fast() });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvAp" }, col);
    c.start();
    await col.until((x) => x.events.length === 2, "snapshot");
    s.sim.killSockets("reset");
    await col.until((x) => x.gaps.length === 1 && x.events.length === 4, "recovered");
  });

  it("fails over to the next controller when one stops answering, and back when needed", async () => {
    const s1 = await rig.sim();
    const s2 = await rig.sim();
    const c = rig.client({ hosts: [s1.url, s2.url], backoff: fast(), pingIntervalMs: 100, requestTimeoutMs: 300 });
    const col = new Collector();
    const hosts: string[] = [];
    c.on("session", (x) => hosts.push(x.host));
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot from s1");
    s1.sim.fail("hang");
    await col.until((x) => x.gaps.length === 1 && x.events.length === 10, "re-read on s2");
    assert.deepEqual(hosts, [s1.url, s2.url]);
    s2.sim.create("fvTenant", "uni/tn-on2", {});
    await col.until((x) => x.live().length === 1, "events from s2");
    s1.sim.fail(false);
    s2.sim.fail("error");
    await col.until((x) => x.gaps.length === 2 && x.events.length === 16, "back on s1", 6000);
    assert.deepEqual(hosts, [s1.url, s2.url, s1.url]);
  });

  it("treats 405 'unable to locate opened web socket' as a lost socket", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], backoff: fast(), pingIntervalMs: 0 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    s.sim.killSockets("silent"); // the server forgets the socket; the client cannot tell (no pings)
    const col2 = new Collector();
    c.subscribe({ kind: "class", target: "fvAp" }, col2);
    const st = await untilState(c, (x) => x.state === "waiting-to-retry", "405");
    assert.ok(st.reason instanceof ApicError && st.reason.kind === "no-socket", String(st.reason));
    await col2.until((x) => x.events.length === 2, "second subscription after re-login");
    await col.until((x) => x.gaps.length === 1 && x.events.length === 10, "first re-read");
  });

  it("counts and reports malformed, binary, XML and oversize frames, and keeps the connection", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], maxFrameBytes: 2000 });
    const col = new Collector();
    const reported: string[] = [];
    c.on("drop", (d) => d.first && reported.push(d.reason));
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    const id = s.sim.subscriptionIds()[0];
    const hostile = [
      "not json at all",
      '{"subscriptionId":',
      "[1,2,3]",
      '<?xml version="1.0"?><imdata subscriptionId="1"/>',
      `{"subscriptionId":["${id}"]}`,
      `{"subscriptionId":["${id}"],"imdata":[{"fvTenant":{"attributes":{"status":"created"}}},{"fvTenant":{"attributes":{"dn":"uni/tn-q","status":"bogus"}}}]}`,
      `{"subscriptionId":["${id}"],"imdata":[{"fvTenant":{"attributes":{"dn":"uni/tn-x","status":"created","descr":"${"x".repeat(3000)}"}}}]}`,
      `{"__proto__":{"polluted":true},"subscriptionId":["${id}"],"imdata":[{"__proto__":{"attributes":{"dn":"p","status":"created"}}}]}`,
    ];
    for (const h of hostile) s.sim.sendRaw(h);
    s.sim.sendRaw(Buffer.from([0, 1, 2]), true);
    s.sim.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])); // a text frame that is not UTF-8
    s.sim.create("fvTenant", "uni/tn-good", {});
    await col.until((x) => x.live().some((e) => e.dn === "uni/tn-good"), "good event after the garbage");
    assert.ok(c.drops.total >= 9, JSON.stringify(c.drops.snapshot()));
    for (const r of [
      "apic-bad-json",
      "apic-bad-frame",
      "apic-xml-frame",
      "apic-no-imdata",
      "item-without-dn",
      "unknown-status",
      "oversize-frame",
      "binary-frame",
    ]) {
      assert.ok(c.drops.count(r) >= 1, `${r}: ${JSON.stringify(c.drops.snapshot())}`);
      assert.ok(reported.includes(r), `${r} reported`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(s.sim.stats.logins, 1);
    assert.equal(c.lifecycle.state, "connected");
  });

  it("carries a flood of 10k changes in order without loss", async () => {
    const s = await rig.sim();
    // The simulator shares our event loop and blocks it while it queues 10k frames: a 1 s
    // test ping could see no pong in time. Production pings every 30 s.
    const c = rig.client({ hosts: [s.url], pingIntervalMs: 5000 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    for (let i = 0; i < 10000; i++) s.sim.create("fvTenant", `uni/tn-f${i}`, { name: `f${i}` });
    const t0 = Date.now();
    await col
      .until((x) => x.liveCount === 10000, "10k events", 12000)
      .catch((e) => {
        throw new Error(
          `${e.message}: got ${col.liveCount}, drops ${JSON.stringify(c.drops.snapshot())}, state ${c.lifecycle.state}, sim ${JSON.stringify(s.sim.liveStats())}`,
        );
      });
    console.log(`      (10k changes delivered in ${Date.now() - t0} ms)`);
    assert.ok(col.live().every((e, i) => e.dn === `uni/tn-f${i}`));
    assert.equal(c.drops.total, 0);
    assert.equal(s.sim.stats.logins, 1);
  });

  it("renews the session before its maximum lifetime without a gap: changes during the switch-over arrive once, the old session is logged out", async () => {
    // Session lifetime 2 s, renewal 1 s before it.
    const s = await rig.sim({ maxLifetimeSeconds: 2 });
    const c = rig.client({ hosts: [s.url], backoff: fast(), maxLifetimeMarginSeconds: 1 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvAp" }, col);
    let logins = 0;
    let subscribes = 0;
    s.sim.on("request", (line: string) => {
      // While the new session logs in, only the old socket can carry a change.
      if (line.startsWith("POST /api/aaaLogin.json") && ++logins === 2) s.sim.create("fvAp", "uni/tn-demo/ap-during-login", {});
    });
    s.sim.on("subscribed", () => {
      // The new subscription is live and its reply not sent yet: both sockets carry this change.
      if (++subscribes === 2) s.sim.create("fvAp", "uni/tn-demo/ap-during-switch", {});
    });
    c.start();
    await col.until((x) => x.live().length === 2, "the changes made during the renewal", 5000);
    await until(s.sim, () => s.sim.stats.logouts === 1, "old session logged out", 3000);
    assert.equal(c.stats.renewals, 1);
    assert.equal(s.sim.stats.logins, 2);
    assert.equal(s.sim.liveStats().sessions, 1, "only the new session is left");
    s.sim.create("fvAp", "uni/tn-demo/ap-after", {});
    await col.until((x) => x.live().length === 3, "a change on the new session");
    assert.equal(col.gaps.length, 0, "no gap");
    assert.equal(col.events.filter((e) => e.status === "sync").length, 2, "no re-read: only the first snapshot");
    assert.deepEqual(
      col
        .live()
        .map((e) => e.dn)
        .sort(),
      ["uni/tn-demo/ap-after", "uni/tn-demo/ap-during-login", "uni/tn-demo/ap-during-switch"],
    );
    assert.equal(c.stats.duplicates, 1, "the copy from the second socket was suppressed");
    assert.equal(c.lifecycle.state, "connected");
    assert.ok(c.subscriptions()[0].describe().subscriptionId !== null);
  });

  it("renews again and again: each session replaced in turn, no gap, changes keep flowing", async () => {
    const s = await rig.sim({ maxLifetimeSeconds: 0.6 });
    const c = rig.client({ hosts: [s.url], backoff: fast(), maxLifetimeMarginSeconds: 0.3 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    let n = 0;
    // Bounded: 3 renewals take about 1 s; a change every renewal.
    while (c.stats.renewals < 3 && n < 100) {
      s.sim.create("fvTenant", `uni/tn-r${n++}`, {});
      await col.until((x) => x.live().length === n, `change ${n}`);
      await new Promise<void>((r) => c.once("session", () => r()));
    }
    assert.ok(c.stats.renewals >= 3, `renewals: ${c.stats.renewals}`);
    assert.equal(col.gaps.length, 0);
    assert.equal(col.live().length, n);
    await until(s.sim, () => s.sim.liveStats().sessions === 1, "old sessions logged out", 3000);
  });

  it("a query added while a renewal is under way is read once and live on the new session", async () => {
    const s = await rig.sim({ maxLifetimeSeconds: 2 });
    const c = rig.client({ hosts: [s.url], backoff: fast(), maxLifetimeMarginSeconds: 1 });
    const col = new Collector();
    const late = new Collector();
    c.subscribe({ kind: "class", target: "fvAp" }, col);
    let logins = 0;
    s.sim.on("request", (line: string) => {
      if (line.startsWith("POST /api/aaaLogin.json") && ++logins === 2) c.subscribe({ kind: "class", target: "faultInst" }, late);
    });
    c.start();
    await until(s.sim, () => s.sim.stats.logouts === 1, "renewal done", 5000);
    s.sim.create("faultInst", "topology/pod-1/node-101/sys/fault-F9999", { code: "F9999" });
    await late.until((x) => x.live().length === 1, "live on the new session");
    assert.deepEqual(
      late.events.map((e) => e.status),
      ["sync", "created"],
      "one snapshot, then the change",
    );
    assert.equal(late.gaps.length + col.gaps.length, 0);
    assert.equal(col.events.length, 2);
  });

  it("a renewal that cannot finish falls back to the plain re-login with a gap", async () => {
    const s = await rig.sim({ maxLifetimeSeconds: 2 });
    const c = rig.client({ hosts: [s.url], backoff: fast(), maxLifetimeMarginSeconds: 1 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvAp" }, col);
    let logins = 0;
    s.sim.on("request", (line: string) => {
      // The renewal's login is answered 503; the re-login after it finds the controller healed.
      if (line.startsWith("POST /api/aaaLogin.json")) {
        logins++;
        if (logins === 2) s.sim.fail("error");
        else s.sim.fail(false);
      }
    });
    c.start();
    await col.until((x) => x.gaps.length === 1 && x.events.filter((e) => e.status === "sync").length === 4, "gap and re-read", 6000);
    assert.match(col.gaps[0].reason, /renewal failed/);
    assert.equal(c.stats.renewals, 0);
  });

  it("reports a query APIC refuses to that subscription only", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url] });
    const bad = new Collector();
    const good = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant", options: "query-target-filter=eq(fvTenant.name" }, bad);
    c.subscribe({ kind: "class", target: "fvAp" }, good);
    c.start();
    await bad.until((x) => x.errors.length === 1, "error for the bad query");
    await good.until((x) => x.events.length === 2, "good query unaffected");
    assert.match(bad.errors[0].message, /Unable to process the query/);
    const d = c.subscriptions(bad)[0].describe();
    assert.equal(d.subscriptionId, null);
    assert.ok(typeof d.retryAt === "number" && d.retryAt > Date.now() - 1000, "the next retry is shown");
  });

  it("retries a refused query on its own with a capped backoff until APIC accepts it", async () => {
    const s = await rig.sim();
    s.sim.refuseQueries("/api/class/fvTenant.json");
    const c = rig.client({ hosts: [s.url], queryRetryInitialMs: 20, queryRetryMaxMs: 80 });
    const col = new Collector();
    const other = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    c.subscribe({ kind: "class", target: "fvAp" }, other);
    c.start();
    await col.until((x) => x.errors.length === 4, "retried without a reconnect", 3000);
    const sub = c.subscriptions(col)[0];
    assert.equal(sub.failures, 4);
    // Capped: the fourth delay would be 160 ms uncapped.
    assert.ok(sub.retry!.baseDelay() <= 80);
    s.sim.refuseQueries(undefined);
    await col.until((x) => x.events.length === 5, "snapshot once accepted", 3000);
    assert.ok(col.events.every((e) => e.status === "sync"));
    assert.equal(col.gaps.length, 0, "never subscribed before: nothing was missed, no gap");
    assert.equal(sub.describe().error, undefined);
    assert.notEqual(sub.describe().subscriptionId, null);
    assert.equal(s.sim.stats.logins, 1, "the session stayed");
    assert.equal(other.events.length, 2);
    s.sim.create("fvTenant", "uni/tn-now", {});
    await col.until((x) => x.live().length === 1, "live after the retry");
  });

  it("a query refused after it was live (lapse, then 400) is retried and its gap announced", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], queryRetryInitialMs: 20, queryRetryMaxMs: 40 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant", options: "refresh-timeout=1" }, col);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    s.sim.refuseQueries("/api/class/fvTenant.json");
    s.sim.lapseSubscriptions();
    await col.until((x) => x.errors.length >= 2, "resubscribe refused, retried", 3000);
    assert.equal(col.gaps.length, 0);
    s.sim.refuseQueries(undefined);
    await col.until((x) => x.gaps.length === 1 && x.events.length === 10, "gap then re-read", 3000);
    assert.match(col.gaps[0].reason, /could not be refreshed/);
  });

  it("unsubscribe stops delivery and refreshes; close logs out", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url] });
    const col = new Collector();
    const keep = new Collector();
    const sub = c.subscribe({ kind: "class", target: "fvTenant", options: "refresh-timeout=1" }, col);
    c.subscribe({ kind: "class", target: "fvAp" }, keep);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    await keep.until((x) => x.events.length === 2, "other snapshot");
    c.unsubscribe(sub);
    s.sim.create("fvTenant", "uni/tn-late", {});
    s.sim.create("fvAp", "uni/tn-demo/ap-late", {});
    await keep.until((x) => x.live().length === 1, "other subscription still live");
    assert.equal(col.live().length, 0);
    const refreshes = s.sim.stats.subscriptionRefreshes;
    await until(s.sim, () => s.sim.subscriptionIds().length === 1, "the dropped id lapses on the server", 3000);
    assert.equal(s.sim.stats.subscriptionRefreshes, refreshes);
    c.close();
    await until(s.sim, () => s.sim.liveStats().sessions === 0, "logout ends the session");
  });

  it("a subscription added at run time is subscribed at once and its objects come as sync", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url] });
    c.start();
    await untilState(c, (x) => x.state === "connected", "connected");
    const col = new Collector();
    c.subscribe({ kind: "class", target: "faultInst" }, col);
    await col.until((x) => x.events.length === 1, "fault snapshot");
    assert.equal(col.events[0].status, "sync");
    assert.equal(col.events[0].attributes.code, "F0546");
  });

  it("a change that overtakes its subscribe reply is held and delivered after the snapshot", async () => {
    const s = await rig.sim({ policy: { subscribeReplyDelayMs: 150 } });
    const c = rig.client({ hosts: [s.url] });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvAp" }, col);
    let framesAtFirstEvent = -1;
    col.once("update", () => (framesAtFirstEvent = c.stats.frames));
    // The subscription is live on the server while its reply is still on the way.
    s.sim.once("subscribed", () => s.sim.create("fvAp", "uni/tn-demo/ap-early", {}));
    c.start();
    await col.until((x) => x.events.length === 3, "snapshot + early change");
    assert.equal(framesAtFirstEvent, 1, "the change's frame arrived before the snapshot was delivered");
    assert.deepEqual(
      col.events.map((e) => e.status),
      ["sync", "sync", "created"],
    );
    assert.equal(col.events[2].dn, "uni/tn-demo/ap-early");
    assert.equal(c.drops.count("unknown-subscription-id"), 0);
  });

  it("HTTPS: trusts a self-signed controller through a CA, refuses it without", async () => {
    const tls = { key: readFileSync(path.join(fixtures, "server.key")), cert: readFileSync(path.join(fixtures, "server.crt")) };
    const s = await rig.sim({ tls });
    assert.match(s.url, /^https:/);
    const bad = rig.client({ hosts: [s.url] });
    bad.start();
    const st = await untilState(bad, (x) => x.state === "waiting-to-retry", "TLS refusal");
    assert.match(st.reason!.message, /^certificate not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): aaaLogin to https:.*; add the controller's CA/);
    bad.close();
    const good = rig.client({ hosts: [s.url], tls: { ca: readFileSync(path.join(fixtures, "ca.crt")) } });
    const col = new Collector();
    good.subscribe({ kind: "class", target: "fvAp" }, col);
    good.start();
    await col.until((x) => x.events.length === 2, "snapshot over wss");
    s.sim.create("fvAp", "uni/tn-demo/ap-tls", {});
    await col.until((x) => x.live().length === 1, "event over wss");
  });
});

// Flow control on the APIC socket (issue 11): holding the client's gate stops reading the socket,
// so APIC's writes back up (real backpressure); the watchdogs do not blame APIC for that silence.
describe("apic client: flow control against the simulator", function () {
  this.timeout(20000);
  const rig = new Rig();
  afterEach(() => rig.close());

  it("a held gate stops reading: APIC's writer backs up; released, every change arrives once, in order", async () => {
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], pingIntervalMs: 5000 });
    const col = new Collector();
    c.subscribe({ kind: "dn", target: "uni/tn-flood" }, col);
    s.sim.create("fvTenant", "uni/tn-flood", { name: "flood" });
    c.start();
    await col.until((x) => x.events.length === 1, "snapshot");
    c.gate.hold("test");
    const n = 1000;
    // 16 MB against a socket that is not read: the kernel buffers fill, then the simulator's own queue.
    let flooded = false;
    const flood = s.sim.flood(n, "modify", 16 * 1024).then(() => (flooded = true));
    await waitFor("the simulator's send queue to grow", () => s.sim.backlogBytes() > 0, 10000);
    assert.equal(col.liveCount, 0, "nothing was read while the gate was held");
    assert.equal(flooded, false, "the simulator is held back");
    assert.equal(c.stats.pauses, 1);
    c.gate.release("test");
    await flood;
    await col.until((x) => x.liveCount === n, "every change", 10000);
    assert.deepEqual(
      col.live().map((e) => e.attributes.descr),
      Array.from({ length: n }, (_, i) => `change ${i}`),
    );
    assert.equal(s.sim.stats.logins, 1);
    assert.equal(col.gaps.length, 0);
  });

  it("while reading is held back the ping watchdog does not end the session, nor the renewal's hand-over wait", async () => {
    // Session lifetime 60 s: the renewal (hand-over ping on the old socket) falls inside the hold.
    const s = await rig.sim({ maxLifetimeSeconds: 60 });
    const clock = new FakeClock();
    // Liveness two ping periods (2 s), hand-over pong within 1 s, in simulated time.
    const c = rig.client({ hosts: [s.url], clock, pingIntervalMs: 1000, requestTimeoutMs: 1000, maxLifetimeMarginSeconds: 20 });
    const col = new Collector();
    c.subscribe({ kind: "class", target: "fvTenant" }, col);
    const seen = states(c);
    c.start();
    await col.until((x) => x.events.length === 5, "snapshot");
    c.gate.hold("test");
    s.sim.create("fvTenant", "uni/tn-held", { name: "held" });
    // 50 s of simulated time, 100 ms at a go with real I/O in between: pings go out, pongs and the
    // change wait unread in the paused socket; at 40 s the renewal logs in a second session.
    for (let t = 0; t < 50_000; t += 100) {
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(
      seen.map((x) => x.state),
      ["connecting", "connected"],
      "no reconnect while held back",
    );
    assert.equal(col.liveCount, 0);
    assert.equal(col.gaps.length, 0);
    c.gate.release("test");
    await col.until((x) => x.liveCount === 1, "the held change");
    // The hand-over ping is answered now: the renewal completes, without a gap.
    for (let t = 0; t < 3000 && c.stats.renewals === 0; t += 100) {
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    await waitFor("the renewal", () => c.stats.renewals === 1);
    assert.deepEqual(
      seen.map((x) => x.state),
      ["connecting", "connected"],
    );
    assert.equal(col.gaps.length, 0);
  });

  it("holding and releasing in quick succession sends one ping at a time, not one per release", async () => {
    // A window that fills and drains every few messages pauses and resumes the socket thousands of
    // times a second; a ping per resume piled unanswered pongs up at a server it could not send to.
    const s = await rig.sim();
    const c = rig.client({ hosts: [s.url], pingIntervalMs: 5000 });
    const col = new Collector();
    c.subscribe({ kind: "dn", target: "uni/tn-pings" }, col);
    s.sim.create("fvTenant", "uni/tn-pings", { name: "pings" });
    c.start();
    await col.until((x) => x.events.length === 1, "snapshot");
    const pings = await pingsForReleases(s.sim.openSockets(), c.gate, 300);
    assert.ok(pings >= 1, "a ping after the first release marks the backlog read");
    assert.ok(pings <= 2, `${pings} pings for 300 releases`);
    assert.equal(c.stats.pauses, 300);
    s.sim.modify("uni/tn-pings", { descr: "still read" });
    await col.until((x) => x.liveCount === 1, "a change after the releases");
  });
});

/** Wait for a simulator counter: re-checked after every request the simulator answers and every sweep. */
function until(sim: EventEmitter, check: () => boolean, what: string, ms = 3000): Promise<void> {
  return waitOn(sim, "activity", check, what, ms);
}
