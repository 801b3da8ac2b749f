import assert from "node:assert/strict";
import { formatOptions, OptionSpec, parseArgv, resolveOptions, UsageError } from "../../../src/sim/options";
import { plan } from "../../../src/sim/cli";
import { simulators } from "../../../src/sim/registry";

const SPECS: readonly OptionSpec[] = [
  { name: "port", kind: "number", port: true, default: 4569, help: "listen port" },
  { name: "ws-port", kind: "number", port: true, default: 12152, help: "ws port" },
  { name: "ttl", kind: "number", positive: true, default: 60, help: "lifetime" },
  { name: "trickle", kind: "number", default: 2000, help: "pace" },
  { name: "user", kind: "string", default: "demo", help: "login" },
  { name: "secret-file", kind: "string", help: "secret" },
  { name: "quiet", kind: "flag", help: "no events" },
  { name: "reorder", kind: "choice", choices: ["random", "reverse", "none"], default: "random", help: "reply order" },
  { name: "tls-key", kind: "string", together: "tls-cert", help: "key" },
  { name: "tls-cert", kind: "string", together: "tls-key", help: "cert" },
];

/** The UsageError message of `fn`, failing when it does not throw one. */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
    return e.message;
  }
  assert.fail("expected a UsageError, nothing was thrown");
}

describe("sim options: one declaration for parsing, validation and help", () => {
  it("parses --name value, --name=value and flags, and fills in the declared defaults", () => {
    const raw = parseArgv(SPECS, ["--port", "0", "--user=ops", "--quiet", "--reorder", "none"]);
    assert.deepEqual(raw, { port: "0", user: "ops", quiet: true, reorder: "none" });
    const o = resolveOptions(SPECS, raw);
    assert.equal(o.number("port"), 0);
    assert.equal(o.number("ws-port"), 12152, "default");
    assert.equal(o.string("user"), "ops");
    assert.equal(o.string("secret-file"), undefined, "no default, not given");
    assert.equal(o.flag("quiet"), true);
    assert.equal(resolveOptions(SPECS, {}).flag("quiet"), false);
    assert.equal(o.string("reorder"), "none");
  });

  it("validates a launcher's plain object the same way: numbers or strings, undefined = not given", () => {
    const o = resolveOptions(SPECS, { port: 0, "ws-port": "8080", user: undefined });
    assert.equal(o.number("port"), 0);
    assert.equal(o.number("ws-port"), 8080);
    assert.equal(o.string("user"), "demo");
    assert.match(
      usageError(() => resolveOptions(SPECS, { prot: 0 })),
      /unknown option --prot \(did you mean --port\?\)/,
    );
    assert.match(
      usageError(() => resolveOptions(SPECS, { quiet: "yes" })),
      /--quiet is a flag/,
    );
  });

  it("rejects unknown options, naming them and the options they were probably meant to be", () => {
    assert.equal(
      usageError(() => parseArgv(SPECS, ["--bogus", "1"])),
      "unknown option --bogus",
    );
    assert.equal(
      usageError(() => parseArgv(SPECS, ["--prot", "1"])),
      "unknown option --prot (did you mean --port?)",
    );
    assert.equal(
      usageError(() => parseArgv([SPECS[1]], ["--port", "1"])),
      "unknown option --port (did you mean --ws-port?)",
    );
    assert.equal(
      usageError(() => parseArgv(SPECS, ["-p", "1"])),
      "unknown option -p",
    );
    assert.match(
      usageError(() => parseArgv(SPECS, ["extra"])),
      /unexpected argument "extra"/,
    );
    assert.equal(
      usageError(() => parseArgv(SPECS, ["--bogus"], { explainUnknown: (n) => `say more about ${n}` })),
      "say more about bogus",
    );
  });

  it("rejects bad values, naming the option and the value", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--port", "abc"], /^--port needs a number, got "abc"$/],
      [["--port", ""], /^--port needs a number, got ""$/],
      [["--port", "-1"], /^--port must be a port from 0 to 65535 .*got "-1"$/],
      [["--port", "65536"], /^--port must be a port from 0 to 65535 .*got "65536"$/],
      [["--port", "1.5"], /^--port must be a port .*got "1.5"$/],
      [["--trickle", "-5"], /^--trickle must not be negative, got "-5"$/],
      [["--ttl", "0"], /^--ttl must be greater than 0, got "0"$/],
      [["--reorder", "sideways"], /^--reorder must be one of random, reverse, none, got "sideways"$/],
      [["--user="], /^--user needs a non-empty text, got ""$/],
      [["--port"], /^--port needs a value/],
      [["--port", "--quiet"], /^--port needs a value/],
      [["--quiet=1"], /^--quiet is a flag and takes no value, got "1"$/],
      [["--port", "1", "--port", "2"], /^--port is given twice$/],
      [["--tls-key", "k.pem"], /^--tls-key and --tls-cert go together$/],
    ];
    for (const [args, expected] of cases)
      assert.match(
        usageError(() => parseArgv(SPECS, args)),
        expected,
        args.join(" "),
      );
    assert.deepEqual(parseArgv(SPECS, ["--port", "65535"]), { port: "65535" }, "the highest port is fine");
  });

  it("generates help from the declarations: every option, its value and its default", () => {
    const lines = formatOptions(SPECS);
    assert.equal(lines.length, SPECS.length);
    for (const [i, s] of SPECS.entries()) assert.ok(lines[i].startsWith(`--${s.name}`), lines[i]);
    assert.match(lines[0], /^--port PORT +listen port \(default: 4569; 0 = any free port\)$/);
    assert.match(lines[6], /^--quiet +no events$/);
    assert.match(lines[7], /^--reorder random\|reverse\|none +reply order \(default: random\)$/);
    assert.ok(formatOptions(SPECS, "nso-")[0].startsWith("--nso-port PORT"));
  });

  it("treats reading an undeclared option as a bug in the simulator, not a usage error", () => {
    const o = resolveOptions(SPECS, {});
    assert.throws(
      () => o.number("prot"),
      (e: Error) => !(e instanceof UsageError) && /not declared/.test(e.message),
    );
    assert.throws(() => o.number("user"), /is a string, not a number/);
  });

  it("every simulator's declared defaults pass its own validation, and names are unique", () => {
    for (const s of simulators) {
      const names = s.options.map((o) => o.name);
      assert.equal(new Set(names).size, names.length, s.name);
      const defaults = Object.fromEntries(s.options.flatMap((o) => (o.kind !== "flag" && o.default !== undefined ? [[o.name, o.default]] : [])));
      resolveOptions(s.options, defaults);
      assert.ok(
        s.options.some((o) => o.kind === "number" && o.port),
        `${s.name} declares its port(s)`,
      );
    }
  });
});

