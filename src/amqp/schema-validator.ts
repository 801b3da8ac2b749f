import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Clock } from "../core/clock";
import { systemClock } from "../core/clock";
import { asError, InfraError } from "../core/errors";
import { CLACKS_NS } from "./xml-event";
import { CompiledSchemas, loadLibxml2, ValidationResult } from "./xsd-compiled";
import { compileFastCheck } from "./xsd-fast";

export type { ValidationResult } from "./xsd-compiled";

/**
 * Validates events against a folder of event XSDs (one file per event, named after it), the
 * way Clacks' agent did: an envelope schema includes every `<Name>.xsd` and declares
 * `Event` as a choice of exactly one of those events (what `events.xsl` generated).
 *
 * The schema set is compiled once (libxml2 in WebAssembly, xsd-compiled.ts) and kept: a
 * validation then runs synchronously on this thread, ~1.5 µs for an event of the plain shape
 * (xsd-fast.ts), ~7 µs (25–35 µs cache-cold) when libxml2 checks it. The folder is looked at
 * again at most once per `recheckMs` (default 1 s), on use: the names, sizes, modification
 * times and inodes of its `*.xsd` files. When they changed, the set is compiled anew and the old one freed; when the new
 * state is broken (a file that does not parse or compile, an emptied or missing folder),
 * validations fail with that error until the folder changes again. Polling on use rather
 * than fs.watch: nothing to watch or close while no event is sent, and it works on network
 * and container-mounted folders where watch events do not arrive. `close()` frees the set.
 */
export interface SchemaValidatorOptions {
  /** Look at the folder again at most this often, in ms (0: before every validation). Default 1000. */
  recheckMs?: number;
  clock?: Pick<Clock, "now">;
  /** Check events of the plain shape in JS where the schema allows (xsd-fast.ts). Default true. */
  fastPath?: boolean;
}

interface FolderState {
  /** Every `*.xsd` file name, sorted. */
  names: string[];
  /** Names, sizes, modification times and inodes: equal stamps = nothing to reload. */
  stamp: string;
}

export class SchemaValidator {
  private readonly recheckMs: number;
  private readonly clock: Pick<Clock, "now">;
  private readonly fastPath: boolean;
  private compiled: CompiledSchemas | undefined;
  /** Why the folder's current state cannot validate (thrown to every caller until it changes). */
  private failure: Error | undefined;
  /** The folder state that `compiled` or `failure` belongs to. */
  private stamp: string | undefined;
  private eventNames: string[] = [];
  private checkedAt = -Infinity;
  private checking: Promise<void> | undefined;
  private closed = false;
  /** How many times a schema set was compiled (the first load included). */
  compiles = 0;

  constructor(
    readonly folder: string,
    readonly namespace: string = CLACKS_NS,
    opts: SchemaValidatorOptions = {},
  ) {
    this.recheckMs = Math.max(0, opts.recheckMs ?? 1000);
    this.clock = opts.clock ?? systemClock;
    this.fastPath = opts.fastPath ?? true;
  }

  /** The event names the folder defines (its `*.xsd` file names). */
  async events(): Promise<string[]> {
    if (this.due()) await this.check();
    this.current();
    return [...this.eventNames];
  }

  /** The events the current set checks in JS when they have the plain shape (xsd-fast.ts). */
  get fastPathEvents(): string[] {
    return this.compiled?.fastEvents ?? [];
  }

  /**
   * Validate one event. Concurrent calls need no coordination: each runs to the end
   * synchronously on the compiled set; only a folder check (at most once per `recheckMs`)
   * makes callers wait, all for the same one.
   */
  validate(xml: string): Promise<ValidationResult> {
    if (!this.due()) {
      try {
        return Promise.resolve(this.current().validate(xml));
      } catch (e) {
        return Promise.reject(asError(e));
      }
    }
    // current() runs after the check, in the same turn as validate(): the set it returns
    // cannot have been freed by a later check in between.
    return this.check().then(() => this.current().validate(xml));
  }

  /** Free the compiled schema set (WASM memory is not garbage-collected); later calls fail. */
  close(): void {
    this.closed = true;
    this.compiled?.dispose();
    this.compiled = undefined;
  }

  private due(): boolean {
    return this.closed || this.clock.now() - this.checkedAt >= this.recheckMs;
  }

  private current(): CompiledSchemas {
    if (this.closed) throw new InfraError("validator-closed", `the schema validator for ${this.folder} is closed`);
    if (this.failure) throw this.failure;
    if (!this.compiled) throw new InfraError("schema-folder", `no schemas loaded from ${this.folder}`);
    return this.compiled;
  }

  private check(): Promise<void> {
    if (this.closed) return Promise.resolve(); // current() says so
    this.checking ??= this.lookAtFolder().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async lookAtFolder(): Promise<void> {
    const at = this.clock.now();
    let state: FolderState;
    try {
      state = await folderState(this.folder);
    } catch (e) {
      this.fail(undefined, e as Error);
      this.checkedAt = at;
      return;
    }
    if (state.stamp !== this.stamp) await this.reload(state);
    this.checkedAt = at;
  }

  private async reload(state: FolderState): Promise<void> {
    // A missing package is no state of the folder: not remembered, the next call tries again.
    const lib = await loadLibxml2();
    let files: Map<string, Uint8Array>;
    try {
      files = new Map(await Promise.all(state.names.map(async (f) => [f, await fs.readFile(path.join(this.folder, f))] as const)));
    } catch (e) {
      // A file went away between listing and reading: look again at the next check.
      this.fail(undefined, folderError(`cannot read a schema in ${this.folder}`, e));
      return;
    }
    if (this.closed) return;
    const events = state.names.map((f) => f.slice(0, -4)).filter((n) => /^[A-Za-z_][\w.-]*$/.test(n));
    let next: CompiledSchemas;
    try {
      next = CompiledSchemas.compile(lib, envelopeSchema(events, this.namespace), files, this.folder);
    } catch (e) {
      if (!(e instanceof InfraError)) throw e;
      this.fail(state.stamp, e);
      return;
    }
    try {
      if (this.fastPath) next.useFastCheck(compileFastCheck(lib.api, files, events, this.namespace));
    } catch (e) {
      next.dispose();
      throw e;
    }
    this.compiles++;
    this.compiled?.dispose();
    this.compiled = next;
    this.failure = undefined;
    this.stamp = state.stamp;
    this.eventNames = events;
  }

  private fail(stamp: string | undefined, e: Error): void {
    this.compiled?.dispose();
    this.compiled = undefined;
    this.failure = e;
    this.stamp = stamp;
  }
}

async function folderState(folder: string): Promise<FolderState> {
  let names: string[];
  try {
    names = (await fs.readdir(folder)).filter((f) => f.endsWith(".xsd")).sort();
  } catch (e) {
    throw folderError(`cannot read schema folder ${folder}`, e);
  }
  if (names.length === 0) throw new InfraError("schema-folder", `no .xsd files in schema folder ${folder}`);
  let stats;
  try {
    stats = await Promise.all(names.map((f) => fs.stat(path.join(folder, f))));
  } catch (e) {
    throw folderError(`cannot read a schema in ${folder}`, e);
  }
  return { names, stamp: names.map((f, i) => `${f}\0${stats[i].size}\0${stats[i].mtimeMs}\0${stats[i].ino}`).join("\n") };
}

function folderError(what: string, e: unknown): InfraError {
  return new InfraError("schema-folder", `${what}: ${e instanceof Error ? e.message : String(e)}`);
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
