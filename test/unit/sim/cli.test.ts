import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { AddressInfo, createServer, connect, Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { simulators } from "../../../src/sim/registry";

/**
 * The real `infra-events-sim` binary (bin/ -> built dist/sim/cli.js) in a child process: what a user
 * gets on the command line. Needs `npm run build` first (npm test does it).
 */

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin", "infra-events-sim.js");
/** A help run or an error must end by itself; one that listens never would. */
const EXIT_BOUND_MS = 10_000;

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

function sim(args: readonly string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once("close", (code, signal) => res({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Run to completion; fails (instead of hanging) when the binary does not exit by itself. */
async function runToEnd(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = sim(args);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () => rej(new Error(`infra-events-sim ${args.join(" ")} did not exit by itself (is it listening?)\n${r.stdout()}${r.stderr()}`)),
      EXIT_BOUND_MS,
    );
  });
  try {
    const { code } = await Promise.race([r.exited, bound]);
    return { code, stdout: r.stdout(), stderr: r.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolve with stdout's lines once `ready` holds for them; reject if the child exits first or the bound passes. */
function printed(r: Run, ready: (lines: string[]) => boolean): Promise<string[]> {
  return new Promise((res, rej) => {
    const lines = (): string[] => r.stdout().split("\n").filter(Boolean);
    const timer = setTimeout(() => finish(new Error(`endpoints not printed within ${EXIT_BOUND_MS} ms:\n${r.stdout()}${r.stderr()}`)), EXIT_BOUND_MS);
    const onData = (): void => {
      if (ready(lines())) finish();
    };
    const onClose = (code: number | null): void => finish(new Error(`exited (${code}) before printing its endpoints:\n${r.stdout()}${r.stderr()}`));
    function finish(e?: Error): void {
      clearTimeout(timer);
      r.child.stdout!.off("data", onData);
      r.child.off("close", onClose);
      if (e) rej(e);
      else res(lines());
    }
    r.child.stdout!.on("data", onData);
    r.child.once("close", onClose);
    onData();
  });
}

/** A port on 127.0.0.1 this test holds, so nothing else can bind it. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return { server, port: (server.address() as AddressInfo).port };
}

function canConnect(port: number): Promise<void> {
  return new Promise((res, rej) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      res();
    });
    s.once("error", rej);
  });
}

/** The port of every `<name> <what>: <scheme>://127.0.0.1:<port>...` line. */
function printedPorts(lines: readonly string[]): Map<string, number> {
  const ports = new Map<string, number>();
  for (const l of lines) {
    const m = /^(\S+ \S+): \w+:\/\/127\.0\.0\.1:(\d+)/.exec(l);
    if (m) ports.set(m[1], Number(m[2]));
  }
  return ports;
}

describe("infra-events-sim (the built binary)", function () {
  let held: { server: Server; port: number } | undefined;
  let dir: string;

  before(function () {
    const built = join(ROOT, "dist", "sim", "cli.js");
    assert.ok(existsSync(built), "dist/sim/cli.js is missing: run `npm run build` before these tests");
    // A build older than the sources would test yesterday's CLI.
    const builtAt = statSync(built).mtimeMs;
    const src = join(ROOT, "src", "sim");
    const sources = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    const newer = sources.filter((f) => statSync(join(src, f)).mtimeMs > builtAt);
    assert.deepEqual(newer, [], "src/sim changed after the last build: run `npm run build`");
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "infra-events-sim-cli-"));
  });

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (held) await new Promise((res) => held!.server.close(res));
    held = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  describe("help", () => {
    for (const s of simulators) {
      for (const flag of ["--help", "-h"]) {
        it(`${s.name} ${flag} prints its usage with every declared option on stdout and exits 0`, async () => {
          const r = await runToEnd([s.name, flag]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stderr, "");
          assert.ok(r.stdout.startsWith(`usage: infra-events-sim ${s.name} `), r.stdout);
          for (const o of s.options) assert.match(r.stdout, new RegExp(`^  --${o.name}\\b`, "m"), `--${o.name} in the help`);
        });
      }
    }

    for (const flag of ["--help", "-h"]) {
      it(`all ${flag} documents the prefixed options`, async () => {
        const r = await runToEnd(["all", flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.startsWith("usage: infra-events-sim all "), r.stdout);
        for (const s of simulators) for (const o of s.options) assert.match(r.stdout, new RegExp(`^  --${s.name}-${o.name}\\b`, "m"));
      });

      it(`${flag} alone lists every simulator and all`, async () => {
        const r = await runToEnd([flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.startsWith("usage: infra-events-sim "), r.stdout);
        for (const name of [...simulators.map((s) => s.name), "all"]) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
      });
    }

    it("help after the options does not even try to listen: it exits 0 with the ports held by the test", async () => {
      held = await holdPort();
      const p = String(held.port);
      const argvs = [
        ["nso", "--port", p, "--help"],
        ["apic", "--port", p, "-h"],
        ["sysadm", "--wss-port", p, "--ws-port", p, "--cert-file", join(dir, "c.crt"), "-h"],
        ["all", "--nso-port", p, "--apic-port", p, "--help"],
      ];
      for (const argv of argvs) {
        const r = await runToEnd(argv);
        assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
        assert.match(r.stdout, /^usage: /);
      }
      assert.equal(existsSync(join(dir, "c.crt")), false, "sysadm did not start (it writes its certificate first)");
    });
  });

  describe("usage errors exit 2 with one line naming the problem and a hint", () => {
    it("no arguments: usage on stderr, nothing on stdout", async () => {
      const r = await runToEnd([]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^usage: infra-events-sim /);
    });

    const cases: Array<[string[], RegExp, RegExp]> = [
      [["bogus"], /^infra-events-sim: unknown simulator "bogus" \(choose nso, apic, sysadm or all\)$/, /infra-events-sim --help/],
      [["nso", "--bogus", "1"], /^infra-events-sim: nso: unknown option --bogus$/, /infra-events-sim nso --help/],
      [["nso", "--port", "abc"], /^infra-events-sim: nso: --port needs a number, got "abc"$/, /nso --help/],
      [["apic", "--port", "-1"], /--port must be a port from 0 to 65535 .*got "-1"$/, /apic --help/],
      [["apic", "--port", "65536"], /--port must be a port from 0 to 65535 .*got "65536"$/, /apic --help/],
      [["sysadm", "--reorder", "sideways"], /--reorder must be one of random, reverse, none, got "sideways"$/, /sysadm --help/],
      [["nso", "--port"], /--port needs a value/, /nso --help/],
      [["sysadm", "--port", "0"], /^infra-events-sim: sysadm: unknown option --port \(did you mean --wss-port or --ws-port\?\)$/, /sysadm --help/],
      [["all", "--port", "0"], /^infra-events-sim: all: options need the simulator's name in front: --nso-port or --apic-port, not --port$/, /all --help/],
    ];
    for (const [argv, line, hint] of cases) {
      it(argv.join(" "), async () => {
        const r = await runToEnd(argv);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout, "");
        const [first, second, ...more] = r.stderr.trimEnd().split("\n");
        assert.match(first, line);
        assert.match(second, hint);
        assert.deepEqual(more, []);
      });
    }
  });

  describe("ports", () => {
    const runs: Array<[string, string[], string[]]> = [
      ["nso", ["nso", "--port", "0", "--scenario", "none"], ["nso events"]],
      ["apic", ["apic", "--port", "0", "--trickle", "0"], ["apic rest", "apic socket", "apic control"]],
      ["sysadm", ["sysadm", "--wss-port", "0", "--ws-port", "0", "--quiet", "--cert-file", "CERT"], ["sysadm wss", "sysadm ws"]],
      [
        "all",
        [
          "all",
          "--nso-port",
          "0",
          "--nso-scenario",
          "none",
          "--apic-port",
          "0",
          "--apic-trickle",
          "0",
          "--sysadm-wss-port",
          "0",
          "--sysadm-ws-port",
          "0",
          "--sysadm-quiet",
          "--sysadm-cert-file",
          "CERT",
        ],
        ["nso events", "apic rest", "sysadm wss", "sysadm ws"],
      ],
    ];
    for (const [name, argv, endpoints] of runs) {
      it(`${name} with port 0 prints the ports it really got, and stops with exit 0 on SIGTERM`, async () => {
        const r = sim(argv.map((a) => (a === "CERT" ? join(dir, "c.crt") : a)));
        const lines = await printed(r, (ls) => endpoints.every((e) => printedPorts(ls).has(e)));
        const ports = printedPorts(lines);
        for (const e of endpoints) {
          const port = ports.get(e);
          assert.ok(port !== undefined && port > 0, `${e} printed with a real port: ${lines.join(" | ")}`);
          await canConnect(port);
        }
        r.child.kill("SIGTERM");
        assert.deepEqual(await r.exited, { code: 0, signal: null }, r.stderr());
      });
    }

    it("a port in use: exit 1, naming the simulator, the port and the option", async () => {
      held = await holdPort();
      const r = await runToEnd(["nso", "--port", String(held.port), "--scenario", "none"]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr.trimEnd(),
        `infra-events-sim: nso simulator: port ${held.port} on 127.0.0.1 is already in use (choose another with --port, or 0 for any free port)`,
      );
    });

    it("sysadm's second port in use: the error names --ws-port and the process still ends (its wss port closed)", async () => {
      held = await holdPort();
      const r = await runToEnd(["sysadm", "--wss-port", "0", "--ws-port", String(held.port), "--quiet", "--cert-file", join(dir, "c.crt")]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`^infra-events-sim: sysadm simulator: port ${held.port} on 127\\.0\\.0\\.1 is already in use \\(choose another with --ws-port,`),
      );
    });

    it("all: the last simulator's port in use closes the ones already started and names the prefixed option", async () => {
      held = await holdPort();
      const r = await runToEnd([
        "all",
        "--nso-port",
        "0",
        "--apic-port",
        "0",
        "--sysadm-wss-port",
        "0",
        "--sysadm-ws-port",
        String(held.port),
        "--sysadm-cert-file",
        join(dir, "c.crt"),
      ]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "", "nothing is announced before everything started");
      assert.match(r.stderr, new RegExp(`sysadm simulator: port ${held.port} .*already in use \\(choose another with --sysadm-ws-port,`));
    });
  });
});
