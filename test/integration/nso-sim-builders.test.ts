import { strict as assert } from "node:assert";
import { Backoff } from "../../src/core/backoff";
import { NsoClient, NsoEvent } from "../../src/nso/client";
import { maskOf } from "../../src/nso/constants";
import { buildNotification } from "../../src/sim/nso/builders";
import { startNsoSimulator, RunningNsoSimulator } from "../../src/sim/nso";

/**
 * The simulator's builders for the rarer notification types (§7 layouts), each decoded by our
 * own client off a real socket: what a scenario file says is what a flow receives.
 */
const TYPES = ["NOTIF_SNMPA", "NOTIF_COMMIT_FAILED", "NOTIF_CONFIRMED_COMMIT", "NOTIF_FORWARD_INFO", "NOTIF_CALL_HOME_INFO", "NOTIF_CQ_PROGRESS"];

describe("nso simulator builders: SNMPA, commit failed, confirmed commit, forward, call home, CQ lists", () => {
  let sim: RunningNsoSimulator;
  let client: NsoClient;
  const events: NsoEvent[] = [];
  const waiters: Array<(e: NsoEvent) => void> = [];

  before(async () => {
    sim = await startNsoSimulator({ port: 0 });
    client = new NsoClient({
      host: "127.0.0.1",
      port: sim.port,
      backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }),
      subscription: () => ({ mask: maskOf(TYPES) }),
    });
    client.on("notification", (e) => {
      const w = waiters.shift();
      if (w) w(e);
      else events.push(e);
    });
    const up = sim.server.waitForSubscribers(1);
    client.start();
    await up;
  });
  after(async () => {
    client.stop();
    await sim.close();
  });

  const roundTrip = (spec: { type: string } & Record<string, unknown>): Promise<Record<string, any>> => {
    const got = new Promise<NsoEvent>((resolve) => waiters.push(resolve));
    assert.equal(sim.server.inject(spec).delivered, 1);
    return got.then((e) => {
      assert.equal(e.notification.type, spec.type);
      return e.notification.payload as Record<string, any>;
    });
  };

  it("SNMPA get-response with named, OID and column varbinds, and an error status sent as the OTP atom", async () => {
    const p = await roundTrip({
      type: "NOTIF_SNMPA",
      pdu_type: 4,
      request_id: 4242,
      ip: "192.0.2.9",
      port: 161,
      error_status: "genErr",
      error_index: 2,
      vb: [
        { name: "sysDescr", vartype: 4, value: "NSO 6.2.5" },
        { oid: "1.3.6.1.2.1.1.3.0", vartype: 67, value: "4242" },
        { column: "ifDescr", rowindex: "1", vartype: 4, value: null },
      ],
    });
    assert.equal(p.request_id, 4242);
    assert.equal(p.ip4, "192.0.2.9");
    assert.equal(p.port, 161);
    assert.equal(p.error_status, 5);
    assert.equal(p.error_statusName, "genErr");
    assert.equal(p.error_index, 2);
    assert.equal(p.vb.length, 3);
    assert.equal(p.vb[0].name, "sysDescr");
    assert.equal(p.vb[0].val, "NSO 6.2.5");
    assert.equal(p.vb[1].oid, "1.3.6.1.2.1.1.3.0");
    assert.equal(p.vb[2].column, "ifDescr");
    assert.equal(p.vb[2].rowindex, "1");
    assert.equal(p.vb[2].val, null);
  });

  it("SNMPA v1 trap with time stamp, generic/specific trap, agent address and enterprise", async () => {
    const p = await roundTrip({
      type: "NOTIF_SNMPA",
      pdu_type: 1,
      time_stamp: 99,
      generic_trap: 6,
      specific_trap: 3,
      agent_addr: "192.0.2.50",
      enterprise: "1.3.6.1.4.1.24961",
      vb: [{ name: "ifIndex", vartype: 2, value: "7" }],
    });
    assert.equal(p.time_stamp, 99);
    assert.equal(p.generic_trap, 6);
    assert.equal(p.specific_trap, 3);
    assert.equal(p.agent_addr, "192.0.2.50");
    assert.equal(p.enterprise, "1.3.6.1.4.1.24961");
    assert.equal(p.vb[0].val, "7");
    // No slot for them on the wire; the Python API reports them as 0 on a v1 trap.
    assert.equal(p.request_id, 0);
    assert.equal(p.error_status, 0);
    assert.equal(p.error_index, 0);
  });

  it("COMMIT_FAILED for each provider layout: NETCONF peer, external daemon, CDB", async () => {
    const nc = await roundTrip({ type: "NOTIF_COMMIT_FAILED", provider: 2, dbname: 2, ip: "2001:db8::7", port: 830 });
    assert.equal(nc.port, 830);
    assert.equal(nc.ip6, "2001:db8::7");
    const ext = await roundTrip({ type: "NOTIF_COMMIT_FAILED", provider: 3, dbname: 1, daemon_name: "my-db" });
    assert.equal(ext.daemon_name, "my-db");
    const cdb = await roundTrip({ type: "NOTIF_COMMIT_FAILED", provider: 1, dbname: 2 });
    assert.equal(cdb.provider, 1);
    assert.equal(cdb.daemon_name, undefined);
  });

  it("CONFIRMED_COMMIT and FORWARD_INFO carry their type, timeout/target and uinfo", async () => {
    const cc = await roundTrip({ type: "NOTIF_CONFIRMED_COMMIT", confirm_type: 2, timeout: 300, uinfo: { usid: 61, username: "oper" } });
    assert.equal(cc.type, 2);
    assert.equal(cc.timeout, 300);
    assert.equal(cc.uinfo.usid, 61);
    assert.equal(cc.uinfo.username, "oper");
    const fw = await roundTrip({ type: "NOTIF_FORWARD_INFO", forward_type: 3, target: "pe1", uinfo: { usid: 62 } });
    assert.equal(fw.type, 3);
    assert.equal(fw.target, "pe1");
    assert.equal(fw.uinfo.usid, 62);
  });

  it("CALL_HOME_INFO: a known device (with its name) and an unknown one (without)", async () => {
    const known = await roundTrip({
      type: "NOTIF_CALL_HOME_INFO",
      call_home_type: 1,
      device: "ce7",
      ip: "192.0.2.31",
      port: 4334,
      ssh_host_key: "AAAAkey",
      ssh_key_alg: "ssh-rsa",
    });
    assert.equal(known.type, 1);
    assert.equal(known.device, "ce7");
    assert.equal(known.ip4, "192.0.2.31");
    assert.equal(known.port, 4334);
    assert.equal(known.ssh_host_key, "AAAAkey");
    assert.equal(known.ssh_key_alg, "ssh-rsa");
    const unknown = await roundTrip({ type: "NOTIF_CALL_HOME_INFO", call_home_type: 2 });
    assert.equal(unknown.type, 2);
    assert.equal(unknown.device, undefined);
  });

  it("CQ progress with failed devices (and reasons), completed and failed services", async () => {
    const p = await roundTrip({
      type: "NOTIF_CQ_PROGRESS",
      cq_type: 5,
      cq_id: 1700000000123,
      cq_tag: "nightly",
      completed: ["ce0"],
      failed: [["ce1", "connection refused"], { device: "ce2", reason: "timeout" }],
      completed_services: [["/l3vpn{a}", ["ce0"]]],
      failed_services: [["/l3vpn{b}", ["ce0"], ["ce1", "ce2"]]],
    });
    assert.equal(p.cq_id, 1700000000123);
    assert.equal(p.cq_tag, "nightly");
    assert.deepEqual(p.completed_devices, ["ce0"]);
    assert.deepEqual(p.failed_devices, ["ce1", "ce2"]);
    assert.deepEqual(p.failed_reasons, ["connection refused", "timeout"]);
    assert.deepEqual(p.completed_services, ["/l3vpn{a}"]);
    assert.deepEqual(p.completed_services_completed_devices, [["ce0"]]);
    assert.deepEqual(p.failed_services, ["/l3vpn{b}"]);
    assert.deepEqual(p.failed_services_completed_devices, [["ce0"]]);
    assert.deepEqual(p.failed_services_failed_devices, [["ce1", "ce2"]]);
  });

  it("a bad spec is a clear RangeError at build time, not a frame NSO would never send", () => {
    const ctx = { libVsn: 0x08020500, mask: 0 };
    assert.throws(() => buildNotification({ type: "NOTIF_SNMPA", vb: [{ vartype: 4 }] }, ctx), /needs name, oid/);
    assert.throws(() => buildNotification({ type: "NOTIF_SNMPA", error_status: "bogus" }, ctx), /unknown name/);
    // A v1 trap has no request id or error fields on the wire: a scenario that sets them would lose them silently.
    assert.throws(() => buildNotification({ type: "NOTIF_SNMPA", pdu_type: 1, request_id: 5 }, ctx), /v1 trap.*request_id/);
    assert.throws(() => buildNotification({ type: "NOTIF_SNMPA", pdu_type: 1, error_status: "genErr" }, ctx), /v1 trap.*error_status/);
    assert.throws(() => buildNotification({ type: "NOTIF_SNMPA", vb: [{ oid: "1.x", vartype: 6 }] }, ctx), /dotted OID/);
    assert.throws(() => buildNotification({ type: "NOTIF_CQ_PROGRESS", failed: "ce1" }, ctx), /must be an array/);
    assert.equal(events.length, 0, "no unexpected notification reached the client");
  });
});
