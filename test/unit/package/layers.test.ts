import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The layers, proven by imports (issue 13): the runtime every library shares (src/core) imports
 * no library; the four protocol libraries import the core and themselves, never the Node-RED
 * glue (src/nodes, src/plugins), the simulators or Node-RED itself; the simulators stay out of
 * the glue too. Only src/nodes and src/plugins know Node-RED.
 */
const root = path.resolve(__dirname, "../../..");
const src = path.join(root, "src");

type Layer = "core" | "library" | "sim" | "nodes" | "plugins";
const LIBRARIES = new Set(["nso", "apic", "amqp", "sysadm"]);

function layerOf(rel: string): Layer {
  const top = rel.split("/")[0];
  if (top === "core" || top === "sim" || top === "nodes" || top === "plugins") return top;
  if (LIBRARIES.has(top)) return "library";
  throw new Error(`src/${rel}: not in a known layer`);
}

/** What a file of `from` may import: a layer, or a bare module (npm package / node builtin). */
export function violation(fromRel: string, spec: string): string | undefined {
  const from = layerOf(fromRel);
  if (!spec.startsWith(".")) {
    if (/^(node-red|@node-red\/)/.test(spec) && from !== "nodes" && from !== "plugins") return `imports ${spec}: only the glue knows Node-RED`;
    return undefined;
  }
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
  if (target.startsWith("..")) return `imports ${spec}, outside src/`;
  const to = layerOf(target);
  const allowed: Record<Layer, Layer[]> = {
    core: ["core"],
    library: ["core", "library"],
    sim: ["core", "library", "sim"],
    nodes: ["core", "library", "nodes"],
    plugins: ["core", "library", "nodes", "plugins"],
  };
  if (!allowed[from].includes(to)) return `imports ${spec} (${to}): a ${from} file may import ${allowed[from].join(", ")}`;
  // The glue knows each library by its front door (src/<library>/index.ts), not its rooms.
  if ((from === "nodes" || from === "plugins") && to === "library" && target.includes("/"))
    return `imports ${spec}: the glue imports a library through its index`;
  return undefined;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

const SPEC = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)["']([^"']+)["']/gm;

export function importsOf(text: string): string[] {
  return [...text.matchAll(SPEC)].map((m) => m[1]);
}

describe("package layers, by imports", () => {
  it("finds the imports the check reads (static, type-only, dynamic, require)", () => {
    const text = [
      'import { a } from "../core/errors";',
      'import type { B } from "./b";',
      'export * from "./c";',
      'const d = require("../d");',
      'const e = await import("../../e");',
      'import "./side-effect";',
    ].join("\n");
    assert.deepEqual(importsOf(text), ["../core/errors", "./b", "./c", "../d", "../../e", "./side-effect"]);
  });

  it("would catch a library reaching into the glue, the core into a library, or a library into Node-RED", () => {
    assert.match(violation("amqp/connection.ts", "../nodes/lib/users") ?? "", /library file may import core, library/);
    assert.match(violation("core/lifecycle.ts", "../nso/client") ?? "", /core file may import core$/);
    assert.match(violation("sysadm/client.ts", "node-red") ?? "", /only the glue knows Node-RED/);
    assert.match(violation("sim/apic/server.ts", "../../nodes/lib/status") ?? "", /sim file/);
    assert.match(violation("nodes/nso-events.ts", "../nso/client") ?? "", /through its index/);
    assert.equal(violation("nodes/nso-events.ts", "../nso"), undefined);
    assert.equal(violation("nodes/lib/handles.ts", "../../amqp"), undefined);
    assert.equal(violation("nso/client.ts", "../core/pause-gate"), undefined);
  });

  it("no file under src/ imports across its layer's boundary", () => {
    const found: string[] = [];
    let imports = 0;
    for (const file of sources(src)) {
      const rel = path.relative(src, file).split(path.sep).join("/");
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        imports++;
        const v = violation(rel, spec);
        if (v) found.push(`src/${rel} ${v}`);
      }
    }
    assert.ok(imports > 300, `only ${imports} imports read: the pattern no longer matches the code`);
    assert.deepEqual(found, []);
  });
});
