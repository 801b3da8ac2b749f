import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Backoff } from "../../src/core/backoff";
import { NsoClient, NsoEvent } from "../../src/nso/client";
import { maskOf } from "../../src/nso/constants";

/**
 * The client against an independent peer: an Erlang escript that encodes with Erlang's own
 * term_to_binary and decodes our subscription and ack with binary_to_term. If our codec and
 * our simulator agreed on a mistake, this test would still catch it.
 */
const SCRIPT = join(__dirname, "..", "fixtures", "nso", "nso_peer.escript");

describe("nso integration: client <-> Erlang escript peer", function () {
  this.timeout(30000);
  let peer: ChildProcess | undefined;
  let client: NsoClient | undefined;

  afterEach(() => {
    client?.stop();
    peer?.kill();
  });

  it("decodes Erlang's term_to_binary notifications and the peer reads our subscription and ack", async () => {
    peer = spawn("escript", [SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
    const lines: string[] = [];
    const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
    createInterface({ input: peer.stdout! }).on("line", (l) => {
      lines.push(l);
      for (const w of waiters.splice(0)) {
        if (w.re.test(l)) w.resolve(l);
        else waiters.push(w);
      }
    });
    const line = (re: RegExp): Promise<string> => {
      const hit = lines.find((l) => re.test(l));
      return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ re, resolve }));
    };
    const port = Number((await line(/^PORT /)).split(" ")[1]);
    const types = ["NOTIF_AUDIT", "NOTIF_USER_SESSION", "NOTIF_HA_INFO", "NOTIF_HEARTBEAT", "NOTIF_STREAM_EVENT", "NOTIF_COMMIT_DIFF", "NOTIF_COMMIT_SIMPLE"];
    const got: NsoEvent[] = [];
    client = new NsoClient({
      host: "127.0.0.1",
      port,
      backoff: new Backoff({ initialMs: 5000 }),
      subscription: () => ({ mask: maskOf(types), heartbeatMs: 1000, stream: { name: "NETCONF" } }),
    });
    const all = new Promise<void>((resolve) => {
      client!.on("notification", (ev) => {
        got.push(ev);
        if (ev.ack) void client!.ack(ev.ack);
        if (ev.notification.type === "NOTIF_COMMIT_SIMPLE") resolve();
      });
    });
    client.start();
    const sub = await line(/^SUB /);
    assert.equal(sub, `SUB {${maskOf(types)},1000,0,{'NETCONF',undefined,undefined,undefined,0,0},0}`);
    assert.equal(await line(/^HEADER /), "HEADER 82 8020500");
    await all;
    assert.equal(await line(/^ACK /), "ACK {119,done}");
    assert.deepEqual(
      got.map((e) => e.notification.type),
      ["NOTIF_AUDIT", "NOTIF_USER_SESSION", "NOTIF_HA_INFO", "NOTIF_HEARTBEAT", "NOTIF_STREAM_EVENT", "NOTIF_COMMIT_DIFF", "NOTIF_COMMIT_SIMPLE"],
    );
    assert.equal(got[0].notification.payload.msg, "assigned to groups: admin");
    assert.ok(got[5].ack, "commit diff carries an ack token");
    await line(/^DONE/);
    assert.equal(client.drops.total, 0);
  });
});
