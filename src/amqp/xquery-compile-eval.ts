import { stringValue, XDoc, XNode } from "./xml-tree";
import { CompOp, Expr, NodeTest, Step } from "./xquery-compile-parse";

/**
 * The evaluator of a parsed query (xquery-compile-parse.ts) on the DOM-free tree (xml-tree.ts).
 * The parser's AST becomes a tree of closures once, at deploy.
 *
 * It answers only where its answer is certainly fontoxpath's. Wherever fontoxpath would raise an
 * error, or where fontoxpath's behaviour is its own (it casts untypedAtomic to the other operand's
 * type in `eq`; it trims JavaScript whitespace, not XML's, in casts and normalize-space), or where
 * we have not proven agreement (booleans in comparisons, numbers to strings), it throws UNSURE and
 * the filter evaluates that event with fontoxpath on the DOM, which gives the answer or the error.
 * Both sides of `and`/`or` and every predicate are evaluated in full, so a doubt anywhere is
 * never hidden by a short cut fontoxpath might not take.
 */
export class Unsure extends Error {}
/** One instance, thrown without building a stack trace per event. */
export const UNSURE = new Unsure("not certainly fontoxpath's answer");

/** A sequence: nodes (in document order, no duplicates; [] is the empty sequence) or one atomic value. */
export type Value = XNode[] | string | number | boolean;
export interface Ctx {
  item: XNode | string | number | boolean;
  pos: number;
  size: number;
  vars: Value[];
  root: XDoc;
}
export type Compiled = (c: Ctx) => Value;

const XML_SPACE_ONLY = /[^\S \t\n\r]/; // whitespace to JavaScript but not to XML
const SURROGATE = /[\uD800-\uDFFF]/;
const DOUBLE = /^[ \t\n\r]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?[ \t\n\r]*$/;

export function compile(e: Expr): Compiled {
  switch (e.k) {
    case "str":
    case "num": {
      const v = e.v;
      return () => v;
    }
    case "empty":
      return () => [];
    case "var": {
      const slot = e.slot;
      return (c) => c.vars[slot];
    }
    case "ctx":
      return (c) => (typeof c.item === "object" ? [c.item] : c.item);
    case "root":
      return (c) => [rootOf(c)];
    case "path":
      return compilePath(compile(e.start), e.steps);
    case "filter": {
      const base = compile(e.base);
      const preds = e.preds.map(compile);
      return (c) => {
        const v = base(c);
        if (Array.isArray(v)) return applyPreds(v, preds, c);
        return applyPreds([v], preds, c).length ? v : [];
      };
    }
    case "and":
    case "or": {
      const a = compile(e.a);
      const b = compile(e.b);
      return e.k === "and"
        ? (c) => {
            const x = ebv(a(c));
            return ebv(b(c)) && x;
          }
        : (c) => {
            const x = ebv(a(c));
            return ebv(b(c)) || x;
          };
    }
    case "cmp": {
      const a = compile(e.a);
      const b = compile(e.b);
      const op = e.op;
      return e.general ? (c) => general(op, a(c), b(c)) : (c) => valueCmp(op, a(c), b(c));
    }
    case "let": {
      const value = compile(e.value);
      const ret = compile(e.ret);
      const slot = e.slot;
      return (c) => {
        c.vars[slot] = value(c);
        return ret(c);
      };
    }
    case "call":
      return compileCall(e.f, e.args.map(compile));
  }
}

function rootOf(c: Ctx): XDoc {
  if (typeof c.item !== "object") throw UNSURE; // `/` with an atomic context item: an error
  return c.root;
}

function compilePath(start: Compiled, steps: Step[]): Compiled {
  // `//name` without predicates is the descendant axis (the same nodes, already in order).
  const opt: Step[] = [];
  for (let j = 0; j < steps.length; j++) {
    const s = steps[j];
    const next = steps[j + 1];
    if (s.axis === "descendant-or-self" && s.test.k === "node" && !s.preds.length && next && next.axis === "child" && !next.preds.length) {
      opt.push({ axis: "descendant", test: next.test, preds: [] });
      j++;
    } else opt.push(s);
  }
  const compiled = opt.map((s) => ({ axis: s.axis, test: s.test, preds: s.preds.map(compile) }));
  return (c) => {
    const v = start(c);
    if (!Array.isArray(v)) throw UNSURE; // a step on an atomic value: an error
    let nodes = v;
    for (const s of compiled) {
      let out: XNode[] = [];
      for (const n of nodes) {
        let cand: XNode[] = [];
        axis(n, s.axis, s.test, c.root.ns, cand);
        if (s.preds.length) cand = applyPreds(cand, s.preds, c);
        for (const m of cand) out.push(m);
      }
      if (nodes.length > 1 && out.length > 1) out = inOrder(out);
      nodes = out;
    }
    return nodes;
  };
}

