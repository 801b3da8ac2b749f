import { ListenError } from "./listen";
import { formatOptions, OptionSpec, parseArgv, SimulatorOptions, unknownOptionMessage, UsageError } from "./options";
import { findSimulator, simulators } from "./registry";
import type { RunningSimulator, SimulatorEntry } from "./types";

/**
 * `infra-events-sim <name|all> [--option value | --flag] ...`
 * Starts protocol simulators on loopback, prints where each listens, and runs until
 * SIGINT/SIGTERM, when it closes them cleanly. Options, their checks and the help text all come
 * from each simulator's declared options (src/sim/options.ts).
 */

const PROG = "infra-events-sim";
const HELP_WORDS = new Set(["--help", "-h"]);

const names = (): string => simulators.map((s) => s.name).join("|");
const indent = (lines: readonly string[]): string[] => lines.map((l) => `  ${l}`);
const ALL_EXAMPLE = (): string =>
  simulators
    .map((s) =>
      s.options
        .filter((o) => o.kind === "number" && o.port)
        .map((o) => `--${s.name}-${o.name} 0`)
        .join(" "),
    )
    .join(" ");

/** `infra-events-sim --help`: every simulator with its options. */
export function usage(): string {
  const width = Math.max(...simulators.map((s) => s.name.length), 3) + 2;
  const lines = [
    `usage: ${PROG} <${names()}> [--option value ...]`,
    `       ${PROG} all [--<simulator>-<option> value ...]`,
    `       ${PROG} [<${names()}|all>] --help`,
    "",
    "Runs protocol simulators on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM). Once listening,",
    "each prints its endpoints with the ports it actually got (a port of 0 picks any free port).",
    "",
    "simulators:",
    ...indent(simulators.map((s) => `${s.name.padEnd(width)}${s.summary}`)),
    ...indent([`${"all".padEnd(width)}all of them in one process; each option starts with the simulator's name,`]),
    ...indent([`${"".padEnd(width)}e.g. ${ALL_EXAMPLE()}`]),
    "",
  ];
  for (const s of simulators) lines.push(`${s.name} options:`, ...indent(formatOptions(s.options)), ...(s.notes?.length ? ["", ...indent(s.notes)] : []), "");
  lines.push(`-h, --help prints this help, or a simulator's alone after its name.`);
  return lines.join("\n");
}

/** `infra-events-sim <name> --help`. */
export function simulatorUsage(s: SimulatorEntry): string {
  return [
    `usage: ${PROG} ${s.name} [--option value ...]`,
    "",
    `${s.summary}.`,
    "Runs on 127.0.0.1 until interrupted; prints its endpoints with the ports it actually got.",
    "",
    "options:",
    ...indent(formatOptions(s.options)),
    ...indent(["-h, --help  print this help"]),
    ...(s.notes?.length ? ["", ...s.notes] : []),
  ].join("\n");
}

/** `infra-events-sim all --help`: every option prefixed with its simulator's name. */
export function allUsage(): string {
  const lines = [
    `usage: ${PROG} all [--<simulator>-<option> value ...]`,
    "",
    `Starts ${simulators.map((s) => s.name).join(", ")} in one process. Several take the same option (--port,`,
    "--user), so here each option starts with the simulator's name: --nso-port, not --port.",
    `e.g. ${PROG} all ${ALL_EXAMPLE()}`,
    "",
  ];
  for (const s of simulators) lines.push(`${s.name} options:`, ...indent(formatOptions(s.options, `${s.name}-`)), "");
  lines.push("-h, --help  print this help");
  return lines.join("\n");
}

/** The options of `all`: each simulator's, prefixed with its name. */
function allSpecs(): OptionSpec[] {
  const prefixed = (s: SimulatorEntry, n: string): string => `${s.name}-${n}`;
  return simulators.flatMap((s) => s.options.map((o) => ({ ...o, name: prefixed(s, o.name), together: o.together && prefixed(s, o.together) })));
}

/** Why `--name` is no option of `all`: unprefixed, or unknown to the simulator it names. */
function explainAllUnknown(name: string): string {
  const owner = simulators.find((s) => name.startsWith(`${s.name}-`));
  if (owner) return unknownOptionMessage(name.slice(owner.name.length + 1), owner.options, `${owner.name}-`);
  const takers = simulators.filter((s) => s.options.some((o) => o.name === name));
  if (takers.length) {
    return `options need the simulator's name in front: ${takers.map((s) => `--${s.name}-${name}`).join(" or ")}, not --${name}`;
  }
  return `unknown option --${name} (options of "all" start with ${simulators.map((s) => `--${s.name}-`).join(", ")})`;
}

