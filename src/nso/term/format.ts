import { isUtf8 } from "node:buffer";
import { Atom, ErlFloat, ErlMap, ImproperList, Term, Tuple } from "./types";

/**
 * Erlang-style text of a term (close to `io:format("~w")`, but binaries of printable UTF-8
 * are shown as text). Faithful: atoms, binaries, charlists, tuples and lists stay distinct, so
 * it is what an unknown notification carries for a human to read and what error details quote.
 * `maxLength` cuts the text (with "...") so a hostile term cannot flood a log line.
 */
export function formatTerm(t: Term, maxLength = 4096): string {
  const out: string[] = [];
  let len = 0;
  const push = (s: string): boolean => {
    out.push(s);
    len += s.length;
    return len < maxLength;
  };
  const walk = (x: Term): boolean => {
    if (typeof x === "number" || typeof x === "bigint") return push(String(x));
    if (x instanceof Atom) return push(atomText(x.name));
    if (Buffer.isBuffer(x)) return push(binaryText(x));
    if (typeof x === "string") return push(JSON.stringify(x));
    if (x instanceof ErlFloat) return push(floatText(x.value));
    if (Array.isArray(x)) return seq("[", x, null, "]");
    if (x instanceof ImproperList) return seq("[", x.elements, x.tail, "]");
    if (x instanceof Tuple) return seq("{", x.elements, null, "}");
    if (x instanceof ErlMap) {
      if (!push("#{")) return false;
      for (let i = 0; i < x.entries.length; i++) {
        if (i > 0 && !push(",")) return false;
        if (!walk(x.entries[i][0]) || !push(" => ") || !walk(x.entries[i][1])) return false;
      }
      return push("}");
    }
    return push("?");
  };
  const seq = (open: string, items: Term[], tail: Term | null, close: string): boolean => {
    if (!push(open)) return false;
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && !push(",")) return false;
      if (!walk(items[i])) return false;
    }
    if (tail !== null && (!push("|") || !walk(tail))) return false;
    return push(close);
  };
  const complete = walk(t);
  const text = out.join("");
  return complete && text.length <= maxLength ? text : text.slice(0, maxLength) + "...";
}

function atomText(name: string): string {
  if (/^[a-z][A-Za-z0-9_@]*$/.test(name) && !RESERVED.has(name)) return name;
  return "'" + name.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

function binaryText(b: Buffer): string {
  if (isUtf8(b)) {
    const s = b.toString("utf8");
    // Printable text (tabs/newlines allowed) shows as <<"...">>, anything else as bytes.
    // eslint-disable-next-line no-control-regex -- control characters are exactly what makes a binary non-printable
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) {
      return '<<"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t") + '">>';
    }
  }
  return "<<" + Array.from(b).join(",") + ">>";
}

function floatText(v: number): string {
  const s = String(v);
  if (/[.e]/.test(s)) return s.includes(".") ? s : s.replace("e", ".0e");
  return s + ".0";
}

const RESERVED = new Set([
  "after",
  "and",
  "andalso",
  "band",
  "begin",
  "bnot",
  "bor",
  "bsl",
  "bsr",
  "bxor",
  "case",
  "catch",
  "cond",
  "div",
  "end",
  "fun",
  "if",
  "let",
  "maybe",
  "not",
  "of",
  "or",
  "orelse",
  "receive",
  "rem",
  "try",
  "when",
  "xor",
]);
