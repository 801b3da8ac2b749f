import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clacksSchemaDir } from "./clacks-schemas";

/**
 * A temporary copy of the Clacks-format test schemas that a test may change (rewrite, add,
 * break, remove files) without touching test/fixtures. `remove()` deletes it.
 */
export class SchemaFolder {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "amqp-xsd-"));

  constructor() {
    for (const f of fs.readdirSync(clacksSchemaDir())) {
      if (f.endsWith(".xsd")) fs.copyFileSync(path.join(clacksSchemaDir(), f), path.join(this.dir, f));
    }
  }

  read(file: string): string {
    return fs.readFileSync(path.join(this.dir, file), "utf8");
  }

  write(file: string, text: string): void {
    fs.writeFileSync(path.join(this.dir, file), text);
  }

  /** Rewrite a file with one text replaced (fails if the text is not there: no silent no-op). */
  edit(file: string, from: string, to: string): void {
    const text = this.read(file);
    if (!text.includes(from)) throw new Error(`${file} has no ${JSON.stringify(from)}`);
    this.write(file, text.replace(from, to));
  }

  unlink(file: string): void {
    fs.unlinkSync(path.join(this.dir, file));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A one-event schema in the Clacks format: `<Name>` holding one required string `Field`. */
export function eventSchema(name: string, field: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:ev="http://www.gonicus.de/Events"
           targetNamespace="http://www.gonicus.de/Events" elementFormDefault="qualified">
  <xs:complexType name="${name}">
    <xs:sequence><xs:element name="${field}" type="xs:string"/></xs:sequence>
  </xs:complexType>
  <xs:element name="${name}" type="ev:${name}"/>
</xs:schema>
`;
}
