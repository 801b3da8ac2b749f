import assert from "node:assert/strict";
import type { Node } from "node-red";
import { refuseConfig } from "../../../src/nodes/lib/refused-config";
import type { NodeStatus } from "../../../src/nodes/lib/status";

describe("nodes/lib/refused-config: the one way a config node refuses its settings", () => {
  it("says why once on the node, keeps it as configError, tells every user in its status, and never shows a password", () => {
    const said: string[] = [];
    const node = { error: (t: string) => said.push(t) } as unknown as Node & { configError?: Error };
    const refused = refuseConfig(node, "amqp1-broker amqp://127.0.0.1", new Error("cannot parse amqp://user:s3cret@host:5672/x"));
    assert.equal(said.length, 1);
    assert.match(said[0], /^amqp1-broker amqp:\/\/127\.0\.0\.1: cannot parse amqp:\/\/.*host:5672\/x$/);
    assert.ok(!said[0].includes("s3cret"), said[0]);
    assert.equal(node.configError, refused.error);
    assert.ok(!refused.error.message.includes("s3cret"));
    const statuses: NodeStatus[] = [];
    const user = { id: "u1", status: (s: NodeStatus) => statuses.push(s) };
    refused.register(user);
    refused.register({ id: "u2", status: (s: NodeStatus) => statuses.push(s) });
    assert.equal(statuses.length, 2);
    assert.equal(statuses[0].fill, "red");
    assert.match(statuses[0].text ?? "", /^cannot parse amqp:\/\//);
    assert.ok(!(statuses[0].text ?? "").includes("s3cret"));
    assert.deepEqual(statuses[1], statuses[0]);
    refused.deregister();
  });

  it("takes what was thrown, Error or not", () => {
    const node = { error: () => undefined } as unknown as Node & { configError?: Error };
    assert.equal(refuseConfig(node, "nso-server", "port must be a whole number").error.message, "port must be a whole number");
  });
});
