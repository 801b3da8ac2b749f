/**
 * Simulator options as data. Each simulator declares its options once; the command line
 * parser, the validation of a launcher's plain options object and the `--help` text all read
 * that declaration, so help, parsing and start() cannot disagree.
 */

interface BaseSpec {
  /** Without the dashes: "port" is `--port` on the command line and `{ port }` in start(). */
  readonly name: string;
  /** One line for `--help`. */
  readonly help: string;
  /** Shown in help instead of the kind's placeholder, e.g. "FILE". */
  readonly valueName?: string;
  /** The other option this one must be given with (both or neither). */
  readonly together?: string;
}

export interface NumberSpec extends BaseSpec {
  readonly kind: "number";
  readonly default?: number;
  /** A TCP port: an integer from 0 (any free port) to 65535. */
  readonly port?: boolean;
  /** Zero is not meaningful (a lifetime, a timeout). */
  readonly positive?: boolean;
}

export interface StringSpec extends BaseSpec {
  readonly kind: "string";
  readonly default?: string;
}

export interface FlagSpec extends BaseSpec {
  readonly kind: "flag";
}

export interface ChoiceSpec extends BaseSpec {
  readonly kind: "choice";
  readonly choices: readonly string[];
  readonly default: string;
}

export type OptionSpec = NumberSpec | StringSpec | FlagSpec | ChoiceSpec;

/** What a launcher passes to start(): `{ port: 0 }`, `{ "ws-port": "0", quiet: true }`. */
export type SimulatorOptions = Readonly<Record<string, string | number | boolean | undefined>>;

/** The user asked for something the declarations do not allow: the CLI exits 2 on it. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const dashed = (name: string): string => `--${name}`;

/** The options a mistyped name was probably meant to be. */
function suggestions(name: string, known: readonly string[]): string[] {
  return known.filter((k) => k.endsWith(`-${name}`) || name.endsWith(`-${k}`) || (name.length > 3 && editDistance(name, k) <= 2));
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** "unknown option --prot (did you mean --port?)"; `prefix` as in formatOptions. */
export function unknownOptionMessage(name: string, specs: readonly OptionSpec[], prefix = ""): string {
  const near = suggestions(
    name,
    specs.map((s) => s.name),
  ).map((n) => dashed(prefix + n));
  const hint = near.length ? ` (did you mean ${near.join(" or ")}?)` : "";
  return `unknown option ${dashed(prefix + name)}${hint}`;
}

export interface ParseContext {
  /** Lets a caller explain an unknown option better than "unknown" (the `all` command). */
  explainUnknown?(name: string): string | undefined;
}

/**
 * Turn command-line words into a plain options object (values still as typed), then validate
 * it. `--name value`, `--name=value` and `--flag`; a value starting with "-" needs the `=` form
 * unless it is a number (so `--port -1` reports the negative port, not a missing value).
 */
export function parseArgv(specs: readonly OptionSpec[], args: readonly string[], ctx: ParseContext = {}): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    if (!word.startsWith("--") || word === "--") {
      throw new UsageError(word.startsWith("-") ? `unknown option ${word}` : `unexpected argument "${word}" (options look like --name value)`);
    }
    const body = word.slice(2);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const spec = byName.get(name);
    if (!spec) throw new UsageError(ctx.explainUnknown?.(name) ?? unknownOptionMessage(name, specs));
    if (Object.hasOwn(out, name)) throw new UsageError(`${dashed(name)} is given twice`);
    if (spec.kind === "flag") {
      if (inline !== undefined) throw new UsageError(`${dashed(name)} is a flag and takes no value, got "${inline}"`);
      out[name] = true;
    } else if (inline !== undefined) {
      out[name] = inline;
    } else {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && !/^-\d/.test(next))) throw new UsageError(`${dashed(name)} needs a value (${placeholder(spec)})`);
      out[name] = next;
      i++;
    }
  }
  resolveOptions(specs, out);
  return out;
}

/** Validated values with the declared defaults filled in; read them by declared name. */
export class ResolvedOptions {
  constructor(
    private readonly specs: ReadonlyMap<string, OptionSpec>,
    private readonly values: ReadonlyMap<string, string | number | boolean>,
  ) {}