function inOrder(nodes: XNode[]): XNode[] {
  nodes.sort((a, b) => a.ord - b.ord);
  const out: XNode[] = [nodes[0]];
  for (let j = 1; j < nodes.length; j++) if (nodes[j] !== nodes[j - 1]) out.push(nodes[j]);
  return out;
}

function axis(n: XNode, ax: Step["axis"], test: NodeTest, ns: string, out: XNode[]): void {
  switch (ax) {
    case "child":
      if (n.kind === 1 || n.kind === 9) for (const k of n.kids) if (matches(k, test, ns, false)) out.push(k);
      return;
    case "descendant-or-self":
      if (matches(n, test, ns, false)) out.push(n);
      descendants(n, test, ns, out);
      return;
    case "descendant":
      descendants(n, test, ns, out);
      return;
    case "self":
      if (matches(n, test, ns, false)) out.push(n);
      return;
    case "parent":
      if (n.parent && matches(n.parent, test, ns, false)) out.push(n.parent);
      return;
    case "attribute":
      if (n.kind === 1 && n.attrs) for (const a of n.attrs) if (matches(a, test, ns, true)) out.push(a);
  }
}

function descendants(n: XNode, test: NodeTest, ns: string, out: XNode[]): void {
  if (n.kind !== 1 && n.kind !== 9) return;
  for (const k of n.kids) {
    if (matches(k, test, ns, false)) out.push(k);
    if (k.kind === 1) descendants(k, test, ns, out);
  }
}

/** Name tests select the axis's principal node kind: attributes on the attribute axis, elements elsewhere. */
function matches(n: XNode, test: NodeTest, ns: string, attribute: boolean): boolean {
  if (test.k === "node") return true;
  if (test.k === "text") return n.kind === 3;
  if (attribute) return n.kind === 2 && (test.local === null || test.local === n.name) && (test.ns === null || test.ns === "");
  return n.kind === 1 && (test.local === null || test.local === n.name) && (test.ns === null || test.ns === ns);
}

function applyPreds<T extends XNode | string | number | boolean>(items: T[], preds: Compiled[], c: Ctx): T[] {
  for (const p of preds) {
    const kept: T[] = [];
    for (let j = 0; j < items.length; j++) {
      const v = p({ item: items[j], pos: j + 1, size: items.length, vars: c.vars, root: c.root });
      if (typeof v === "number" ? v === j + 1 : ebv(v)) kept.push(items[j]);
    }
    items = kept;
  }
  return items;
}

export function ebv(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "string") return v.length > 0;
  if (typeof v === "number") return v !== 0 && !Number.isNaN(v);
  return v;
}

/** An `xs:string?` argument (function conversion): untypedAtomic becomes a string; anything else is an error. */
function stringArg(v: Value): string {
  if (typeof v === "string") return v;
  if (!Array.isArray(v) || v.length > 1) throw UNSURE;
  return v.length ? stringValue(v[0]) : "";
}

/** xs:double from text, where fontoxpath's cast certainly agrees (else UNSURE). */
function toDouble(s: string, failed: number | "unsure"): number {
  if (DOUBLE.test(s)) return Number(s);
  if (failed === "unsure" || /[0-9]|inf|nan/i.test(s) || XML_SPACE_ONLY.test(s)) throw UNSURE;
  return failed;
}

function contextValue(c: Ctx): Value {
  return typeof c.item === "object" ? [c.item] : c.item;
}

