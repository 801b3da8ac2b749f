/**
 * Reading what changed, end to end over loopback: the real event client (NsoClient) gets a
 * COMMIT_DIFF from the notification simulator, our MAAPI client reads the diff from the MAAPI
 * simulator component, and the ack goes back on the event socket. The two simulator halves
 * are wired through the blocked-commit store exactly as the lead will wire them in
 * src/sim/nso/server.ts. Every case checks what NSO would feel: the commit is released by
 * our ack, never by the event-reply-timeout.
 */
import { strict as assert } from "node:assert";
import { Backoff } from "../../src/core/backoff";
import { NsoClient, NsoEvent } from "../../src/nso/client";
import { maskOf } from "../../src/nso/constants";
import { AckedCommitDiffResult, CommitDiffRequest, MaapiClient, readCommitDiffAndAck } from "../../src/nso/maapi";
import { AckOutcome } from "../../src/sim/nso";
import { NsoSimServer } from "../../src/sim/nso/server";
import { bulkDiffSpec, DEMO_DIFF, DiffSpecItem, MaapiSimOptions, MaapiSimServer, trackCommit } from "../../src/sim/nso/maapi";

const REPLY_TIMEOUT_MS = 4000;

interface Rig {
  events: NsoSimServer;
  maapiSim: MaapiSimServer;
  client: NsoClient;
  maapi: MaapiClient;
  results: AckedCommitDiffResult[];
  /** Deliver a commit with `diff`; resolves with the event side's outcome and the hold time. */
  commit(diff: DiffSpecItem[], usid?: number): Promise<{ th: number; outcomes: AckOutcome[]; heldMs: number }>;
  nextResult(): Promise<AckedCommitDiffResult>;
  close(): Promise<void>;
}

async function rig(
  req: Partial<CommitDiffRequest> = {},
  simOpts: MaapiSimOptions = {},
  replyTimeoutMs = REPLY_TIMEOUT_MS,
  signal?: () => AbortSignal | undefined,
  maxFrameSize?: number,
): Promise<Rig> {
  const events = new NsoSimServer({ port: 0, eventReplyTimeoutMs: replyTimeoutMs });
  const { port } = await events.listen();
  const maapiSim = new MaapiSimServer(simOpts);
  const m = await maapiSim.listen();
  const client = new NsoClient({
    host: "127.0.0.1",
    port,
    backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }),
    subscription: () => ({ mask: maskOf(["NOTIF_COMMIT_DIFF"]) }),
  });
  const maapi = new MaapiClient({ host: m.host, port: m.port, maxFrameSize, backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }) });
  const results: AckedCommitDiffResult[] = [];
  const waiters: Array<(r: AckedCommitDiffResult) => void> = [];
  // What nso-events will do with "read what changed" on: read, then ack in every outcome.
  client.on("notification", (ev: NsoEvent) => {
    if (ev.notification.type !== "NOTIF_COMMIT_DIFF") return;
    const p = ev.notification.payload as { tctx: { th: number }; uinfo: { usid: number } };
    void readCommitDiffAndAck(maapi, { thandle: p.tctx.th, usid: p.uinfo.usid, ...req, signal: signal?.() }, () => client.ack(ev.ack)).then((r) => {
      results.push(r);
      waiters.shift()?.(r);
    });
  });
  const up = events.waitForSubscribers(1);
  client.start();
  await up;
  return {
    events,
    maapiSim,
    client,
    maapi,
    results,
    async commit(diff, usid = 59) {
      // The lead's wiring in NsoSimServer.inject: block before delivering, release when done.
      const th = events.nextThandle();
      const t0 = Date.now();
      const r = events.inject({ type: "NOTIF_COMMIT_DIFF", th, uinfo: { usid }, comment: "test" });
      trackCommit(maapiSim.store, { th, usid, diff }, r.done);
      const outcomes = await r.done;
      await maapiSim.store.whenReleased(th);
      return { th, outcomes, heldMs: Date.now() - t0 };
    },
    nextResult() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      client.stop();
      maapi.close();
      await events.close();
      await maapiSim.close();
    },
  };
}

