import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { InfraError } from "../core/errors";
import type { FastCheck, XsdReadApi } from "./xsd-fast";

/**
 * One compiled XSD schema set in libxml2 (the libxml2-wasm package: libxml2 compiled to
 * WebAssembly, no native build), kept for as many validations as it is used for. WASM memory
 * is not garbage-collected: whoever compiles a set must `dispose()` it.
 *
 * The schema files reach libxml2 only through an in-memory input provider, under a URL of our
 * own scheme (`infra-xsd:///<set>/<file>`) that serves the bytes the caller read from the
 * folder, and only while that set compiles: libxml2 reads no other file, and no network.
 *
 * The hot path calls libxml2's functions through libxml2-wasm's own binding module
 * (`lib/libxml2.mjs`) rather than its object API: one parser context and one validation
 * context kept per set instead of both created per call, and no JS wrapper object (with its
 * FinalizationRegistry entry) per document. Measured on one-at-a-time sends, where the WASM
 * code runs cache-cold between broker round trips: ~25 µs per event instead of ~40 µs. That
 * module is not part of the package's documented API, hence the exact version pin in
 * package.json and the check in loadLibxml2() that names what is missing.
 */
export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

type Ptr = number;
interface ErrorDetail {
  message: string;
  file?: string;
  level: number;
  line: number;
  col: number;
  xpath?: string;
}
/** libxml2-wasm's binding module (lib/libxml2.mjs): the functions used here. */
interface Binding {
  error: { storage: { allocate(v: ErrorDetail[]): number; free(i: number): void }; errorCollector: Ptr };
  xmlNewParserCtxt(): Ptr;
  xmlFreeParserCtxt(ctxt: Ptr): void;
  xmlCtxtSetErrorHandler(ctxt: Ptr, handler: Ptr, data: number): void;
  xmlReadString(ctxt: Ptr, xml: string, url: string | null, encoding: string | null, options: number): Ptr;
  xmlFreeDoc(doc: Ptr): void;
  xmlSchemaNewDocParserCtxt(doc: Ptr): Ptr;
  xmlSchemaSetParserStructuredErrors(ctxt: Ptr, handler: Ptr, data: number): void;
  xmlSchemaParse(ctxt: Ptr): Ptr;
  xmlSchemaFreeParserCtxt(ctxt: Ptr): void;
  xmlSchemaFree(schema: Ptr): void;
  xmlSchemaNewValidCtxt(schema: Ptr): Ptr;
  xmlSchemaSetValidStructuredErrors(ctxt: Ptr, handler: Ptr, data: number): void;
  xmlSchemaValidateDoc(ctxt: Ptr, doc: Ptr): number;
  xmlSchemaFreeValidCtxt(ctxt: Ptr): void;
  xmlRegisterInputProvider(p: InputProvider): boolean;
}
interface TreeNode {
  readonly name: string;
  readonly namespaceUri: string;
  readonly parent: TreeNode | null;
  readonly prev: TreeNode | null;
  readonly next: TreeNode | null;
}
/** libxml2-wasm's object API (index.mjs): used to name the element of an error only. */
interface ObjectApi {
  XmlDocument: { fromString(xml: string, opts?: { option?: number }): { dispose(): void; get(xpath: string): TreeNode | null } };
  XmlElement: abstract new (...args: never[]) => object;
  XmlAttribute: abstract new (...args: never[]) => object;
}
interface InputProvider {
  match(name: string): boolean;
  open(name: string): number | undefined;
  read(fd: number, buf: Uint8Array): number;
  close(fd: number): boolean;
}
export interface Libxml2 {
  raw: Binding;
  api: ObjectApi & XsdReadApi;
}

// libxml2's parser options (xmlParserOption): no network, no external entities or DTDs.
const XML_PARSE_NONET = 2048;
const XML_PARSE_NO_XXE = 8388608;
const EVENT_OPTIONS = XML_PARSE_NONET | XML_PARSE_NO_XXE;
const XML_ERR_ERROR = 2;
/** Both contexts are renewed after this many documents: their name dictionaries only grow. */
const RENEW_EVERY = 1000;