function compileCall(f: string, args: Compiled[]): Compiled {
  const [a, b] = args;
  switch (f) {
    case "position":
      return (c) => c.pos;
    case "last":
      return (c) => c.size;
    case "true":
      return () => true;
    case "false":
      return () => false;
    case "not":
      return (c) => !ebv(a(c));
    case "boolean":
      return (c) => ebv(a(c));
    case "exists":
      return (c) => count(a(c)) > 0;
    case "empty":
      return (c) => count(a(c)) === 0;
    case "count":
      return (c) => count(a(c));
    case "contains":
      return (c) => stringArg(a(c)).includes(stringArg(b(c)));
    case "starts-with":
      return (c) => stringArg(a(c)).startsWith(stringArg(b(c)));
    case "ends-with":
      return (c) => stringArg(a(c)).endsWith(stringArg(b(c)));
    case "string":
      return (c) => {
        const v = a ? a(c) : contextValue(c);
        if (typeof v === "string") return v;
        return stringArg(v);
      };
    case "number":
      return (c) => {
        const v = a ? a(c) : contextValue(c);
        if (typeof v === "number") return v;
        if (typeof v === "boolean") throw UNSURE;
        if (Array.isArray(v) && v.length === 0) return NaN;
        return toDouble(stringArg(v), NaN);
      };
    case "normalize-space":
      return (c) => {
        const s = stringArg(a ? a(c) : contextValue(c));
        if (XML_SPACE_ONLY.test(s)) throw UNSURE;
        return s.replace(/[ \t\n\r]+/g, " ").replace(/^ | $/g, "");
      };
  }
  throw new Error(`no evaluator for ${f}`);
}

function count(v: Value): number {
  return Array.isArray(v) ? v.length : 1;
}

function compareStrings(op: CompOp, x: string, y: string): boolean {
  if (op === "=") return x === y;
  if (op === "!=") return x !== y;
  // Code units order like code points unless surrogates are involved.
  if (SURROGATE.test(x) || SURROGATE.test(y)) throw UNSURE;
  return compareNumbers(op, x < y ? -1 : x > y ? 1 : 0, 0);
}

function compareNumbers(op: CompOp, x: number, y: number): boolean {
  switch (op) {
    case "=":
      return x === y;
    case "!=":
      return x !== y;
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    case ">=":
      return x >= y;
  }
}

/**
 * `=`, `<`, …: true when some pair of atomized items compares true. Nodes atomize to
 * untypedAtomic, which compares as a string against strings and nodes and is cast to xs:double
 * against numbers (all of them cast first: a failed cast is fontoxpath's error to raise).
 */
function general(op: CompOp, a: Value, b: Value): boolean {
  if (typeof a === "boolean" || typeof b === "boolean") throw UNSURE;
  if (Array.isArray(a) && a.length === 0) return false;
  if (Array.isArray(b) && b.length === 0) return false;
  if (typeof a === "number" || typeof b === "number") {
    const xs = numbers(a);
    const ys = numbers(b);
    for (const x of xs) for (const y of ys) if (compareNumbers(op, x, y)) return true;
    return false;
  }
  const xs = Array.isArray(a) ? a.map(stringValue) : [a];
  const ys = Array.isArray(b) ? b.map(stringValue) : [b];
  for (const x of xs) for (const y of ys) if (compareStrings(op, x, y)) return true;
  return false;
}

function numbers(v: Exclude<Value, boolean>): number[] {
  if (typeof v === "number") return [v];
  if (typeof v === "string") throw UNSURE; // xs:string against a number: a type error
  return v.map((n) => toDouble(stringValue(n), "unsure"));
}

/** `eq`, `lt`, …: one item a side (none: the empty sequence); untypedAtomic compares as a string. */
function valueCmp(op: CompOp, a: Value, b: Value): Value {
  if (Array.isArray(a) && a.length === 0) return [];
  if (Array.isArray(b) && b.length === 0) return [];
  const x = single(a);
  const y = single(b);
  if (typeof x === "string" && typeof y === "string") return compareStrings(op, x, y);
  if (typeof x === "number" && typeof y === "number" && typeof a === "number" && typeof b === "number") return compareNumbers(op, x, y);
  throw UNSURE;
}

function single(v: Value): string | number | boolean {
  if (!Array.isArray(v)) return v;
  if (v.length > 1) throw UNSURE;
  return stringValue(v[0]);
}
