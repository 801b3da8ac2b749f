import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { InfraError } from "../../../src/core/errors";
import { makeEvent } from "../../../src/amqp/event-maker";
import { SchemaValidator } from "../../../src/amqp/schema-validator";
import { CLACKS_NS } from "../../../src/amqp/xml-event";
import { FakeClock } from "../../support/fake-clock";
import { eventSchema, SchemaFolder } from "./support/schema-folder";

const xmlOf = (e: unknown) => makeEvent(e).xml;
const GOOD = xmlOf({ PhoneStatus: { CallerId: "1", ReceiverId: "2", Status: "busy" } });
const NO_STATUS = xmlOf({ PhoneStatus: { CallerId: "1", ReceiverId: "2" } });
const STATUS_REQUIRED = `<xs:element name="Status" type="xs:string"/>`;
const STATUS_OPTIONAL = `<xs:element name="Status" type="xs:string" minOccurs="0"/>`;
const hasCode = (code: string) => (e: unknown) => e instanceof InfraError && e.code === code;

describe("amqp schema validator: the schema folder changes", function () {
  this.timeout(20000);
  let folder: SchemaFolder;
  let validator: SchemaValidator | undefined;
  beforeEach(() => (folder = new SchemaFolder()));
  afterEach(() => {
    validator?.close();
    validator = undefined;
    folder.remove();
  });

  it("picks up a changed, added or removed schema at the next check, and looks at most once per interval", async () => {
    const clock = new FakeClock();
    const v = (validator = new SchemaValidator(folder.dir, CLACKS_NS, { clock, recheckMs: 1000 }));
    assert.equal((await v.validate(NO_STATUS)).valid, false);
    assert.equal(v.compiles, 1);

    folder.edit("PhoneStatus.xsd", STATUS_REQUIRED, STATUS_OPTIONAL);
    // Within the interval the compiled set is used as it is: the folder is not looked at.
    assert.equal((await v.validate(NO_STATUS)).valid, false);
    clock.advance(999);
    assert.equal((await v.validate(NO_STATUS)).valid, false);
    clock.advance(1);
    assert.deepEqual(await v.validate(NO_STATUS), { valid: true, errors: [] });
    assert.equal(v.compiles, 2);

    // Unchanged folder: looked at, not compiled again.
    clock.advance(5000);
    assert.equal((await v.validate(GOOD)).valid, true);
    assert.equal(v.compiles, 2);

    folder.write("NodeLeave.xsd", eventSchema("NodeLeave", "Id"));
    folder.unlink("ClientPoll.xsd");
    clock.advance(1000);
    assert.deepEqual(await v.events(), ["NodeLeave", "NodeStatus", "PhoneStatus"]);
    assert.deepEqual(await v.validate(xmlOf({ NodeLeave: { Id: "n1" } })), { valid: true, errors: [] });
    const gone = await v.validate(xmlOf({ ClientPoll: {} }));
    assert.equal(gone.valid, false);
    assert.match(gone.errors.join("\n"), /ClientPoll': This element is not expected/);
    assert.equal(v.compiles, 3);
  });

  it("a broken schema file gives a clear error, crashes nothing, and is picked up once fixed", async () => {
    const v = (validator = new SchemaValidator(folder.dir, CLACKS_NS, { recheckMs: 0 }));
    assert.equal((await v.validate(GOOD)).valid, true);

    folder.write("Broken.xsd", `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n<xs:complexType name="Broken">\n`);
    const notXml = /^the schemas in .*amqp-xsd-.* do not compile: Broken\.xsd line \d+: .*(end of data|EndTag|complexType)/;
    await assert.rejects(v.validate(GOOD), (e: unknown) => hasCode("schema-broken")(e) && notXml.test((e as Error).message));
    await assert.rejects(v.events(), hasCode("schema-broken"));
    // Every send is refused until the folder changes: no validation against the set it replaced.
    await assert.rejects(v.validate(GOOD), hasCode("schema-broken"));

    folder.write("Broken.xsd", eventSchema("Broken", "Id").replace(`type="xs:string"`, `type="ev:NoSuchType"`));
    await assert.rejects(
      v.validate(GOOD),
      (e: unknown) => hasCode("schema-broken")(e) && /Broken\.xsd line \d+: .*NoSuchType' does not resolve/.test((e as Error).message),
    );

    folder.unlink("Broken.xsd");
    assert.deepEqual(await v.validate(GOOD), { valid: true, errors: [] });
  });

  it("serves the schemas only from the folder: an include that points outside it fails to load", async () => {
    // A schema beside the folder that would make the include succeed if libxml2 could read it.
    const outside = path.join(path.dirname(folder.dir), `${path.basename(folder.dir)}-outside.xsd`);
    fs.writeFileSync(outside, eventSchema("Outside", "Id"));
    try {
      for (const where of [`../${path.basename(outside)}`, outside, `file://${outside}`]) {
        folder.write(
          "Outside.xsd",
          `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="${CLACKS_NS}"><xs:include schemaLocation="${where}"/></xs:schema>`,
        );
        const v = new SchemaValidator(folder.dir);
        try {
          await assert.rejects(
            v.validate(GOOD),
            (e: unknown) => hasCode("schema-broken")(e) && /Failed to load the document/.test((e as Error).message),
            where,
          );
        } finally {
          v.close();
        }
      }
    } finally {
      fs.rmSync(outside, { force: true });
    }
  });

  it("answers concurrent validations with the set of their moment, compiling once per change", async () => {
    const clock = new FakeClock();
    const v = (validator = new SchemaValidator(folder.dir, CLACKS_NS, { clock, recheckMs: 1000 }));
    await v.validate(GOOD);
    folder.edit("PhoneStatus.xsd", STATUS_REQUIRED, STATUS_OPTIONAL);
    const docs = Array.from({ length: 60 }, (_v, i) =>
      i % 3 === 0 ? NO_STATUS : i % 3 === 1 ? GOOD : xmlOf({ NodeStatus: { Id: "a", Load: "high", Latency: 1, Workers: 1 } }),
    );
    // Before the next check: the old set, where Status is required.
    const before = await Promise.all(docs.map((d) => v.validate(d)));
    before.forEach((r, i) => assert.equal(r.valid, i % 3 === 1, `before, event ${i}`));
    // After it: all 60 wait for the one check the first of them started, then use the new set.
    clock.advance(1000);
    const after = await Promise.all(docs.map((d) => v.validate(d)));
    after.forEach((r, i) => {
      assert.equal(r.valid, i % 3 !== 2, `after, event ${i}`);
      if (i % 3 === 2) assert.match(r.errors.join(), /^line 1, \/Event\/NodeStatus\/Load: .*'high' is not a valid value .*float/);
    });
    assert.equal(v.compiles, 2);
  });

  it("close() frees the set: later calls fail clearly, and a close during the first load compiles nothing", async () => {
    const v = new SchemaValidator(folder.dir);
    const pending = v.validate(GOOD);
    v.close();
    await assert.rejects(pending, hasCode("validator-closed"));
    assert.equal(v.compiles, 0);

    const w = new SchemaValidator(folder.dir);
    assert.equal((await w.validate(GOOD)).valid, true);
    w.close();
    await assert.rejects(w.validate(GOOD), hasCode("validator-closed"));
    await assert.rejects(w.events(), hasCode("validator-closed"));
    w.close(); // twice is harmless
  });
});