describe("sim cli: what a command line asks for", () => {
  it("all: options carry the simulator's name and are handed to that simulator without it", () => {
    const p = plan(["all", "--nso-port", "0", "--sysadm-ws-port=1", "--apic-trickle", "0", "--sysadm-quiet"]);
    assert.equal(p.kind, "run");
    if (p.kind !== "run") return;
    assert.deepEqual(
      p.starts.map((s) => [s.simulator.name, s.options]),
      [
        ["nso", { port: "0" }],
        ["apic", { trickle: "0" }],
        ["sysadm", { "ws-port": "1", quiet: true }],
      ],
    );
  });

  it("all: an unprefixed option is refused with the prefixed spellings", () => {
    const p = plan(["all", "--port", "0"]);
    assert.equal(p.kind, "error");
    if (p.kind === "error") assert.equal(p.message, "all: options need the simulator's name in front: --nso-port or --apic-port, not --port");
    const q = plan(["all", "--sysadm-port", "0"]);
    if (q.kind === "error") assert.equal(q.message, "all: unknown option --sysadm-port (did you mean --sysadm-wss-port or --sysadm-ws-port?)");
    else assert.fail(`expected an error, got ${q.kind}`);
  });

  it("help wins wherever it stands, even after a bad option", () => {
    for (const argv of [["--help"], ["-h"], ["nso", "--bogus", "-h"], ["sysadm", "--port", "x", "--help"], ["all", "-h"], ["help", "apic"]]) {
      const p = plan(argv);
      assert.equal(p.kind, "help", argv.join(" "));
      if (p.kind === "help") assert.equal(p.exitCode, 0);
    }
    const none = plan([]);
    assert.ok(none.kind === "help" && none.exitCode === 2, "no arguments: usage, exit 2");
    assert.equal(plan(["bogus", "--help"]).kind, "error", "an unknown simulator is not helped");
  });
});