/** What the command line asks for, decided before anything listens. */
export type Plan =
  | { kind: "help"; text: string; exitCode: 0 | 2 }
  | { kind: "error"; message: string; hint: string }
  /** `prefixed`: options were spelled --<simulator>-<option> (the `all` command). */
  | { kind: "run"; prefixed: boolean; starts: Array<{ simulator: SimulatorEntry; options: SimulatorOptions }> };

export function plan(argv: readonly string[]): Plan {
  const [name, ...rest] = argv;
  if (name === undefined) return { kind: "help", text: usage(), exitCode: 2 };
  if (HELP_WORDS.has(name)) return { kind: "help", text: usage(), exitCode: 0 };
  if (name === "help") {
    const about = rest[0] === undefined ? undefined : rest[0] === "all" ? "all" : findSimulator(rest[0]);
    if (rest[0] !== undefined && !about) return unknownSimulator(rest[0]);
    return { kind: "help", text: about === "all" ? allUsage() : about ? simulatorUsage(about) : usage(), exitCode: 0 };
  }
  const entry = name === "all" ? undefined : findSimulator(name);
  if (name !== "all" && !entry) return unknownSimulator(name);
  // Help wins over everything else after the name, so `nso --port x --help` still helps.
  if (rest.some((a) => HELP_WORDS.has(a))) return { kind: "help", text: entry ? simulatorUsage(entry) : allUsage(), exitCode: 0 };
  const hint = `Run "${PROG} ${name} --help" for its options.`;
  try {
    if (entry) return { kind: "run", prefixed: false, starts: [{ simulator: entry, options: parseArgv(entry.options, rest) }] };
    const parsed = parseArgv(allSpecs(), rest, { explainUnknown: explainAllUnknown });
    return {
      kind: "run",
      prefixed: true,
      starts: simulators.map((s) => {
        const own = Object.entries(parsed).filter(([k]) => k.startsWith(`${s.name}-`));
        return { simulator: s, options: Object.fromEntries(own.map(([k, v]) => [k.slice(s.name.length + 1), v])) };
      }),
    };
  } catch (e) {
    if (e instanceof UsageError) return { kind: "error", message: name === "all" ? `all: ${e.message}` : `${name}: ${e.message}`, hint };
    throw e;
  }
}

function unknownSimulator(name: string): Plan {
  return {
    kind: "error",
    message: `unknown simulator "${name}" (choose ${simulators.map((s) => s.name).join(", ")} or all)`,
    hint: `Run "${PROG} --help" for usage.`,
  };
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopRequested(): Promise<void>;
}

const processIo = (): CliIo => {
  // Listening before anything starts: a SIGTERM during start-up still closes what started.
  const stop = new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  return { out: (t) => console.log(t), err: (t) => console.error(t), stopRequested: () => stop };
};

/** Exit codes: 0 help or clean stop, 1 a simulator could not start, 2 usage error. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const p = plan(argv);
  if (p.kind === "help") {
    if (p.exitCode === 0) io.out(p.text);
    else io.err(p.text);
    return p.exitCode;
  }
  if (p.kind === "error") {
    io.err(`${PROG}: ${p.message}\n${p.hint}`);
    return 2;
  }
  const running: RunningSimulator[] = [];
  for (const { simulator, options } of p.starts) {
    try {
      running.push(await simulator.start(options));
    } catch (e) {
      await Promise.allSettled(running.map((r) => r.close()));
      if (e instanceof ListenError) io.err(`${PROG}: ${p.prefixed ? e.withOption(`--${simulator.name}-${e.option.replace(/^--/, "")}`) : e.message}`);
      else if (e instanceof Error) io.err(`${PROG}: could not start the ${simulator.name} simulator: ${e.message}`);
      else throw e;
      return e instanceof UsageError ? 2 : 1;
    }
  }
  for (const r of running) {
    for (const [what, where] of Object.entries(r.endpoints)) io.out(`${r.name} ${what}: ${where}`);
  }
  await io.stopRequested();
  await Promise.all(running.map((r) => r.close()));
  return 0;
}