const SCHEME = "infra-xsd:///";
// Files of the sets being compiled, by set id; an entry lives only during its compile.
const compiling = new Map<string, ReadonlyMap<string, Uint8Array>>();
const openFiles = new Map<number, { data: Uint8Array; pos: number }>();
let nextSet = 0;
let nextFd = 1;

// Called from inside libxml2 (WASM): these never throw; a missing file is `undefined` / -1.
const provider: InputProvider = {
  match: (name) => name.startsWith(SCHEME),
  open: (name) => {
    const rest = name.slice(SCHEME.length);
    const slash = rest.indexOf("/");
    const files = slash > 0 ? compiling.get(rest.slice(0, slash)) : undefined;
    const file = rest.slice(slash + 1);
    const data = files?.get(/%[0-9A-Fa-f]{2}/.test(file) ? safeDecode(file) : file);
    if (!data) return undefined;
    const fd = nextFd++;
    openFiles.set(fd, { data, pos: 0 });
    return fd;
  },
  read: (fd, buf) => {
    const f = openFiles.get(fd);
    if (!f) return -1;
    const n = Math.min(buf.byteLength, f.data.byteLength - f.pos);
    buf.set(f.data.subarray(f.pos, f.pos + n));
    f.pos += n;
    return n;
  },
  close: (fd) => openFiles.delete(fd),
};

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    // A malformed escape names no file we have: libxml2 reports it as not found.
    if (e instanceof URIError) return "";
    throw e;
  }
}

// libxml2-wasm is an ES module with top-level await, which require() cannot load, and tsc's
// CommonJS output turns `import()` into require(): so a real dynamic import, built at run time.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importModule = new Function("url", "return import(url)") as (url: string) => Promise<unknown>;
let loading: Promise<Libxml2> | undefined;

const BINDING_FUNCTIONS = [
  "xmlNewParserCtxt",
  "xmlFreeParserCtxt",
  "xmlCtxtSetErrorHandler",
  "xmlReadString",
  "xmlFreeDoc",
  "xmlSchemaNewDocParserCtxt",
  "xmlSchemaSetParserStructuredErrors",
  "xmlSchemaParse",
  "xmlSchemaFreeParserCtxt",
  "xmlSchemaFree",
  "xmlSchemaNewValidCtxt",
  "xmlSchemaSetValidStructuredErrors",
  "xmlSchemaValidateDoc",
  "xmlSchemaFreeValidCtxt",
  "xmlRegisterInputProvider",
] as const;

/** Load libxml2-wasm once per process (~40 ms: WASM compile), on first use only. */
export function loadLibxml2(): Promise<Libxml2> {
  loading ??= (async () => {
    let main: string;
    try {
      main = require.resolve("libxml2-wasm");
    } catch (e) {
      throw new InfraError("schema-validator-missing", `XSD validation needs the libxml2-wasm package: ${e instanceof Error ? e.message : String(e)}`);
    }
    // The same module instances the package's own index.mjs imports (same URLs), so one libxml2.
    const api = (await importModule(pathToFileURL(main).href)) as ObjectApi & XsdReadApi;
    const raw = (await importModule(pathToFileURL(path.join(path.dirname(main), "libxml2.mjs")).href)) as Binding;
    const missing = BINDING_FUNCTIONS.filter((f) => typeof raw[f] !== "function");
    if (missing.length || typeof raw.error?.errorCollector !== "number") {
      throw new InfraError(
        "schema-validator-missing",
        `this libxml2-wasm lacks ${missing.join(", ") || "error"} (the package is tested with the version package.json pins)`,
      );
    }
    raw.xmlRegisterInputProvider(provider);
    return { raw, api };
  })().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}

export class CompiledSchemas {
  private disposed = false;
  private fast: FastCheck | undefined;
  private parser: Ptr = 0;
  private validator: Ptr = 0;
  private uses = 0;

