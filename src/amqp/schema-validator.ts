import { promises as fs } from "node:fs";
import * as path from "node:path";
import { InfraError } from "../core/errors";
import { CLACKS_NS } from "./xml-event";

/**
 * Validates events against a folder of event XSDs (one file per event, named after it), the
 * way Clacks' agent did: an envelope schema includes every `<Name>.xsd` and declares
 * `Event` as a choice of exactly one of those events (what `events.xsl` generated).
 *
 * Validation runs libxml2 compiled to WASM (xmllint-wasm) in a worker: ~70–120 ms a call, so it
 * belongs on the send path (as in Clacks' sendEvent), never on every received event.
 * libxml2's defaults never expand external entities, and its in-memory file system holds
 * only the files we hand it.
 */
export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

interface LoadedSchemas {
  envelope: { fileName: string; contents: string };
  preload: Array<{ fileName: string; contents: string }>;
  events: string[];
}

type ValidateFn = (opts: Record<string, unknown>) => Promise<{ valid: boolean; errors: Array<{ message?: string; rawMessage?: string; loc?: { fileName: string } | null }> }>;

interface Pending {
  xml: string;
  resolve: (r: ValidationResult) => void;
  reject: (e: unknown) => void;
}

export class SchemaValidator {
  private loaded: Promise<LoadedSchemas> | undefined;

  constructor(
    readonly folder: string,
    readonly namespace: string = CLACKS_NS,
  ) {}

  /** The event names the folder defines (its `*.xsd` file names). */
  async events(): Promise<string[]> {
    return (await this.load()).events;
  }

  /**
   * Validate one event. Calls made while a validation is running are coalesced into one
   * xmllint run (up to `maxBatch` documents): each run costs a worker start-up of ~0.1–0.5 s,
   * so a burst of sends pays it once, not once per event.
   */
  validate(xml: string): Promise<ValidationResult> {
    return new Promise<ValidationResult>((resolve, reject) => {
      this.queue.push({ xml, resolve, reject });
      this.kick();
    });
  }

  private readonly queue: Pending[] = [];
  private running = false;
  readonly maxBatch = 200;

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const items = this.queue.splice(0, this.maxBatch);
    void this.runBatch(items)
      .catch((e: unknown) => {
        for (const it of items) it.reject(e);
      })
      .finally(() => {
        this.running = false;
        this.kick();
      });
  }

  private async runBatch(items: Pending[]): Promise<void> {
    const schemas = await this.load();
    const files = items.map((it, i) => ({ fileName: `event-${i}.xml`, contents: it.xml }));
    const res = await this.run(schemas, files);
    const byFile = new Map<string, string[]>();
    let unattributed = false;
    for (const e of res.errors) {
      // xmllint's summary line ("event-1.xml fails to validate") repeats a failure already listed.
      if (!e.loc && /^event-\d+\.xml fails to validate$/.test((e.message ?? "").trim())) continue;
      const f = e.loc?.fileName;
      if (!f || !f.startsWith("event-")) unattributed = true;
      else byFile.set(f, [...(byFile.get(f) ?? []), (e.message ?? e.rawMessage ?? "invalid").trim()]);
    }
    if (unattributed && items.length > 1) {
      // Cannot tell whose error it is: validate each on its own (rare; correctness first).
      for (const it of items) {
        try {
          const one = await this.run(schemas, [{ fileName: "event-0.xml", contents: it.xml }]);
          it.resolve({ valid: one.valid, errors: one.errors.map((e) => (e.message ?? e.rawMessage ?? "invalid").trim()) });
        } catch (e) {
          it.reject(e);
        }
      }
      return;
    }
    items.forEach((it, i) => {
      const errors = byFile.get(files[i].fileName) ?? (unattributed ? res.errors.map((e) => (e.message ?? e.rawMessage ?? "invalid").trim()) : []);
      it.resolve({ valid: errors.length === 0 && (items.length > 1 || res.valid), errors });
    });
  }

  private async run(schemas: LoadedSchemas, files: Array<{ fileName: string; contents: string }>) {
    const validateXML = loadXmllint();
    try {
      return await validateXML({ xml: files, schema: [schemas.envelope], preload: schemas.preload });
    } catch (e) {
      throw new InfraError("schema-broken", `XSD validation failed to run (broken schema in ${this.folder}?): ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Read the folder once; a later change needs a new validator (a redeploy). */
  private load(): Promise<LoadedSchemas> {
    // A failed read is not cached: a folder created after deploy is picked up on the next send.
    this.loaded ??= this.read().catch((e: unknown) => {
      this.loaded = undefined;
      throw e;
    });
    return this.loaded;
  }

  private async read(): Promise<LoadedSchemas> {
    let names: string[];
    try {
      names = (await fs.readdir(this.folder)).filter((f) => f.endsWith(".xsd")).sort();
    } catch (e) {
      throw new InfraError("schema-folder", `cannot read schema folder ${this.folder}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (names.length === 0) throw new InfraError("schema-folder", `no .xsd files in schema folder ${this.folder}`);
    const preload = await Promise.all(
      names.map(async (f) => ({ fileName: f, contents: await fs.readFile(path.join(this.folder, f), "utf8") })),
    );
    const events = names.map((f) => f.slice(0, -4)).filter((n) => /^[A-Za-z_][\w.-]*$/.test(n));
    return { envelope: { fileName: "__envelope__.xsd", contents: envelopeSchema(events, this.namespace) }, preload, events };
  }
}

/** The schema `events.xsl` produced: include each event's XSD; `Event` = exactly one of them. */
export function envelopeSchema(events: readonly string[], ns: string = CLACKS_NS): string {
  const includes = events.map((n) => `<include schemaLocation="${n}.xsd"/>`).join("");
  const choice = events.map((n) => `<element name="${n}" type="e:${n}"/>`).join("");
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<schema targetNamespace="${ns}" elementFormDefault="qualified" xmlns="http://www.w3.org/2001/XMLSchema" xmlns:e="${ns}">` +
    includes +
    `<complexType name="Event"><choice maxOccurs="1" minOccurs="1"><group ref="e:Events"/></choice></complexType>` +
    `<group name="Events"><choice>${choice}</choice></group>` +
    `<element name="Event" type="e:Event"/>` +
    `</schema>`
  );
}

let xmllint: ValidateFn | undefined;

// xmllint-wasm is loaded on first use: only senders with a schema folder pay for the WASM module.
function loadXmllint(): ValidateFn {
  if (xmllint) return xmllint;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    xmllint = (require("xmllint-wasm") as { validateXML: ValidateFn }).validateXML;
  } catch (e) {
    throw new InfraError("schema-validator-missing", `XSD validation needs the xmllint-wasm package: ${e instanceof Error ? e.message : String(e)}`);
  }
  return xmllint;
}
