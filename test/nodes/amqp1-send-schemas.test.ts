import assert from "node:assert/strict";
import helper from "node-red-node-test-helper";
import { nodeRedPath } from "../support/node-red-path";
import brokerNode from "../../src/nodes/amqp1-broker";
import sendNode from "../../src/nodes/amqp1-send";
import { SchemaValidator } from "../../src/amqp";
import { RABBIT, RABBIT_URL, uniq } from "../unit/amqp/support/rabbit";
import { SchemaFolder } from "../unit/amqp/support/schema-folder";
import { waitOn } from "../support/wait";

helper.init(nodeRedPath);

type Call = { args: any[]; thisValue: unknown };
const errorsOf = (id: string): string[] => {
  const n = helper.getNode(id);
  const calls = (n as unknown as { error: { getCalls(): Call[] } }).error.getCalls().filter((c) => c.thisValue === n);
  return calls.map((c) => String(c.args[0]?.message ?? c.args[0]));
};
const untilErrors = (id: string, n: number) =>
  waitOn(helper.getNode(id), "call:error", () => errorsOf(id).length >= n, `${n} errors on ${id}; saw ${JSON.stringify(errorsOf(id))}`, 8000);

const creds = { br: { username: RABBIT.username, password: RABBIT.password } };
const broker = { id: "br", type: "amqp1-broker", urls: RABBIT_URL, vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 };

describe("amqp1-send with a schema folder in a Node-RED runtime", function () {
  this.timeout(30000);
  let folder: SchemaFolder;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => (folder = new SchemaFolder()));
  afterEach(async () => {
    await helper.unload();
    folder.remove();
  });

  it("names the line and element of an invalid event, reports a broken folder, and frees its validator on close", async () => {
    // Which validators were closed: the compiled schemas live in WASM memory no GC frees.
    const closed: string[] = [];
    const proto = SchemaValidator.prototype;
    const close = Object.getOwnPropertyDescriptor(proto, "close")!;
    Object.defineProperty(proto, "close", {
      ...close,
      value: function (this: SchemaValidator) {
        closed.push(this.folder);
        (close.value as (this: SchemaValidator) => void).call(this);
      },
    });
    try {
      const flow = [
        broker,
        { id: "snd", type: "amqp1-send", broker: "br", address: "/exchange/amq.topic", domain: uniq("org.ietest"), schemas: folder.dir, wires: [] },
      ];
      await helper.load([brokerNode, sendNode], flow, creds);
      const snd = helper.getNode("snd");
      snd.receive({ payload: { PhoneStatus: { CallerId: "1", ReceiverId: "2" } } });
      await untilErrors("snd", 1);
      assert.match(errorsOf("snd")[0], /^event PhoneStatus does not match the schemas: line 1, \/Event\/PhoneStatus: .*Missing child element.*Status/);

      folder.write("Broken.xsd", `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:complexType name="Broken">`);
      // A new node (redeploy) looks at the folder at once: its first send finds the broken file.
      await helper.unload();
      assert.deepEqual(closed, [folder.dir]);
      await helper.load([brokerNode, sendNode], flow, creds);
      helper.getNode("snd").receive({ payload: { PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } } });
      await untilErrors("snd", 1);
      assert.match(errorsOf("snd")[0], /do not compile: Broken\.xsd line 1: /);
      await helper.unload();
      assert.deepEqual(closed, [folder.dir, folder.dir]);
    } finally {
      Object.defineProperty(proto, "close", close);
    }
  });
});
