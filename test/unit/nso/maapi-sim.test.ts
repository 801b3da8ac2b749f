/**
 * The MAAPI simulator answers like NSO 6.2.5 did on the wire (test/fixtures/nso/nso-maapi-frames.txt):
 * handshake rules, attach forms, iteration states, hash mode, and the IPC access check.
 */
import { strict as assert } from "node:assert";
import * as net from "node:net";
import { encodeFrame } from "../../../src/nso/framing";
import { encodeTerm } from "../../../src/nso/term";
import { atom, Term, tuple } from "../../../src/nso/term/types";
import { encodeDiffIter, encodeIterReply, encodeRequest, ITER_RECURSE, maapiHeader, MaapiConnection, parseReply } from "../../../src/nso/maapi";
import { DEMO_DIFF, MaapiSimOptions, MaapiSimServer } from "../../../src/sim/nso/maapi";

/** A bare client: send frames, read replies (to poke at states the library never enters). */
class Raw {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  constructor(readonly s: net.Socket) {
    s.on("data", (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  static async open(port: number, header = maapiHeader(82, 0x08020500)): Promise<{ raw: Raw; reply: Buffer }> {
    const s = net.connect(port, "127.0.0.1");
    const raw = new Raw(s);
    s.write(header);
    return { raw, reply: await raw.take(9) };
  }
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) await new Promise<void>((r) => this.waiters.push(r));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async frame(): Promise<Buffer> {
    const len = (await this.take(4)).readUInt32BE(0);
    return this.take(len);
  }
  send(p: Buffer): void {
    this.s.write(encodeFrame(p));
  }
  async call(p: Buffer): Promise<ReturnType<typeof parseReply>> {
    this.send(p);
    return parseReply(await this.frame());
  }
}

describe("nso maapi simulator", () => {
  let sim: MaapiSimServer;
  let port: number;
  const raws: Raw[] = [];
  const start = async (o: MaapiSimOptions = {}): Promise<void> => {
    sim = new MaapiSimServer(o);
    port = (await sim.listen()).port;
  };
  afterEach(async () => {
    raws.splice(0).forEach((r) => r.s.destroy());
    await sim.close();
  });
  const open = async (): Promise<Raw> => {
    const { raw, reply } = await Raw.open(port);
    assert.equal(reply.toString("hex"), "000052080205000e05");
    raws.push(raw);
    return raw;
  };

  it("accepts the attach forms NSO accepts and refuses the others with NSO's codes (P07-forms)", async () => {
    await start();
    sim.store.block({ th: 741, usid: 291, diff: DEMO_DIFF });
    const r = await open();
    const attach = (t: Term, th = 741) => r.call(encodeRequest(220, th, t));
    const ok = { kind: "ok", op: 220 };
    assert.deepEqual(await attach(tuple(0)), ok);
    assert.deepEqual(await attach(tuple(0, atom("useikp"))), ok);
    assert.deepEqual(await attach(tuple(0, 291)), ok);
    assert.deepEqual(await attach(tuple(469622343, 291)), ok);
    assert.deepEqual(await attach(tuple(0, 0, atom("useikp"))), { kind: "error", op: 220, ecode: 1, text: "User sess 0 doesn't exist" });
    assert.deepEqual(await attach(tuple(12345, 291)), { kind: "error", op: 220, ecode: 1, text: "No such namespace" });
    assert.deepEqual(await attach(tuple(0, 291, atom("other"))), { kind: "error", op: 220, ecode: 18, text: "" });
    assert.deepEqual(await attach(tuple(0, 291), 0xffffffff), { kind: "error", op: 220, ecode: 61, text: "No such transaction" });
    assert.deepEqual(await r.call(encodeRequest(221, 741)), { kind: "ok", op: 221 });
    assert.deepEqual(await r.call(encodeRequest(221, 741)), { kind: "error", op: 221, ecode: 61, text: "No such transaction" });
    assert.deepEqual(await r.call(encodeRequest(129)), { kind: "error", op: 129, ecode: 51, text: "Unknown MAAPI operation" });
  });

  it("DIFF_ITER without attach, a reply of 5 that leaves the iteration stuck, then badstate (P07, P08-up)", async () => {
    await start();
    sim.store.block({ th: 816, usid: 319, diff: DEMO_DIFF });
    const r = await open();
    const term = (x: ReturnType<typeof parseReply>): string => (x.kind === "term" ? encodeTerm(x.term).toString("hex") : x.kind);
    assert.equal(term(await r.call(encodeDiffIter(816, 1, 0))), encodeTerm(tuple(atom("error"), Buffer.from("Not attached to trans"))).toString("hex"));
    await r.call(encodeRequest(220, 816, tuple(0, 319, atom("useikp"))));
    const first = await r.call(encodeDiffIter(816, 1, 0));
    assert.equal(first.kind, "term");
    assert.deepEqual(await r.call(encodeIterReply(5)), { kind: "error", op: 5, ecode: 51, text: "Unknown MAAPI operation" });
    assert.equal(
      term(await r.call(encodeDiffIter(816, 1, 0))),
      encodeTerm(tuple(atom("badstate"), Buffer.from("Can't do diff_iterate while iterating"))).toString("hex"),
    );
    assert.deepEqual(await r.call(encodeRequest(221, 816)), { kind: "ok", op: 221 });
  });

  it("mode 0 sends the real NSO hashes of known nodes (§4.3)", async () => {
    await start();
    sim.store.block({ th: 5, usid: 59, diff: [{ op: "value_set", path: "/devices/global-settings/connect-timeout", value: { vtype: 12, value: 101 } }] });
    const r = await open();
    await r.call(encodeRequest(220, 5, tuple(0, 59)));
    const item = await r.call(encodeDiffIter(5, 0, 0));
    // Byte for byte the P01 item (value 123 there).
    const p01 = "8368046c00000003620a3ff33d623b2ff7356c00000001621bfdde4762101c90516a6104640009756e646566696e65646802610c6165";
    assert.equal(item.kind === "term" && encodeTerm(item.term).toString("hex"), p01);
    r.send(encodeIterReply(ITER_RECURSE));
    assert.equal(parseReply(await r.frame()).kind, "term");
  });

  it("refuses a foreign client id, an incompatible protocol and small model sizes like NSO", async () => {
    await start();
    const ev = Buffer.from("0b0052080205000000", "hex");
    const s = net.connect(port, "127.0.0.1");
    s.write(ev);
    await new Promise((res) => s.on("close", res));
    const { raw, reply } = await Raw.open(port, maapiHeader(77, 0x08020500));
    raws.push(raw);
    assert.equal(reply[0], 1);
    const { raw: raw2, reply: reply2 } = await Raw.open(port, Buffer.from("070052080205000101", "hex"));
    raws.push(raw2);
    assert.equal(reply2[0], 2);
  });

  it("runs the IPC access check with the configured secret, for the library client too", async () => {
    const secret = Buffer.from("s3cret\n");
    await start({ secret });
    sim.store.block({ th: 3, usid: 59, diff: DEMO_DIFF.slice(0, 1) });
    const c = await MaapiConnection.open({ host: "127.0.0.1", port, accessCheck: "sha256", secret });
    await c.attach(3, 59);
    c.destroy();
    await assert.rejects(MaapiConnection.open({ host: "127.0.0.1", port, accessCheck: "md5", secret: Buffer.from("wrong") }), /wrong secret/);
    await assert.rejects(MaapiConnection.open({ host: "127.0.0.1", port }), /closed the MAAPI socket during the handshake/);
  });

  it("adopts a socket another server accepted, bytes already read included (the shared IPC port)", async () => {
    await start();
    sim.store.block({ th: 4, usid: 59, diff: DEMO_DIFF.slice(0, 3) });
    const front = net.createServer((s) => {
      // What NsoSimServer will do on a client id 7 header: stop reading, hand over what it has.
      s.once("data", (first: Buffer) => sim.adopt(s, first));
    });
    await new Promise<void>((res) => front.listen(0, "127.0.0.1", res));
    try {
      const c = await MaapiConnection.open({ host: "127.0.0.1", port: (front.address() as net.AddressInfo).port });
      await c.attach(4, 59);
      let n = 0;
      await c.diffIterate(4, 0, undefined, () => (n++, ITER_RECURSE));
      assert.equal(n, 3);
      c.destroy();
    } finally {
      await new Promise<void>((res) => front.close(() => res()));
    }
  });
});