describe("nso maapi: commit diff read end to end (event client + MAAPI client <-> simulator)", function () {
  this.timeout(15000);
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it("reads the demo commit with names, labels and typed values, then acks", async () => {
    r = await rig();
    const res = r.nextResult();
    const c = await r.commit(DEMO_DIFF);
    const got = await res;
    assert.deepEqual(c.outcomes, ["acked"]);
    assert.equal(got.truncated, false);
    assert.equal(got.acked, true);
    assert.equal(got.changes.length, DEMO_DIFF.length);
    const byPath = new Map(got.changes.map((x) => [`${x.op} ${x.path}`, x.value]));
    assert.deepEqual(byPath.get("value_set /devices/device{ce0}/state/admin-state"), { type: "C_ENUM_VALUE", value: 2, label: "southbound-locked" });
    assert.deepEqual(byPath.get("value_set /devices/device{ce0}/address"), { type: "C_IPV4", value: "192.0.2.1" });
    assert.deepEqual(byPath.get("moved_after /nacm/rule-list{rl1}/rule{r2}"), { after: ["r3"] });
    assert.deepEqual(byPath.get("moved_after /nacm/rule-list{rl1}/rule{r3}"), { after: null });
    assert.equal(byPath.get("value_set /nacm/rule-list{rl1}/rule{r3}/tailf-acm:context"), "*");
    assert.ok(byPath.has("created /devices/authgroups/group{g1}/default-map/same-user"), "empty leaf");
    assert.ok(byPath.has("deleted /devices/device{old-pe}"));
    assert.equal(got.stats.labelled, 5);
    assert.equal(got.stats.detached, true);
  });

  it("reads a 2000-change diff inside the default budget and releases the commit", async () => {
    r = await rig();
    const res = r.nextResult();
    const c = await r.commit(bulkDiffSpec(500));
    const got = await res;
    assert.equal(got.changes.length, 2000);
    assert.equal(got.truncated, false);
    assert.deepEqual(c.outcomes, ["acked"]);
    assert.equal(got.changes[3].path, "/nacm/groups/group{bulk1}/user-name{b1}");
  });

  it("a budget overrun stops the iteration, says truncated, and the ack still goes out at once", async () => {
    r = await rig({ budgetMs: 300 }, { itemDelayMs: 5 });
    const res = r.nextResult();
    const c = await r.commit(bulkDiffSpec(500));
    const got = await res;
    assert.equal(got.truncated, true);
    assert.equal(got.reason, "budget");
    // How many fit in 300 ms depends on the machine's load: the overrun is what is asserted.
    assert.ok(got.changes.length < 2000, `${got.changes.length} changes`);
    assert.equal(got.acked, true);
    // Released by our ack, not by NSO's reply timeout (the rest of the diff would take 8 s more).
    assert.deepEqual(c.outcomes, ["acked"]);
  });

  it("a silent NSO (no reply at all) is cut by the hard budget timer, and the ack goes out", async () => {
    r = await rig({ budgetMs: 250 }, { itemDelayMs: 60_000 });
    const res = r.nextResult();
    const c = await r.commit(DEMO_DIFF);
    const got = await res;
    assert.equal(got.truncated, true);
    assert.equal(got.reason, "budget");
    assert.equal(got.error?.code, "maapi-budget");
    assert.deepEqual(c.outcomes, ["acked"], "released by our ack, not by NSO's reply timeout");
  });

  it("an attach failure (unknown session) still acks", async () => {
    r = await rig({ usid: 999999 });
    const res = r.nextResult();
    const c = await r.commit(DEMO_DIFF);
    const got = await res;
    assert.equal(got.truncated, true);
    assert.equal(got.reason, "error");
    assert.match(got.error!.message, /User sess 999999 doesn't exist/);
    assert.equal(got.acked, true);
    assert.deepEqual(c.outcomes, ["acked"]);
  });

  it("a redeploy (abort) in the middle of the iteration still acks and drops the MAAPI socket", async () => {
    const ctl = new AbortController();
    r = await rig({}, { itemDelayMs: 5 }, REPLY_TIMEOUT_MS, () => ctl.signal);
    let items = 0;
    r.maapiSim.on("item", () => {
      if (++items === 20) ctl.abort();
    });
    const res = r.nextResult();
    const c = await r.commit(bulkDiffSpec(500));
    const got = await res;
    assert.equal(got.truncated, true);
    assert.equal(got.reason, "aborted");
    assert.ok(got.changes.length >= 19 && got.changes.length < 30, `${got.changes.length}`);
    assert.equal(got.acked, true);
    assert.deepEqual(c.outcomes, ["acked"]);
    assert.equal(r.maapi.connected, false, "the socket of the abandoned iteration is gone");
  });

  it("losing the MAAPI socket mid-iteration acks, and the next commit dials a fresh socket", async () => {
    r = await rig({}, { itemDelayMs: 2 });
    let items = 0;
    r.maapiSim.on("item", () => {
      if (++items === 10) r!.maapiSim.dropConnections();
    });
    let res = r.nextResult();
    const c1 = await r.commit(bulkDiffSpec(50));
    const first = await res;
    assert.equal(first.truncated, true);
    assert.equal(first.reason, "error");
    assert.equal(first.error?.code, "maapi-closed");
    assert.deepEqual(c1.outcomes, ["acked"]);
    res = r.nextResult();
    const c2 = await r.commit(DEMO_DIFF);
    const second = await res;
    assert.equal(second.truncated, false);
    assert.deepEqual(c2.outcomes, ["acked"]);
    assert.equal(r.maapi.dials, 2);
  });

  it("one MAAPI socket serves consecutive commits (no handshake per commit)", async () => {
    r = await rig();
    for (let i = 0; i < 5; i++) {
      const res = r.nextResult();
      await r.commit(DEMO_DIFF);
      assert.equal((await res).changes.length, DEMO_DIFF.length);
    }
    assert.equal(r.maapi.dials, 1);
    assert.equal(r.maapiSim.sessionCount, 1);
  });

  it("an iteration that outlives the event-reply-timeout gets NSO's badpath, flagged truncated", async () => {
    // A budget above the timeout is a misconfiguration the node refuses; the library lets a
    // test show what NSO does then: the subscriber is cut off and the diff ends in badpath.
    r = await rig({ budgetMs: 5000 }, { itemDelayMs: 20 }, 300);
    const res = r.nextResult();
    const c = await r.commit(bulkDiffSpec(100));
    const got = await res;
    assert.deepEqual(c.outcomes, ["timeout"]);
    assert.equal(got.truncated, true);
    assert.equal(got.reason, "error");
    assert.match(got.error!.message, /badpath/);
    assert.ok(got.changes.length > 0 && got.changes.length < 400);
    assert.equal(got.acked, false, "the event socket was closed by the timeout");
  });

  it("after the ack, attaching to the same commit fails as on NSO (§6.2)", async () => {
    r = await rig();
    const res = r.nextResult();
    const c = await r.commit(DEMO_DIFF, 77);
    await res;
    const late = await readCommitDiffAndAck(r.maapi, { thandle: c.th, usid: 77 }, () => undefined);
    assert.equal(late.truncated, true);
    assert.match(late.error!.message, /User sess 77 doesn't exist/);
    r.maapiSim.store.addSession(78);
    const late2 = await readCommitDiffAndAck(r.maapi, { thandle: c.th, usid: 78 }, () => undefined);
    assert.match(late2.error!.message, /CONFD_ERR_NOTRANS "No such transaction"/);
  });

  it("a subtree filter and a change cap bound what is read", async () => {
    r = await rig({ subtree: "/nacm", maxChanges: 4 });
    const res = r.nextResult();
    await r.commit(DEMO_DIFF);
    const got = await res;
    assert.equal(got.changes.length, 4);
    assert.ok(got.changes.every((x) => x.path.startsWith("/nacm/")));
    assert.equal(got.truncated, true);
    assert.equal(got.reason, "max-changes");
  });

  it("hostile items: garbage, a truncated term and an oversize frame are counted drops; the rest of the diff and the socket survive", async () => {
    const bad = new Map<number, Buffer>([
      [2, Buffer.from([131, 104, 4, 0xff])],
      [4, Buffer.from("not a term at all")],
      [6, Buffer.concat([Buffer.from([131, 109]), Buffer.alloc(4, 0xff)])],
    ]);
    const mangleItem = (_th: number, i: number, p: Buffer): Buffer | undefined =>
      bad.get(i) ?? (i === 8 ? Buffer.concat([p, Buffer.alloc(2 * 1024 * 1024)]) : undefined);
    r = await rig({}, { mangleItem }, REPLY_TIMEOUT_MS, undefined, 1024 * 1024);
    const res = r.nextResult();
    await r.commit(DEMO_DIFF);
    const got = await res;
    assert.equal(got.stats.dropped, 4);
    assert.equal(got.changes.length, DEMO_DIFF.length - 4);
    assert.equal(got.truncated, false);
    assert.ok(r.maapi.drops.total >= 4);
    const res2 = r.nextResult();
    await r.commit(DEMO_DIFF.slice(0, 3));
    assert.equal((await res2).changes.length, 3);
    assert.equal(r.maapi.dials, 1, "the same socket went on");
  });
});
