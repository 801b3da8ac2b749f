/**
 * The diff reader's contract, against the MAAPI simulator alone: every outcome is a result,
 * the ack callback runs exactly once in each, the socket is reused, labels are cached, a dead
 * port is not dialled in a loop, and the hash DB names stream events.
 */
import { strict as assert } from "node:assert";
import { getEventListeners, once } from "node:events";
import * as net from "node:net";
import { Backoff } from "../../../src/core/backoff";
import { HashDb, MaapiClient, nameTagValues, readCommitDiff, readCommitDiffAndAck, renderNotificationXml } from "../../../src/nso/maapi";
import { decodeTagValues } from "../../../src/nso/notifications/values";
import { streamValues } from "../../../src/sim/nso/builders";
import { bulkDiffSpec, DEMO_DIFF, DiffSpecItem, MaapiSimServer } from "../../../src/sim/nso/maapi";

describe("nso maapi: readCommitDiff contract", () => {
  let sim: MaapiSimServer;
  let client: MaapiClient;
  beforeEach(async () => {
    sim = new MaapiSimServer();
    const a = await sim.listen();
    client = new MaapiClient({ host: a.host, port: a.port });
  });
  afterEach(async () => {
    client.close();
    await sim.close();
  });

  it("turns bad requests into results without touching the network", async () => {
    for (const [req, code] of [
      [{ thandle: -1 }, "maapi-bad-request"],
      [{ thandle: 1.5 }, "maapi-bad-request"],
      [{ thandle: 5, usid: 0 }, "maapi-bad-request"],
      [{ thandle: 5, subtree: "devices" }, "maapi-bad-subtree"],
      [{ thandle: 5, budgetMs: 0 }, "maapi-bad-request"],
    ] as const) {
      const r = await readCommitDiff(client, req);
      assert.equal(r.truncated, true);
      assert.equal(r.error?.code, code, JSON.stringify(req));
    }
    assert.equal(client.dials, 0);
  });

  it("acks exactly once in every outcome, and reports an ack that failed", async () => {
    sim.store.block({ th: 7, usid: 59, diff: DEMO_DIFF });
    let acks = 0;
    const ok = await readCommitDiffAndAck(client, { thandle: 7, usid: 59 }, () => acks++);
    assert.equal(ok.acked, true);
    const failed = await readCommitDiffAndAck(client, { thandle: 8, usid: 59 }, () => {
      acks++;
      throw new Error("event socket gone");
    });
    assert.equal(failed.truncated, true);
    assert.equal(failed.acked, false);
    assert.equal(failed.ackError, "event socket gone");
    const ctl = new AbortController();
    ctl.abort();
    const aborted = await readCommitDiffAndAck(client, { thandle: 7, signal: ctl.signal }, () => {
      acks++;
      return Promise.resolve();
    });
    assert.equal(aborted.reason, "aborted");
    assert.equal(acks, 3);
  });

  it("twenty aborted reads (redeploys mid-iteration) leave no listeners, no sockets and no stuck commits", async () => {
    await sim.close();
    sim = new MaapiSimServer({ itemDelayMs: 1 });
    const a = await sim.listen();
    client.close();
    client = new MaapiClient({ host: a.host, port: a.port });
    for (let i = 0; i < 20; i++) {
      sim.store.block({ th: 100 + i, usid: 59, diff: bulkDiffSpec(50) });
      const ctl = new AbortController();
      const seen = new Promise<void>((res) => sim.once("item", () => res()));
      const p = readCommitDiff(client, { thandle: 100 + i, usid: 59, signal: ctl.signal });
      await seen;
      ctl.abort();
      const r = await p;
      assert.equal(r.reason, "aborted");
      assert.equal(getEventListeners(ctl.signal, "abort").length, 0, "abort listener removed");
      sim.store.release(100 + i, "acked");
    }
    assert.equal(client.dials, 20, "each abandoned iteration cost its socket");
    assert.equal(client.connected, false);
    // The simulator saw every socket close (no half-open MAAPI sessions left behind).
    while (sim.sessionCount > 0) await once(sim, "closed");
    assert.equal(sim.sessionCount, 0);
  });

  it("attaches as the owner when no usid is given ({0, useikp})", async () => {
    sim.store.block({ th: 9, usid: 59, diff: DEMO_DIFF.slice(0, 2) });
    const r = await readCommitDiff(client, { thandle: 9 });
    assert.equal(r.truncated, false);
    assert.equal(r.changes.length, 2);
  });

  it("asks XPath once per leaf and value, not once per list entry (labels cached per connection)", async () => {
    const spec: DiffSpecItem[] = [];
    for (let i = 0; i < 200; i++)
      spec.push({
        op: "value_set",
        path: `/devices/device{d${i}}/state/admin-state`,
        value: { vtype: 28, value: i % 2 },
        label: i % 2 ? "locked" : "unlocked",
      });
    sim.store.block({ th: 10, usid: 59, diff: spec });
    const r = await readCommitDiff(client, { thandle: 10, usid: 59 });
    assert.equal(r.stats.labelled, 200);
    assert.equal(sim.xpathCalls, 2);
    assert.deepEqual(r.changes[1].value, { type: "C_ENUM_VALUE", value: 1, label: "locked" });
    const again = await readCommitDiff(client, { thandle: 10, usid: 59, labels: false });
    assert.equal(again.stats.labelled, 0);
    assert.equal(again.stats.unlabelled, 200);
  });

  it("ITER_CONTINUE on created entries reads the entries only (the 500-entry bulk commit gives 500 items)", async () => {
    sim.store.block({ th: 11, usid: 59, diff: bulkDiffSpec(500) });
    const r = await readCommitDiff(client, { thandle: 11, usid: 59, skipCreatedChildren: true });
    assert.equal(r.changes.length, 500);
    assert.ok(r.changes.every((c) => c.op === "created"));
  });

  it("a dead port fails fast, and is not dialled again before the backoff delay", async () => {
    const dead = net.createServer();
    await new Promise<void>((res) => dead.listen(0, "127.0.0.1", res));
    const port = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((res) => dead.close(() => res()));
    const c = new MaapiClient({ host: "127.0.0.1", port, backoff: new Backoff({ initialMs: 60_000, jitter: 0 }) });
    const first = await readCommitDiff(c, { thandle: 1 });
    assert.equal(first.reason, "error");
    assert.match(first.error!.message, /ECONNREFUSED/);
    const second = await readCommitDiff(c, { thandle: 1 });
    assert.equal(second.error?.code, "maapi-unavailable");
    assert.equal(c.dials, 1);
    c.close();
    const third = await readCommitDiff(c, { thandle: 1 });
    assert.equal(third.error?.code, "maapi-closed");
  });

  it("loads the hash DB once per connection and names the NETCONF config-change event, rendered as XML", async () => {
    const db = await client.hashDb();
    assert.ok(db.size > 40);
    assert.equal(await client.hashDb(), db, "cached");
    const NS = 1244620176;
    const values = decodeTagValues(
      streamValues([
        [NS, 2103098691, "start"],
        [NS, 737643097, "start"],
        [NS, 870658415, "admin"],
        [NS, 372565948, { vtype: 12, value: 7 }],
        [NS, 737643097, "stop"],
        [NS, 1716487530, "start"],
        [NS, 1037011282, { vtype: 28, value: 1 }],
        [NS, 1716487530, "stop"],
        [NS, 2103098691, "stop"],
      ]),
      "values",
    );
    const named = nameTagValues(values, db);
    assert.deepEqual(
      named.map((v) => v.name),
      ["netconf-config-change", "changed-by", "username", "session-id", "changed-by", "edit", "operation", "edit", "netconf-config-change"],
    );
    assert.equal(named[0].nsUri, "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications");
    assert.equal(
      renderNotificationXml(named),
      '<netconf-config-change xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"><changed-by><username>admin</username><session-id>7</session-id></changed-by><edit><operation>1</operation></edit></netconf-config-change>',
    );
    // Unknown hashes keep their number; hostile text is escaped; unbalanced input does not throw.
    const odd = nameTagValues(
      [
        { ns: 0, tag: 42, value: "<&>" },
        { ns: 0, tag: 43, value: { type: "C_XMLEND" } },
      ],
      new HashDb(),
    );
    assert.equal(renderNotificationXml(odd), "<_42>&lt;&amp;&gt;</_42></_43>");
  });
});