  /** A number option with a value or a default. */
  number(name: string): number {
    const v = this.get(name, "number");
    if (typeof v !== "number") throw new Error(`option ${name} has no value and no default`);
    return v;
  }

  /** A string or choice option; undefined when neither given nor defaulted. */
  string(name: string): string | undefined {
    const spec = this.spec(name);
    if (spec.kind !== "string" && spec.kind !== "choice") throw new Error(`option ${name} is a ${spec.kind}, not a string`);
    return this.values.get(name) as string | undefined;
  }

  flag(name: string): boolean {
    return this.get(name, "flag") === true;
  }

  private get(name: string, kind: OptionSpec["kind"]): string | number | boolean | undefined {
    const spec = this.spec(name);
    if (spec.kind !== kind) throw new Error(`option ${name} is a ${spec.kind}, not a ${kind}`);
    return this.values.get(name);
  }

  // A simulator reading an option it never declared is a bug in that simulator, not user error.
  private spec(name: string): OptionSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`option ${name} is not declared`);
    return spec;
  }
}

/**
 * Validate a plain options object (from parseArgv or a launcher) against the declarations:
 * unknown names and bad values throw a UsageError naming the option and the value.
 */
export function resolveOptions(specs: readonly OptionSpec[], given: SimulatorOptions): ResolvedOptions {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string | number | boolean>();
  for (const [name, raw] of Object.entries(given)) {
    const spec = byName.get(name);
    if (!spec) throw new UsageError(unknownOptionMessage(name, specs));
    if (raw !== undefined) values.set(name, checkValue(spec, raw));
  }
  for (const spec of specs) {
    if (spec.together && values.has(spec.name) !== values.has(spec.together)) {
      throw new UsageError(`${dashed(spec.name)} and ${dashed(spec.together)} go together`);
    }
    if (!values.has(spec.name) && spec.kind !== "flag" && spec.default !== undefined) values.set(spec.name, spec.default);
  }
  return new ResolvedOptions(byName, values);
}

function checkValue(spec: OptionSpec, raw: string | number | boolean): string | number | boolean {
  const opt = dashed(spec.name);
  const shown = typeof raw === "string" ? `"${raw}"` : String(raw);
  switch (spec.kind) {
    case "flag":
      if (typeof raw !== "boolean") throw new UsageError(`${opt} is a flag (true or false), got ${shown}`);
      return raw;
    case "string":
      if (typeof raw !== "string" || raw === "") throw new UsageError(`${opt} needs a non-empty ${spec.valueName ?? "text"}, got ${shown}`);
      return raw;
    case "choice":
      if (typeof raw !== "string" || !spec.choices.includes(raw)) throw new UsageError(`${opt} must be one of ${spec.choices.join(", ")}, got ${shown}`);
      return raw;
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new UsageError(`${opt} needs a number, got ${shown}`);
      if (spec.port && (!Number.isInteger(n) || n < 0 || n > 65535))
        throw new UsageError(`${opt} must be a port from 0 to 65535 (0 = any free port), got ${shown}`);
      if (n < 0) throw new UsageError(`${opt} must not be negative, got ${shown}`);
      if (spec.positive && n === 0) throw new UsageError(`${opt} must be greater than 0, got ${shown}`);
      return n;
    }
  }
}

function placeholder(spec: OptionSpec): string {
  if (spec.valueName) return spec.valueName;
  if (spec.kind === "choice") return spec.choices.join("|");
  if (spec.kind === "number") return spec.port ? "PORT" : "N";
  return "TEXT";
}

/** Help lines for the declarations, one per option, aligned; `prefix` for the `all` command. */
export function formatOptions(specs: readonly OptionSpec[], prefix = ""): string[] {
  const left = specs.map((s) => `--${prefix}${s.name}${s.kind === "flag" ? "" : ` ${placeholder(s)}`}`);
  const width = Math.max(0, ...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => {
    const extra = [
      s.kind !== "flag" && s.default !== undefined ? `default: ${s.default}` : "",
      s.kind === "number" && s.port ? "0 = any free port" : "",
    ].filter(Boolean);
    return `${left[i].padEnd(width)}${s.help}${extra.length ? ` (${extra.join("; ")})` : ""}`;
  });
}
