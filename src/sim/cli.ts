import { simulators } from "./registry";
import type { RunningSimulator } from "./types";

/**
 * `infra-events-sim <name|all> [--option value | --flag] ...`
 * Starts protocol simulators on loopback, prints where each listens, and runs until
 * SIGINT/SIGTERM, when it closes them cleanly.
 */
export function parseOptions(args: readonly string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument "${a}" (options look like --port 4569)`);
    const eq = a.indexOf("=");
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
      out[a.slice(2)] = args[++i];
    } else {
      out[a.slice(2)] = true;
    }
  }
  return out;
}

export function usage(): string {
  const names = simulators.map((s) => s.name);
  const lines = [
    "usage: infra-events-sim <" + [...names, "all"].join("|") + "> [--option value ...]",
    "",
    "Runs protocol simulators on 127.0.0.1 until interrupted (Ctrl-C).",
    "",
  ];
  for (const s of simulators) lines.push(`${s.name}:`, ...s.usage.split("\n").map((l) => `  ${l}`), "");
  return lines.join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const chosen = name === "all" ? simulators : simulators.filter((s) => s.name === name);
  if (chosen.length === 0) {
    console.error(`unknown simulator "${name}"\n\n${usage()}`);
    return 2;
  }
  const options = parseOptions(rest);
  const running: RunningSimulator[] = [];
  try {
    for (const s of chosen) running.push(await s.start(options));
  } catch (e) {
    console.error(`could not start: ${(e as Error).message}`);
    await Promise.allSettled(running.map((r) => r.close()));
    return 1;
  }
  for (const r of running) {
    for (const [what, where] of Object.entries(r.endpoints)) console.log(`${r.name} ${what}: ${where}`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await Promise.allSettled(running.map((r) => r.close()));
  return 0;
}
