/**
 * The client on the fast path: every golden notification frame, written as NSO wrote it by the
 * simulator (127.0.0.1, port 0), reaches the flow as the generic path would hand it on: the same
 * notifications in the same order (stream events filtered by StreamResume as before), the same
 * ack handles, `raw` the generic term (an own property on a blocking notification, which
 * nso-server copies per recipient; read lazily on the others).
 */
import { strict as assert } from "node:assert";
import { Backoff } from "../../../src/core/backoff";
import { ackFor } from "../../../src/nso/acks";
import { NsoClient, NsoEvent } from "../../../src/nso/client";
import { MESSAGE_TYPE_NAMES, maskOf } from "../../../src/nso/constants";
import { decodeNotification, NsoNotification } from "../../../src/nso/notifications";
import { StreamResume } from "../../../src/nso/stream-resume";
import { decodeTerm } from "../../../src/nso/term";
import { RunningNsoSimulator, startNsoSimulator } from "../../../src/sim/nso";
import { canonicalTerm, readFrames } from "./term-support";

const STEPS = new Set(["HANDSHAKE_HEADER", "VERSION_REPLY", "SUBSCRIBE", "SUBSCRIBE_REPLY", "AFTER_REPLY", "SERVER_CLOSED", "CLIENT_EXTRA", "ACK"]);
const MASK = maskOf([...MESSAGE_TYPE_NAMES, "NOTIF_AUDIT_SYNC", "NOTIF_HA_INFO_SYNC", "NOTIF_AUDIT_NETWORK_SYNC"]);

describe("nso fast decode in the client: what the flow gets is the generic path's", () => {
  let sim: RunningNsoSimulator | undefined;
  let client: NsoClient | undefined;
  afterEach(async () => {
    client?.stop();
    await sim?.close();
  });

  it("every golden notification frame: same notification, ack and raw, in order", async () => {
    const frames = readFrames().filter((f) => f.dir === "in" && f.bytes !== null && f.bytes.length > 4 && f.bytes[4] === 131 && !STEPS.has(f.name));
    // The generic path's verdicts, with the client's own stream bookkeeping, as before the fast path.
    const stream = new StreamResume();
    stream.subscribed(false);
    const want: Array<{ notification: NsoNotification; raw: string; acked: boolean }> = [];
    for (const f of frames) {
      const payload = f.bytes!.subarray(4);
      const term = decodeTerm(payload);
      if (stream.classify(term, payload, false) !== "deliver") continue;
      want.push({ notification: decodeNotification(term, { libVsn: 0x08020500 }), raw: canonicalTerm(term), acked: ackFor(term, MASK) !== undefined });
    }

    sim = await startNsoSimulator({ host: "127.0.0.1", port: 0 });
    const c = new NsoClient({
      host: "127.0.0.1",
      port: sim.port,
      backoff: new Backoff({ initialMs: 20, maxMs: 100, jitter: 0 }),
      subscription: () => ({ mask: MASK, stream: { name: "NETCONF" } }),
    });
    client = c;
    const got: NsoEvent[] = [];
    const all = new Promise<void>((resolve) =>
      c.on("notification", (ev) => {
        got.push(ev);
        if (got.length === want.length) resolve();
      }),
    );
    const drops: string[] = [];
    c.on("drop", (e) => drops.push(e.code));
    const subscribed = new Promise((resolve) => c.once("subscribed", resolve));
    c.start();
    await subscribed;
    sim.server.injectBytes(Buffer.concat(frames.map((f) => f.bytes!)));
    await all;

    assert.deepEqual(drops, []);
    assert.equal(got.length, want.length);
    got.forEach((ev, i) => {
      assert.deepStrictEqual(ev.notification, want[i].notification, `event ${i}`);
      assert.equal(JSON.stringify(ev.notification), JSON.stringify(want[i].notification), `event ${i}`);
      assert.equal(ev.ack !== undefined, want[i].acked, `event ${i} ack`);
      // Blocking: the term is an own property, so {...ev} keeps it; the others decode it when read.
      assert.equal(Object.prototype.hasOwnProperty.call(ev, "raw"), want[i].acked, `event ${i} raw`);
      assert.equal(canonicalTerm(ev.raw), want[i].raw, `event ${i} raw`);
    });
    assert.ok(got.filter((ev) => ev.ack !== undefined).length >= 20, "blocking notifications among them");
  });
});
