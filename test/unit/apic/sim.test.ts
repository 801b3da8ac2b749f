import assert from "node:assert/strict";
import WebSocket from "ws";
import { apicSimulator, startApicSimulator, StartedApicSimulator } from "../../../src/sim/apic";
import { parseFilter } from "../../../src/sim/apic/filter";
import { MoStore, parentDn } from "../../../src/sim/apic/mo-store";
import { Trickle } from "../../../src/sim/apic/trickle";
import { parseQuery, runQuery } from "../../../src/sim/apic/query";
import { waitOn } from "./helpers";
import { wsText } from "../../support/ws-text";

const env = (body: string) => JSON.parse(body).imdata[0].error.attributes as { code: string; text: string };

describe("apic simulator: filters and queries", () => {
  it("evaluates APIC filter expressions", () => {
    const at = { name: "web-1", prio: "level3", pcTag: "49153", descr: 'say "hi"' };
    const t = (f: string, cls = "fvAEPg") => parseFilter(f)(cls, at);
    assert.equal(t('eq(fvAEPg.name,"web-1")'), true);
    assert.equal(t('eq(fvAEPg.name,"web-1")', "fvAp"), false, "scoped to the named class");
    assert.equal(t('ne(fvAEPg.name,"x")'), true);
    assert.equal(t('wcard(fvAEPg.name,"^web")'), true);
    assert.equal(t("gt(fvAEPg.pcTag,40000)"), true, "numeric comparison");
    assert.equal(t("bw(fvAEPg.pcTag,1,100)"), false);
    assert.equal(t('and(eq(fvAEPg.name,"web-1"),not(eq(fvAEPg.prio,"level1")))'), true);
    assert.equal(t('or(eq(fvAEPg.name,"x"),eq(fvAEPg.name,"y"))'), false);
    for (const bad of ["eq(fvAEPg.name", "foo(fvAEPg.name,1)", "eq(name,1)", "and(x)", 'eq(fvAEPg.name,"a")junk', "", "not(a,b)", 'wcard(fvAEPg.name,"(")']) {
      assert.throws(() => parseFilter(bad), Error, bad);
    }
  });

  it("finds parents across bracketed names", () => {
    assert.equal(parentDn("topology/pod-1/node-101/sys/phys-[eth1/12]/phys"), "topology/pod-1/node-101/sys/phys-[eth1/12]");
    assert.equal(parentDn("topology/pod-1/node-101/sys/phys-[eth1/12]"), "topology/pod-1/node-101/sys");
    assert.equal(parentDn("uni"), "");
  });

  it('answers class, DN, children and subtree queries with status "" and paging', () => {
    const store = new MoStore(() => 0);
    store.seed();
    const q = (p: string, qs = "") => runQuery(parseQuery(p, qs)!, store).map((o) => Object.values(o)[0].attributes.dn);
    assert.equal(q("/api/class/fvTenant.json").length, 5);
    assert.deepEqual(q("/api/node/mo/uni/tn-demo.json"), ["uni/tn-demo"]);
    assert.deepEqual(q("/api/mo/uni/tn-demo.json", "query-target=children").sort(), ["uni/tn-demo/BD-bd1", "uni/tn-demo/ap-web"]);
    assert.deepEqual(q("/api/mo/uni/tn-demo.json", "query-target=subtree&target-subtree-class=fvAEPg"), [
      "uni/tn-demo/ap-web/epg-front",
      "uni/tn-demo/ap-web/epg-back",
    ]);
    assert.deepEqual(q("/api/class/fvTenant.json", "query-target-filter=eq(fvTenant.name,%22shop%22)"), ["uni/tn-shop"]);
    assert.deepEqual(q("/api/class/fvTenant.json", "page=1&page-size=2"), ["uni/tn-mgmt", "uni/tn-demo"]);
    assert.deepEqual(q("/api/class/topology/pod-1/node-101/faultInst.json").length, 1);
    assert.deepEqual(q("/api/class/topology/pod-1/node-102/faultInst.json").length, 0);
    assert.ok(runQuery(parseQuery("/api/class/fvTenant.json", "")!, store).every((o) => Object.values(o)[0].attributes.status === ""));
    assert.equal(parseQuery("/api/aaaLogin.json", ""), undefined);
    assert.throws(() => parseQuery("/api/class/fvTenant.json", "query-target=everything"));
    assert.throws(() => parseQuery("/api/class/fvTenant.json", "x=%E0%A4%A"));
  });

  it("honours rsp-subtree=children|full in class and mo queries: children by rn, as APIC returns them", () => {
    const store = new MoStore(() => 0);
    store.seed();
    type Obj = { attributes: Record<string, string>; children?: Array<Record<string, Obj>> };
    const run = (p: string, qs: string) => runQuery(parseQuery(p, qs)!, store) as Array<Record<string, Obj>>;
    const rns = (o: Obj) => (o.children ?? []).map((c) => `${Object.keys(c)[0]}:${Object.values(c)[0].attributes.rn}`).sort();
    const [tn] = run("/api/mo/uni/tn-demo.json", "rsp-subtree=children").map((o) => o.fvTenant);
    assert.deepEqual(rns(tn), ["fvAp:ap-web", "fvBD:BD-bd1"]);
    const ap = tn.children!.find((c) => "fvAp" in c)!.fvAp;
    assert.equal(ap.children, undefined, "children: one level only");
    assert.equal(ap.attributes.dn, undefined, "a child carries its rn, not its dn");
    const [full] = run("/api/mo/uni/tn-demo.json", "rsp-subtree=full").map((o) => o.fvTenant);
    assert.deepEqual(rns(full.children!.find((c) => "fvAp" in c)!.fvAp), ["fvAEPg:epg-back", "fvAEPg:epg-front"]);
    const tenants = run("/api/class/fvTenant.json", "rsp-subtree=children&query-target-filter=eq(fvTenant.name,%22shop%22)");
    assert.deepEqual(rns(tenants[0].fvTenant), ["fvAp:ap-web", "fvBD:BD-bd1"]);
    // Without rsp-subtree (or with =no) objects come bare, as before.
    assert.equal(run("/api/mo/uni/tn-demo.json", "")[0].fvTenant.children, undefined);
    assert.equal(run("/api/mo/uni/tn-demo.json", "rsp-subtree=no")[0].fvTenant.children, undefined);
    assert.throws(() => parseQuery("/api/mo/uni/tn-demo.json", "rsp-subtree=everything"));
  });

  it("rolls append-only records over silently, oldest first", () => {
    const store = new MoStore(() => 0);
    for (let i = 0; i < 10; i++) store.create("aaaModLR", `subj-[x]/mod-${i}`, {});
    store.create("fvTenant", "uni/tn-keep", {});
    assert.equal(store.pruneRecords("aaaModLR", 4), 6);
    assert.equal(store.get("subj-[x]/mod-5"), undefined);
    assert.ok(store.get("subj-[x]/mod-6") && store.get("subj-[x]/mod-9") && store.get("uni/tn-keep"));
  });

  it("shapes changes the way APIC notifies them", () => {
    const store = new MoStore(() => 0);
    const c = store.create("fvTenant", "uni/tn-a", { name: "a" });
    assert.equal(c.attrs.status, "created");
    assert.equal(c.attrs.rn, "");
    assert.equal(c.attrs.lcOwn, "local");
    const m = store.modify("uni/tn-a", { descr: "x" })!;
    assert.deepEqual(Object.keys(m.attrs).sort(), ["childAction", "descr", "dn", "modTs", "rn", "status"]);
    store.create("fvAp", "uni/tn-a/ap-b", {});
    const d = store.delete("uni/tn-a", true);
    assert.deepEqual(
      d.map((x) => [x.dn, x.attrs]),
      [
        ["uni/tn-a/ap-b", { dn: "uni/tn-a/ap-b", status: "deleted" }],
        ["uni/tn-a", { dn: "uni/tn-a", status: "deleted" }],
      ],
    );
  });
});