  private constructor(
    private readonly lib: Libxml2,
    private envelope: Ptr,
    private schema: Ptr,
    /** libxml2's error callback appends here (parse, compile and validation errors). */
    private readonly errors: ErrorDetail[],
    private readonly errorSlot: number,
  ) {}

  /**
   * Compile `envelope` (the schema text) with `files` (file name → bytes) as the files its
   * includes can reach. Throws InfraError `schema-broken` naming file, line and libxml2's reason.
   */
  static compile(lib: Libxml2, envelope: string, files: ReadonlyMap<string, Uint8Array>, where: string): CompiledSchemas {
    const raw = lib.raw;
    const id = String(++nextSet);
    const errors: ErrorDetail[] = [];
    const slot = raw.error.storage.allocate(errors);
    compiling.set(id, files);
    let doc: Ptr = 0;
    let schema: Ptr = 0;
    try {
      const parser = raw.xmlNewParserCtxt();
      raw.xmlCtxtSetErrorHandler(parser, raw.error.errorCollector, slot);
      doc = raw.xmlReadString(parser, envelope, `${SCHEME}${id}/__envelope__.xsd`, null, XML_PARSE_NONET);
      raw.xmlFreeParserCtxt(parser);
      if (doc) {
        const ctxt = raw.xmlSchemaNewDocParserCtxt(doc);
        raw.xmlSchemaSetParserStructuredErrors(ctxt, raw.error.errorCollector, slot);
        schema = raw.xmlSchemaParse(ctxt);
        raw.xmlSchemaFreeParserCtxt(ctxt);
      }
      if (!schema) {
        const why = errors.length
          ? errors.slice(0, 3).map((d) => `${schemaFile(d.file)}${d.line ? `line ${d.line}: ` : ""}${d.message.trim()}`)
          : ["libxml2 gave no reason"];
        throw new InfraError("schema-broken", `the schemas in ${where} do not compile: ${why.join("; ")}`, {
          errors: errors.map((d) => ({ file: schemaFile(d.file).trim(), line: d.line, message: d.message.trim() })),
        });
      }
      // The compiled schema may point into the envelope document: both live and die together.
      return new CompiledSchemas(lib, doc, schema, errors, slot);
    } catch (e) {
      if (doc) raw.xmlFreeDoc(doc);
      raw.error.storage.free(slot);
      throw e;
    } finally {
      compiling.delete(id);
    }
  }

  /** Events of the plain shape that `fast` accepts skip libxml2 (xsd-fast.ts). */
  useFastCheck(fast: FastCheck | undefined): void {
    this.fast = fast;
  }

  /** The events the fast check covers. */
  get fastEvents(): string[] {
    return this.fast ? [...this.fast.rules.keys()].sort() : [];
  }

