import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import { load, nextMsg, node } from "../support/nso-nodes";

/**
 * Two nso-events nodes on one nso-server against the independent Erlang peer (issue 10,
 * item 2): the peer blocks its commit until it reads an ack, prints every frame the client
 * sends, and so shows that NSO gets exactly one {Th, done}, after both nso-acks.
 */
helper.init(nodeRedPath);

const SCRIPT = join(__dirname, "..", "fixtures", "nso", "nso_peer.escript");

describe("nso integration: two nso-events nodes, one commit, the Erlang escript peer", function () {
  this.timeout(30000);
  let peer: ChildProcess | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    peer?.kill();
  });

  it("both flows get the commit with their own token; the peer reads one ack, and nothing more", async () => {
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
    const events = { type: "nso-events", server: "srv", notifications: ["NOTIF_COMMIT_DIFF", "NOTIF_COMMIT_SIMPLE"], autoAck: 0 };
    await load([
      { id: "srv", type: "nso-server", host: "127.0.0.1", port, heartbeat: 0, protoVsn: "82" },
      { id: "e1", ...events, wires: [["a1"]] },
      { id: "e2", ...events, wires: [["a2"]] },
      { id: "a1", type: "nso-ack", wires: [["o1"]] },
      { id: "a2", type: "nso-ack", wires: [["o2"]] },
      { id: "o1", type: "helper" },
      { id: "o2", type: "helper" },
    ]);
    const [m1, m2] = await Promise.all([nextMsg(node("o1"), "NOTIF_COMMIT_DIFF"), nextMsg(node("o2"), "NOTIF_COMMIT_DIFF")]);
    assert.notDeepEqual(m1.ack, m2.ack);
    assert.equal(await line(/^ACK /), "ACK {119,done}");
    // The commit went on: the peer sent its next notification.
    await line(/^DONE/);
    await helper.unload();
    await line(/^CLOSED/);
    assert.deepEqual(
      lines.filter((l) => /^(ACK|EXTRA) /.test(l)),
      ["ACK {119,done}"],
    );
  });
});
