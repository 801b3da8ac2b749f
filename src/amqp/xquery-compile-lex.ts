/**
 * Tokens of the XQuery subset the compiler takes (xquery-compile.ts). Anything the lexer does not
 * know for certain (non-ASCII names, `|`, `$ x`, `&` in a string literal, which XQuery reads as a
 * character reference) makes it return undefined, and the filter stays with fontoxpath.
 */
export type Token =
  | { t: "name"; v: string } // NCName, QName, `*`, `p:*`, `*:n`
  | { t: "var"; v: string }
  | { t: "str"; v: string }
  | { t: "num"; v: number }
  | { t: "sym"; v: string }
  | { t: "eof" };

const SYMBOLS = [":=", "::", "//", "!=", "<=", ">=", "..", "/", "(", ")", "[", "]", "@", ",", ";", "=", "<", ">", "."];
const isNameStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const NCNAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
// Decimal and double literals; more digits than a double holds exactly are left to fontoxpath.
const NUMBER = /(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?/y;

export function lex(src: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (src.startsWith("(:", i)) {
      const end = skipComment(src, i);
      if (end < 0) return undefined;
      i = end;
      continue;
    }
    if (c === '"' || c === "'") {
      let v = "";
      let j = i + 1;
      for (;;) {
        const k = src.indexOf(c, j);
        if (k < 0) return undefined;
        v += src.slice(j, k);
        if (src[k + 1] === c) {
          v += c; // a doubled quote stands for one
          j = k + 2;
          continue;
        }
        i = k + 1;
        break;
      }
      if (v.includes("&")) return undefined;
      out.push({ t: "str", v });
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src)!;
      const text = m[0];
      i += text.length;
      // `1div`, `1.2.3`: XQuery refuses them; so do we (fontoxpath gives the error).
      if (/[A-Za-z0-9_.]/.test(src[i] ?? "")) return undefined;
      if (
        text
          .replace(/[eE].*$/, "")
          .replace(/[^0-9]/g, "")
          .replace(/^0+/, "").length > 15
      )
        return undefined;
      out.push({ t: "num", v: Number(text) });
      continue;
    }
    if (c === "$") {
      NCNAME.lastIndex = i + 1;
      const m = NCNAME.exec(src);
      if (!m || src[i + 1 + m[0].length] === ":") return undefined;
      out.push({ t: "var", v: m[0] });
      i += 1 + m[0].length;
      continue;
    }
    if (c === "*" || isNameStart(c)) {
      const name = qname(src, i);
      if (!name) return undefined;
      out.push({ t: "name", v: name });
      i += name.length;
      continue;
    }
    const sym = SYMBOLS.find((s) => src.startsWith(s, i));
    if (!sym) return undefined;
    out.push({ t: "sym", v: sym });
    i += sym.length;
  }
  out.push({ t: "eof" });
  return out;
}

/** `n`, `p:n`, `p:*`, `*`, `*:n` at i (no spaces inside, as XQuery requires). */
function qname(src: string, i: number): string | undefined {
  let first: string;
  if (src[i] === "*") first = "*";
  else {
    NCNAME.lastIndex = i;
    first = NCNAME.exec(src)![0];
  }
  const j = i + first.length;
  if (src[j] !== ":" || src[j + 1] === ":" || src[j + 1] === "=") return first;
  if (src[j + 1] === "*") return first === "*" ? undefined : `${first}:*`;
  NCNAME.lastIndex = j + 1;
  const m = NCNAME.exec(src);
  if (!m) return first === "*" ? undefined : first;
  // Non-ASCII name characters would continue the name: not ours.
  if ((src.charCodeAt(j + 1 + m[0].length) || 0) > 0x7f) return undefined;
  return `${first}:${m[0]}`;
}

/** The index after a (possibly nested) comment starting at i, or -1. */
function skipComment(src: string, i: number): number {
  let depth = 0;
  while (i < src.length) {
    if (src.startsWith("(:", i)) {
      depth++;
      i += 2;
    } else if (src.startsWith(":)", i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return -1;
}
