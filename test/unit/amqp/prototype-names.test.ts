import * as assert from "node:assert/strict";
import { ProtocolError } from "../../../src/core/errors";
import { CLACKS_NS } from "../../../src/amqp/xml-event";
import { EventDecoder } from "../../../src/amqp/event-decoder";
import { readSimpleEvent } from "../../../src/amqp/fast-event";
import { assertNotPolluted, assertOwnData, PROTOTYPE_NAMES } from "../../support/prototype-names";

const ev = (inner: string, attrs = ""): string => `<Event xmlns="${CLACKS_NS}"><Ev${attrs}>${inner}</Ev></Event>`;
/** Both readers: the DOM-free one (no XQuery) and slimdom + eventToObject (with an XQuery). */
const decoders = { fast: new EventDecoder(), dom: new EventDecoder({ xquery: "true()" }) };

function payload(d: EventDecoder, xml: string): Record<string, unknown> {
  const r = d.decode({ body: xml });
  assert.equal(r.kind, "event");
  return (r as { payload: Record<string, unknown> }).payload;
}

describe("amqp XML -> object: element and attribute names are plain data", () => {
  afterEach(assertNotPolluted);

  for (const [path, d] of Object.entries(decoders)) {
    for (const name of PROTOTYPE_NAMES) {
      it(`${path}: <${name}> once, twice, nested, and as an attribute`, () => {
        assertOwnData(payload(d, ev(`<${name}>v</${name}>`)), name, "v", "once");
        assertOwnData(payload(d, ev(`<${name}>v</${name}><${name}>w</${name}>`)), name, ["v", "w"], "twice");
        assertOwnData(payload(d, ev(`<${name}>v</${name}><other>o</other><${name}>w</${name}><${name}>x</${name}>`)), name, ["v", "w", "x"], "three");
        const outer = payload(d, ev(`<${name}><polluted>yes</polluted></${name}>`));
        assertOwnData(outer, name, { polluted: "yes" }, "nested");
        const withAttr = payload(d, ev("<x>1</x>", ` ${name}="a"`));
        assertOwnData(withAttr.$, name, "a", "attribute");
        assertOwnData(withAttr, "x", "1", "beside the attribute");
      });
    }
  }

  it("`&constructor;` and friends are unknown entities, refused like any other (the fast reader used Object.prototype's)", () => {
    for (const name of PROTOTYPE_NAMES) {
      const xml = ev(`<x>a&${name};b</x>`);
      assert.equal(readSimpleEvent(xml, CLACKS_NS), undefined, name);
      assert.throws(
        () => decoders.fast.decode({ body: xml }),
        (e: unknown) => e instanceof ProtocolError && e.code === "xml-malformed",
        name,
      );
    }
  });

  it("the event element itself may be named so, and the payload stays a plain object", () => {
    for (const name of PROTOTYPE_NAMES) {
      for (const d of Object.values(decoders)) {
        const r = d.decode({ body: `<Event xmlns="${CLACKS_NS}"><${name}><a>1</a></${name}></Event>` }) as { name: string; payload: object };
        assert.equal(r.name, name);
        assertOwnData(r.payload, "a", "1", name);
      }
    }
  });
});