describe("apic simulator: REST, socket and control API", function () {
  this.timeout(10000);
  let s: StartedApicSimulator;
  afterEach(() => s?.close());

  const login = async (body: unknown = { aaaUser: { attributes: { name: "admin", pwd: "demo-password" } } }) => {
    const r = await fetch(`${s.url}/api/aaaLogin.json`, { method: "POST", body: JSON.stringify(body) });
    return { status: r.status, body: await r.text(), cookie: r.headers.get("set-cookie") ?? "" };
  };
  const get = async (path: string, token?: string) => {
    const r = await fetch(`${s.url}${path}`, { headers: token ? { Cookie: `APIC-cookie=${token}` } : {} });
    return { status: r.status, body: await r.text() };
  };
  const openSocket = (token: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${s.url.replace("http", "ws")}/socket${token}`);
      ws.once("open", () => resolve(ws));
      ws.once("error", reject);
      ws.once("unexpected-response", (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
    });

  it("logs in with the documented reply, sets a cookie without Secure on plain HTTP, refuses bad passwords", async () => {
    s = await startApicSimulator();
    const ok = await login();
    assert.equal(ok.status, 200);
    const attrs = JSON.parse(ok.body).imdata[0].aaaLogin.attributes;
    for (const k of ["token", "refreshTimeoutSeconds", "maximumLifetimeSeconds", "version"]) assert.equal(typeof attrs[k], "string", k);
    assert.match(ok.cookie, /^APIC-cookie=[^;]+; path=\/; HttpOnly$/);
    const bad = await login({ aaaUser: { attributes: { name: "admin", pwd: "x" } } });
    assert.equal(bad.status, 401);
    assert.match(env(bad.body).text, /Username or password is incorrect/);
    assert.equal((await fetch(`${s.url}/api/aaaLogin.json`, { method: "POST", body: "{not json" })).status, 400);
  });

  it("answers 403 token timeout, 405 without socket, 400 for lapsed ids", async () => {
    s = await startApicSimulator();
    assert.deepEqual(env((await get("/api/class/fvTenant.json")).body), { code: "403", text: "Token was invalid (Error: Token timeout)" });
    const token = JSON.parse((await login()).body).imdata[0].aaaLogin.attributes.token as string;
    const r405 = await get("/api/class/fvTenant.json?subscription=yes", token);
    assert.equal(r405.status, 405);
    assert.match(env(r405.body).text, /unable to locate opened web socket/);
    const ws = await openSocket(token);
    const sub = await get("/api/class/fvTenant.json?subscription=yes&refresh-timeout=30", token);
    const id = JSON.parse(sub.body).subscriptionId as string;
    assert.match(id, /^\d{17}$/);
    assert.equal((await get(`/api/subscriptionRefresh.json?id=${id}`, token)).status, 200);
    s.sim.lapseSubscriptions();
    const lapsed = await get(`/api/subscriptionRefresh.json?id=${id}`, token);
    assert.equal(lapsed.status, 400);
    assert.equal(env(lapsed.body).code, "400");
    ws.terminate();
  });

  it("takes everything after /socket as the token and refuses unknown tokens", async () => {
    s = await startApicSimulator({ policy: { tokenStyle: "classic", badSocketToken: 403 } });
    const token = JSON.parse((await login()).body).imdata[0].aaaLogin.attributes.token as string;
    assert.match(token, /[/+]/);
    const ws = await openSocket(token);
    ws.terminate();
    await assert.rejects(openSocket("nope"), /HTTP 403/);
  });

  it("pushes one frame per change listing every matching id of the session", async () => {
    s = await startApicSimulator();
    const token = JSON.parse((await login()).body).imdata[0].aaaLogin.attributes.token as string;
    const ws = await openSocket(token);
    const frames: string[] = [];
    ws.on("message", (d) => frames.push(wsText(d)));
    const a = JSON.parse((await get("/api/class/fvTenant.json?subscription=yes", token)).body).subscriptionId;
    const b = JSON.parse((await get("/api/mo/uni/tn-demo.json?subscription=yes", token)).body).subscriptionId;
    s.sim.modify("uni/tn-demo", { descr: "x" });
    s.sim.modify("uni/tn-shop", { descr: "y" });
    await waitOn(ws, "message", () => frames.length === 2, "two frames");
    assert.deepEqual(JSON.parse(frames[0]).subscriptionId, [a, b]);
    assert.deepEqual(JSON.parse(frames[1]).subscriptionId, [a]);
    assert.equal(JSON.parse(frames[0]).totalCount, undefined);
    ws.terminate();
  });

  it("control API over HTTP: change, stats, kill sockets, fail and heal", async () => {
    s = await startApicSimulator();
    const post = async (p: string, body?: unknown) => {
      const r = await fetch(`${s.url}/_sim/${p}`, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, body: JSON.parse(await r.text()) };
    };
    assert.deepEqual((await post("change", { class: "fvTenant", dn: "uni/tn-c", attributes: { name: "c" } })).body, { created: true });
    assert.deepEqual((await post("change", { op: "modify", dn: "uni/tn-c", attributes: { descr: "d" } })).body, { modified: true });
    assert.deepEqual((await post("change", { op: "delete", dn: "uni/tn-c" })).body, { deleted: true });
    assert.equal((await post("change", { op: "modify" })).status, 400);
    assert.equal((await post("kill-sockets?mode=nope")).status, 400);
    const token = JSON.parse((await login()).body).imdata[0].aaaLogin.attributes.token as string;
    const ws = await openSocket(token);
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    assert.deepEqual((await post("kill-sockets?mode=close")).body, { killed: 1 });
    assert.equal(await closed, 1001);
    assert.equal(((await (await fetch(`${s.url}/_sim/stats`)).json()) as { logins: number }).logins, 1);
    await post("fail?mode=error");
    assert.equal((await get("/api/class/fvTenant.json", token)).status, 503);
    await post("fail?mode=off");
    assert.equal((await get("/api/class/fvTenant.json", token)).status, 200);
    await post("expire-tokens");
    assert.equal((await get("/api/class/fvTenant.json", token)).status, 403);
  });

  it("config POSTs change the tree and write an aaaModLR record", async () => {
    s = await startApicSimulator();
    const token = JSON.parse((await login()).body).imdata[0].aaaLogin.attributes.token as string;
    const r = await fetch(`${s.url}/api/mo/uni.json`, {
      method: "POST",
      headers: { Cookie: `APIC-cookie=${token}` },
      body: JSON.stringify({ fvTenant: { attributes: { dn: "uni/tn-p", name: "p" } } }),
    });
    assert.equal(r.status, 200);
    assert.ok(s.sim.store.get("uni/tn-p"));
    const audit = JSON.parse((await get("/api/class/aaaModLR.json", token)).body).imdata;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].aaaModLR.attributes.affected, "uni/tn-p");
  });

  it("the CLI entry starts on the options given and rejects bad ones", async () => {
    s = (await apicSimulator.start({ port: "0", trickle: "0" })) as StartedApicSimulator;
    assert.match(s.endpoints.rest, /^http:\/\/127\.0\.0\.1:\d+\/api$/);
    await assert.rejects(apicSimulator.start({ port: "x" }), /--port needs a number/);
    await assert.rejects(apicSimulator.start({ "tls-key": "k" }), /go together/);
  });

  it("the trickle produces faults, tenants, EPGs and their audit records", async () => {
    s = await startApicSimulator();
    const seen = new Set<string>();
    s.sim.onChange((c) => seen.add(`${c.cls}:${c.status}`));
    // A seeded generator keeps the test deterministic (Math.random made it miss a kind now and then).
    let seed = 0x2f6b1d3;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const trickle = new Trickle(s.sim, random);
    for (let i = 0; i < 200; i++) trickle.step();
    for (const k of [
      "faultInst:created",
      "faultInst:modified",
      "faultInst:deleted",
      "eventRecord:created",
      "fvTenant:created",
      "fvTenant:modified",
      "fvTenant:deleted",
      "fvAEPg:created",
      "fvAEPg:deleted",
      "aaaModLR:created",
    ]) {
      assert.ok(seen.has(k), `${k} in ${[...seen].join(" ")}`);
    }
  });
});
