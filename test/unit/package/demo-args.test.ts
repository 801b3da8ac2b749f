import assert from "node:assert/strict";

// `npm start -- <options>`: the demo's command line and environment, checked without starting it.

const demo = require("../../../scripts/demo.js") as {
  parseArgs(argv: string[], env?: Record<string, string>): Record<string, unknown>;
  usage(): string;
  UsageError: new (m: string) => Error;
};

describe("package/demo command line", () => {
  it("moves every port by flag or environment, the flag winning", () => {
    const env = { INFRA_EVENTS_NSO_PORT: "14569", INFRA_EVENTS_APIC_PORT: "0", INFRA_EVENTS_DEMO_PORT: "1990" };
    const o = demo.parseArgs(["--nso-port", "24569", "--sysadm-ws-port=0", "--sysadm-wss-port", "0", "--amqp-url", "amqp://127.0.0.1:5673"], env);
    assert.deepEqual(o, { port: 1990, nsoPort: 24569, apicPort: 0, sysadmWsPort: 0, sysadmWssPort: 0, amqpUrl: "amqp://127.0.0.1:5673" });
  });

  it("takes --reset and --help", () => {
    assert.deepEqual(demo.parseArgs(["--reset"], {}), { reset: true });
    assert.deepEqual(demo.parseArgs(["--reset", "--help"], {}), { help: true });
    for (const flag of ["--port", "--nso-port", "--apic-port", "--sysadm-ws-port", "--sysadm-wss-port", "--amqp-url", "--reset", "--user-dir"]) {
      assert.ok(demo.usage().includes(flag), `usage lists ${flag}`);
    }
  });

  it("refuses unknown options and bad values, naming them", () => {
    const bad: Array<[string[], Record<string, string>, RegExp]> = [
      [["--nso-prot", "1"], {}, /unknown option "--nso-prot"/],
      [["--nso-port", "http"], {}, /--nso-port must be a port number/],
      [["--port", "70000"], {}, /--port must be a port number/],
      [["--apic-port"], {}, /--apic-port needs a value/],
      [["--reset=yes"], {}, /--reset takes no value/],
      [["--amqp-url", "http://x"], {}, /--amqp-url must be an amqp/],
      [[], { INFRA_EVENTS_SYSADM_WS_PORT: "-1" }, /INFRA_EVENTS_SYSADM_WS_PORT must be a port number/],
    ];
    for (const [argv, env, msg] of bad) {
      assert.throws(
        () => demo.parseArgs(argv, env),
        (e: Error) => e instanceof demo.UsageError && msg.test(e.message),
        argv.join(" "),
      );
    }
  });
});
