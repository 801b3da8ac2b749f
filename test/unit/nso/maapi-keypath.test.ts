import { strict as assert } from "node:assert";
import { inspect } from "node:util";
import fc from "fast-check";
import { ProtocolError } from "../../../src/core/errors";
import { keyText, parseSubtree, parseReply, renderKeypath, schemaKey, topFirst } from "../../../src/nso/maapi";
import { atom, ImproperList, Term, Tuple, tuple } from "../../../src/nso/term/types";
import { canonicalTerm } from "./term-support";
import { readMaapiFrames } from "./maapi-support";

const NCS = atom("http://tail-f.com/ns/ncs");
const NACM = atom("urn:ietf:params:xml:ns:yang:ietf-netconf-acm");
const b = (s: string): Buffer => Buffer.from(s);

describe("nso maapi: keypaths", () => {
  it("renders name-mode keypaths top-first, bare top node, keys in braces", () => {
    assert.equal(
      renderKeypath([atom("connect-timeout"), atom("global-settings"), new ImproperList([NCS], atom("devices"))]),
      "/devices/global-settings/connect-timeout",
    );
    assert.equal(renderKeypath([atom("address"), tuple(b("ce0")), atom("device"), new ImproperList([NCS], atom("devices"))]), "/devices/device{ce0}/address");
  });

  it("gives an augmented node its prefix (tailf-acm:context inside nacm, §4.3)", () => {
    const ikp = [
      new ImproperList([atom("http://tail-f.com/yang/acm")], atom("context")),
      tuple(b("r1")),
      atom("rule"),
      tuple(b("rl1")),
      atom("rule-list"),
      new ImproperList([NACM], atom("nacm")),
    ];
    assert.equal(renderKeypath(ikp), "/nacm/rule-list{rl1}/rule{r1}/tailf-acm:context");
    assert.equal(renderKeypath(ikp, new Map([["http://tail-f.com/yang/acm", "tacm"]])), "/nacm/rule-list{rl1}/rule{r1}/tacm:context");
    assert.equal(schemaKey(ikp), "{urn:ietf:params:xml:ns:yang:ietf-netconf-acm}nacm/rule-list/rule/{http://tail-f.com/yang/acm}context");
  });

  it("prints multi-key entries, typed keys and keys that need quoting", () => {
    const ikp = [tuple(b("a b"), 7, tuple(127, 0, 0, 1), tuple(12, 5)), atom("x"), new ImproperList([atom("urn:example:very-long")], atom("top"))];
    assert.equal(renderKeypath(ikp), '/top/x{"a b" 7 127.0.0.1 5}');
    assert.equal(keyText(b("")), '""');
    assert.equal(keyText(b('q"{')), '"q\\"{"');
  });

  it("refuses hash-mode and malformed keypaths with a ProtocolError (a counted drop), never a bad string", () => {
    const bad: Term[] = [
      [],
      atom("x"),
      [171963197, 992999221, new ImproperList([469622343], 270307409)],
      [tuple(b("k"))],
      [atom("leaf"), atom("top")],
      [b("bin"), new ImproperList([NCS], atom("devices"))],
      [tuple(new Tuple([])), new ImproperList([NCS], atom("d"))].reverse(),
    ];
    for (const t of bad)
      assert.throws(
        () => renderKeypath(t),
        (e: unknown) => e instanceof ProtocolError && e.code === "maapi-bad-keypath",
        inspect(t),
      );
  });

  it("never throws anything but ProtocolError on random terms (property)", () => {
    const leaf = fc.oneof(
      fc.integer(),
      fc.constantFrom("a", "devices", "x y").map((s) => atom(s) as Term),
      fc.string().map((s) => Buffer.from(s) as Term),
    );
    const el = fc.oneof(
      leaf,
      fc.array(leaf, { maxLength: 3 }).map((a) => new Tuple(a) as Term),
      fc.tuple(leaf, leaf).map(([x, y]) => new ImproperList([x], y) as Term),
    );
    fc.assert(
      fc.property(fc.array(el, { maxLength: 8 }), (path) => {
        try {
          const s = renderKeypath(path);
          assert.ok(s.startsWith("/"));
        } catch (e) {
          assert.ok(e instanceof ProtocolError, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("parses subtree filters to the top-first keypaths DIFF_IKP_ITER takes (§4.2, P18)", () => {
    assert.equal(canonicalTerm(parseSubtree("/nacm")), canonicalTerm([new ImproperList([NACM], atom("nacm"))]));
    assert.equal(canonicalTerm(parseSubtree("/devices/device")), canonicalTerm([new ImproperList([NCS], atom("devices")), atom("device")]));
    assert.equal(
      canonicalTerm(parseSubtree("/ncs:devices/device{ce0}")),
      canonicalTerm([new ImproperList([NCS], atom("devices")), atom("device"), tuple(b("ce0"))]),
    );
    assert.equal(
      canonicalTerm(parseSubtree("/{urn:x}top/a:b".replace("a:b", "tailf-acm:ctx"))),
      canonicalTerm([new ImproperList([atom("urn:x")], atom("top")), new ImproperList([atom("http://tail-f.com/yang/acm")], atom("ctx"))]),
    );
    for (const t of ["devices", "/", "/devices//x", "/zz:devices", "/devices/device{", "/devices/device{}", "/{urn:x", "/devices/$"])
      assert.throws(() => parseSubtree(t), RangeError, t);
  });

  it("every name-mode path of the capture reads back to the same keypath", () => {
    let n = 0;
    for (const f of readMaapiFrames().filter((x) => x.step === "DIFF_ITEM" && !x.truncated)) {
      const r = parseReply(f.bytes!.subarray(4));
      if (r.kind !== "term") continue;
      const ikp = (r.term as Tuple).get(0);
      let text: string;
      try {
        text = renderKeypath(ikp);
      } catch {
        continue; // hash mode
      }
      assert.equal(canonicalTerm(parseSubtree(text)), canonicalTerm(topFirst(ikp)), text);
      n++;
    }
    assert.ok(n > 300, `${n}`);
  });
});
