/**
 * Run as a child process by schema-memory.test.ts (node --import tsx this-file <rounds>): a
 * fresh process, so that its libxml2-wasm instance is the one created below and nothing else
 * has used it. Prints one JSON line: the WASM heap before and after `rounds` schema reloads
 * (a quarter of them to a broken schema and back), all checked by libxml2, and `rounds`
 * validators opened (with the JS fast path compiled too), used and closed.
 */
import type { SchemaValidator as SchemaValidatorT } from "../../../../src/amqp/schema-validator";

interface WasmExports {
  memory: WebAssembly.Memory;
  malloc(n: number): number;
  free(p: number): void;
}

// Capture the instance libxml2-wasm creates, before it is loaded: its memory and allocator.
let wasm: WasmExports | undefined;
const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (...a: unknown[]) => Promise<WebAssembly.WebAssemblyInstantiatedSource | WebAssembly.Instance>;
(WebAssembly as { instantiate: unknown }).instantiate = async (...args: unknown[]) => {
  const r = await instantiate(...args);
  wasm = ("instance" in r ? r.instance : r).exports as unknown as WasmExports;
  return r;
};

/**
 * Where the allocator puts a fresh 1 MiB block: with nothing freed below it, the top of what
 * is in use. A leak of anything libxml2 allocates moves it up (one compiled set of the test
 * schemas is ~20 KiB, one parsed event ~2 KiB); WASM memory itself only grows in 64 KiB pages
 * and starts at 16 MiB, so its size alone would hide small leaks for a long time.
 */
function heapTop(): number {
  const p = wasm!.malloc(1 << 20);
  wasm!.free(p);
  return p;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 200);

  const { SchemaValidator } = require("../../../../src/amqp/schema-validator") as { SchemaValidator: typeof SchemaValidatorT };

  const { makeEvent } = require("../../../../src/amqp/event-maker") as typeof import("../../../../src/amqp/event-maker");

  const { SchemaFolder } = require("./schema-folder") as typeof import("./schema-folder");
  const folder = new SchemaFolder();
  const good = makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } }).xml;
  const bad = makeEvent({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Extra: "x" } }).xml;
  const original = folder.read("PhoneStatus.xsd");
  // libxml2 for every event here (no JS fast path); the validators opened below use it.
  const v = new SchemaValidator(folder.dir, undefined, { recheckMs: 0, fastPath: false });
  let checks = 0;
  const validateBoth = async (validator: SchemaValidatorT) => {
    const [g, b] = await Promise.all([validator.validate(good), validator.validate(bad)]);
    if (!g.valid || b.valid || !/Extra/.test(b.errors.join())) throw new Error(`unexpected results ${JSON.stringify([g, b])}`);
    checks++;
  };
  const reload = async (i: number) => {
    if (i % 4 === 3) {
      folder.write("PhoneStatus.xsd", original.replace("</xs:schema>", "")); // not well-formed
      const refused = await v.validate(good).then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      if (refused?.code !== "schema-broken") throw new Error(`a broken schema gave ${JSON.stringify(refused)}`);
    }
    // A different size each time: a reload for every round.
    folder.write("PhoneStatus.xsd", original.replace("</xs:schema>", `<!-- ${"x".repeat(i % 7)} round ${i} --></xs:schema>`));
    await validateBoth(v);
  };
  try {
    for (let i = 0; i < 20; i++) await reload(i); // warm-up: libxml2's own one-time allocations
    for (let i = 0; i < 2000; i++) await validateBoth(v);
    const before = { top: heapTop(), bytes: wasm!.memory.buffer.byteLength, compiles: v.compiles };
    for (let i = 0; i < rounds; i++) await reload(i);
    for (let i = 0; i < rounds; i++) {
      const w = new SchemaValidator(folder.dir);
      await validateBoth(w);
      w.close();
    }
    // Past the point where the kept parser and validation contexts are renewed (every 1000).
    for (let i = 0; i < 2000; i++) await validateBoth(v);
    const after = { top: heapTop(), bytes: wasm!.memory.buffer.byteLength, compiles: v.compiles };
    console.log(JSON.stringify({ before, after, checks }));
  } finally {
    v.close();
    folder.remove();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
