import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { AddressInfo, createServer, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findSimulator, ListenError, RunningSimulator, simulators, UsageError } from "../../../src/sim/registry";

/**
 * What a launcher (scripts/demo.js) relies on: start() from a plain options object, the bound
 * ports in `ports`, and errors that say what went wrong before or while listening.
 */
describe("simulator start(): the launcher API", () => {
  let dir: string;
  let held: Server | undefined;
  const running: RunningSimulator[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "infra-events-sim-start-"));
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.close()));
    if (held) await new Promise((res) => held!.close(res));
    held = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function holdPort(): Promise<number> {
    held = createServer();
    await new Promise<void>((res) => held!.listen(0, "127.0.0.1", res));
    return (held.address() as AddressInfo).port;
  }

  /** Options that keep a simulator quiet and its files in the test's folder. */
  const quiet: Record<string, Record<string, string | number | boolean>> = {
    nso: { scenario: "none" },
    apic: { trickle: 0 },
    sysadm: { quiet: true },
  };
  const optionsFor = (name: string, ports: Record<string, number>) => ({
    ...quiet[name],
    ...(name === "sysadm" ? { "cert-file": join(dir, "c.crt") } : {}),
    ...ports,
  });

  for (const s of simulators) {
    it(`${s.name}: every port option at 0 is bound, and ports/endpoints report the real ones`, async () => {
      const portNames = s.options.filter((o) => o.kind === "number" && o.port).map((o) => o.name);
      const r = await s.start(optionsFor(s.name, Object.fromEntries(portNames.map((n) => [n, 0]))));
      running.push(r);
      assert.equal(r.name, s.name);
      assert.deepEqual(Object.keys(r.ports).sort(), [...portNames].sort());
      const shown = Object.values(r.endpoints).join(" ");
      for (const n of portNames) {
        assert.ok(r.ports[n] > 0, `${n} bound: ${r.ports[n]}`);
        assert.ok(shown.includes(`127.0.0.1:${r.ports[n]}`), `${n} in the endpoints: ${shown}`);
      }
    });
  }

  it("a mistyped or badly valued option is a UsageError naming it", async () => {
    const nso = findSimulator("nso")!;
    await assert.rejects(nso.start({ prot: 0 }), (e: Error) => e instanceof UsageError && e.message === "unknown option --prot (did you mean --port?)");
    await assert.rejects(findSimulator("sysadm")!.start({ port: 0 }), (e: Error) => e instanceof UsageError && /--wss-port or --ws-port/.test(e.message));
    await assert.rejects(
      nso.start({ port: 70000 }),
      (e: Error) => e instanceof UsageError && /--port must be a port from 0 to 65535.*got 70000/.test(e.message),
    );
  });

  it("a port in use is a ListenError naming the simulator, the port and the option", async () => {
    const port = await holdPort();
    await assert.rejects(findSimulator("nso")!.start({ port, scenario: "none" }), (e: Error) => {
      assert.ok(e instanceof ListenError, String(e));
      assert.deepEqual([e.simulator, e.host, e.port, e.option, e.code], ["nso", "127.0.0.1", port, "--port", "EADDRINUSE"]);
      assert.equal(e.message, `nso simulator: port ${port} on 127.0.0.1 is already in use (choose another with --port, or 0 for any free port)`);
      return true;
    });
    await assert.rejects(
      findSimulator("apic")!.start({ port, trickle: 0 }),
      (e: Error) => e instanceof ListenError && e.simulator === "apic" && e.port === port,
    );
    const sysadm = findSimulator("sysadm")!;
    await assert.rejects(
      sysadm.start(optionsFor("sysadm", { "wss-port": port, "ws-port": 0 })),
      (e: Error) => e instanceof ListenError && e.option === "--wss-port",
    );
    await assert.rejects(
      sysadm.start(optionsFor("sysadm", { "wss-port": 0, "ws-port": port })),
      (e: Error) => e instanceof ListenError && e.option === "--ws-port",
    );
  });
});