  /** Validate one document; synchronous (libxml2 runs on this thread: ~7 µs warm, ~25 µs cold). */
  validate(xml: string): ValidationResult {
    if (this.disposed) throw new InfraError("validator-closed", "this compiled schema set was freed");
    if (this.fast?.accepts(xml)) return { valid: true, errors: [] };
    const raw = this.lib.raw;
    this.renewContexts();
    const errors = this.errors;
    errors.length = 0;
    // The event is untrusted: no network, no external entities (libxml2 expands none by default).
    const doc = raw.xmlReadString(this.parser, xml, null, null, EVENT_OPTIONS);
    if (!doc || errors.some((d) => d.level >= XML_ERR_ERROR)) {
      if (doc) raw.xmlFreeDoc(doc);
      const bad = errors.filter((d) => d.level >= XML_ERR_ERROR);
      if (bad.length === 0) return { valid: false, errors: ["not well-formed: empty, or not an XML document"] };
      return { valid: false, errors: bad.map((d) => `line ${d.line}, column ${d.col}: not well-formed: ${d.message.trim()}`) };
    }
    errors.length = 0;
    let ret: number;
    try {
      ret = raw.xmlSchemaValidateDoc(this.validator, doc);
    } finally {
      raw.xmlFreeDoc(doc);
    }
    if (ret === 0) return { valid: true, errors: [] };
    if (ret < 0) throw new InfraError("schema-internal", `libxml2 could not validate (internal error ${ret})`);
    const found = errors.filter((d) => d.level >= XML_ERR_ERROR);
    return { valid: false, errors: this.describe(xml, found.length ? found : errors) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const raw = this.lib.raw;
    this.freeContexts();
    raw.xmlSchemaFree(this.schema);
    raw.xmlFreeDoc(this.envelope);
    raw.error.storage.free(this.errorSlot);
    this.schema = 0;
    this.envelope = 0;
  }

  private renewContexts(): void {
    if (this.parser && this.uses++ < RENEW_EVERY) return;
    const raw = this.lib.raw;
    this.freeContexts();
    this.uses = 1;
    this.parser = raw.xmlNewParserCtxt();
    raw.xmlCtxtSetErrorHandler(this.parser, raw.error.errorCollector, this.errorSlot);
    this.validator = raw.xmlSchemaNewValidCtxt(this.schema);
    raw.xmlSchemaSetValidStructuredErrors(this.validator, raw.error.errorCollector, this.errorSlot);
  }

  private freeContexts(): void {
    const raw = this.lib.raw;
    if (this.parser) raw.xmlFreeParserCtxt(this.parser);
    if (this.validator) raw.xmlSchemaFreeValidCtxt(this.validator);
    this.parser = 0;
    this.validator = 0;
  }

  /** `line 1, /Event/PhoneStatus/Extra: Element '{…}Extra': This element is not expected.` */
  private describe(xml: string, details: ErrorDetail[]): string[] {
    const withPath = details.some((d) => d.xpath);
    // Only for invalid events: parsed once more, as objects, to name the elements.
    const doc = withPath ? this.lib.api.XmlDocument.fromString(xml, { option: EVENT_OPTIONS }) : undefined;
    try {
      return details.map((d) => {
        const at = doc && d.xpath ? readablePath(this.lib.api, doc, d.xpath) : undefined;
        return `line ${d.line}${at ? `, ${at}` : ""}: ${d.message.trim()}`;
      });
    } finally {
      doc?.dispose();
    }
  }
}

/** "PhoneStatus.xsd " from our virtual URL, for messages; "" when libxml2 named no file. */
function schemaFile(file: string | undefined): string {
  if (!file) return "";
  const name = file.startsWith(SCHEME) ? file.slice(file.indexOf("/", SCHEME.length) + 1) : file;
  return `${name === "__envelope__.xsd" ? "(envelope)" : name} `;
}

/**
 * libxml2 names the node as `/*\/*\/*[4]` (every element of a default namespace is `*`, the
 * index counts all element siblings): rewritten with local names, indexed among same-named
 * siblings only where there are several.
 */
function readablePath(api: ObjectApi, doc: { get(xpath: string): TreeNode | null }, xpath: string): string {
  const node = doc.get(xpath);
  if (!node) return xpath;
  const steps: string[] = [];
  for (let n: TreeNode | null = node; n; n = n.parent) {
    if (isA(n, api.XmlAttribute)) steps.push(`@${n.name}`);
    else if (isA(n, api.XmlElement)) steps.push(n.name + position(api, n));
    else return xpath;
  }
  return `/${steps.reverse().join("/")}`;
}

function position(api: ObjectApi, el: TreeNode): string {
  const same = (o: TreeNode) => isA(o, api.XmlElement) && o.name === el.name && o.namespaceUri === el.namespaceUri;
  let before = 0;
  for (let o = el.prev; o; o = o.prev) if (same(o)) before++;
  let after = false;
  for (let o = el.next; o && !after; o = o.next) after = same(o);
  return before || after ? `[${before + 1}]` : "";
}

// A plain boolean, not a type guard: both classes have the same shape in the interfaces above.
function isA(x: TreeNode, cls: abstract new (...args: never[]) => object): boolean {
  return x instanceof cls;
}
