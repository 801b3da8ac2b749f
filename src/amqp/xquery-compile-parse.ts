import { lex, Token } from "./xquery-compile-lex";

/**
 * The parser of the XQuery subset (see xquery-compile.ts): a prolog of namespace, default element
 * namespace and external variable declarations, then `let … return`, `or`, `and`, one comparison,
 * paths with predicates, literals, variables and a fixed set of functions. Names are resolved
 * here (prefixes to URIs, variables to slots), so the evaluator never looks anything up by name.
 * Whatever is outside the subset throws NotCompiled; the caller keeps fontoxpath for that query.
 */
export class NotCompiled extends Error {}

export type Axis = "child" | "descendant" | "descendant-or-self" | "self" | "attribute" | "parent";
/** `ns`/`local` null: any. */
export type NodeTest = { k: "name"; ns: string | null; local: string | null } | { k: "text" } | { k: "node" };
export interface Step {
  axis: Axis;
  test: NodeTest;
  preds: Expr[];
}
export type CompOp = "=" | "!=" | "<" | "<=" | ">" | ">=";
export type Expr =
  | { k: "str"; v: string }
  | { k: "num"; v: number }
  | { k: "empty" }
  | { k: "var"; slot: number }
  | { k: "ctx" }
  | { k: "root" }
  | { k: "path"; start: Expr; steps: Step[] }
  | { k: "filter"; base: Expr; preds: Expr[] }
  | { k: "and" | "or"; a: Expr; b: Expr }
  | { k: "cmp"; general: boolean; op: CompOp; a: Expr; b: Expr }
  | { k: "call"; f: string; args: Expr[] }
  | { k: "let"; slot: number; value: Expr; ret: Expr };

export interface Program {
  body: Expr;
  /** External variable names, by slot (slots after them belong to `let`). */
  externals: string[];
  slots: number;
}

const VALUE_OPS: Record<string, CompOp> = { eq: "=", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=" };
const GENERAL_OPS = new Set(["=", "!=", "<", "<=", ">", ">="]);
const AXES = new Set<string>(["child", "descendant", "descendant-or-self", "self", "attribute", "parent"]);
/** Function name → allowed argument counts. */
export const FUNCTIONS: Record<string, number[]> = {
  exists: [1],
  empty: [1],
  not: [1],
  boolean: [1],
  true: [0],
  false: [0],
  count: [1],
  contains: [2],
  "starts-with": [2],
  "ends-with": [2],
  string: [0, 1],
  number: [0, 1],
  "normalize-space": [0, 1],
  position: [0],
  last: [0],
};
const DOS: Step = { axis: "descendant-or-self", test: { k: "node" }, preds: [] };

export function parseQuery(src: string): Program {
  const tokens = lex(src);
  if (!tokens) throw new NotCompiled("lexer");
  return new Parser(tokens).program();
}

class Parser {
  private i = 0;
  private readonly ns = new Map<string, string>();
  private defaultNs = "";
  private readonly externals: string[] = [];
  /** Variables in scope, innermost last. */
  private readonly scope: Array<{ name: string; slot: number }> = [];
  private slots = 0;

  constructor(private readonly toks: Token[]) {}

  program(): Program {
    this.prolog();
    const body = this.exprSingle();
    this.expect("eof");
    return { body, externals: this.externals, slots: this.slots };
  }

  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)];
  }
  private isSym(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t.t === "sym" && t.v === v;
  }
  private isName(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t.t === "name" && t.v === v;
  }
  private expect(t: Token["t"], v?: string): Token {
    const tok = this.peek();
    if (tok.t !== t || (v !== undefined && (tok as { v?: unknown }).v !== v)) throw new NotCompiled(`expected ${v ?? t}`);
    this.i++;
    return tok;
  }
  private str(): string {
    return (this.expect("str") as { v: string }).v;
  }

  private prolog(): void {
    const seenNs = new Set<string>();
    let seenDefault = false;
    while (this.isName("declare")) {
      this.i++;
      if (this.isName("namespace") || this.isName("default")) {
        // XQuery wants namespace declarations before variable declarations (XPST0003 otherwise).
        if (this.externals.length) throw new NotCompiled("prolog order");
      }
      if (this.isName("namespace")) {
        this.i++;
        const prefix = (this.expect("name") as { v: string }).v;
        this.expect("sym", "=");
        const uri = this.str();
        // Redeclaring a prefix, `xml`/`xmlns`, or binding to "" are errors or special cases: fontoxpath's.
        if (prefix.includes(":") || prefix === "*" || seenNs.has(prefix) || /^xml/.test(prefix) || uri === "") throw new NotCompiled("namespace");
        seenNs.add(prefix);
        this.ns.set(prefix, uri);
      } else if (this.isName("default") && this.isName("element", 1) && this.isName("namespace", 2)) {
        this.i += 3;
        if (seenDefault) throw new NotCompiled("default twice");
        seenDefault = true;
        this.defaultNs = this.str();
      } else if (this.isName("variable")) {
        this.i++;
        const name = (this.expect("var") as { v: string }).v;
        this.expect("name", "external");
        if (this.externals.includes(name)) throw new NotCompiled("variable twice");
        this.externals.push(name);
        this.scope.push({ name, slot: this.slots++ });
      } else throw new NotCompiled("declaration");
      this.expect("sym", ";");
    }
  }

  private exprSingle(): Expr {
    if (this.isName("let") && this.peek(1).t === "var") return this.flwor();
    return this.or();
  }

  /** `let $a := x, $b := y let $c := z return e`, as nested single bindings. */
  private flwor(): Expr {
    const bound: Array<{ slot: number; value: Expr }> = [];
    const depth = this.scope.length;
    while (this.isName("let") && this.peek(1).t === "var") {
      this.i++;
      for (;;) {
        const name = (this.expect("var") as { v: string }).v;
        this.expect("sym", ":=");
        const value = this.exprSingle();
        const slot = this.slots++;
        this.scope.push({ name, slot });
        bound.push({ slot, value });
        if (!this.isSym(",")) break;
        this.i++;
      }
    }
    this.expect("name", "return");
    let body = this.exprSingle();
    this.scope.length = depth;
    for (let j = bound.length - 1; j >= 0; j--) body = { k: "let", slot: bound[j].slot, value: bound[j].value, ret: body };
    return body;
  }

  private or(): Expr {
    let a = this.and();
    while (this.isName("or")) {
      this.i++;
      a = { k: "or", a, b: this.and() };
    }
    return a;
  }

  private and(): Expr {
    let a = this.comparison();
    while (this.isName("and")) {
      this.i++;
      a = { k: "and", a, b: this.comparison() };
    }
    return a;
  }

  private comparison(): Expr {
    const a = this.path();
    const t = this.peek();
    let general: boolean;
    let op: CompOp;
    if (t.t === "sym" && GENERAL_OPS.has(t.v)) [general, op] = [true, t.v as CompOp];
    else if (t.t === "name" && VALUE_OPS[t.v]) [general, op] = [false, VALUE_OPS[t.v]];
    else return a;
    this.i++;
    return { k: "cmp", general, op, a, b: this.path() };
  }

  private path(): Expr {
    if (this.isSym("/")) {
      this.i++;
      if (!this.startsStep()) return { k: "root" };
      return { k: "path", start: { k: "root" }, steps: this.relative([]) };
    }
    if (this.isSym("//")) {
      this.i++;
      return { k: "path", start: { k: "root" }, steps: this.relative([DOS]) };
    }
    if (this.startsStep()) return { k: "path", start: { k: "ctx" }, steps: this.relative([]) };
    const primary = this.postfix();
    if (!this.isSym("/") && !this.isSym("//")) return primary;
    return { k: "path", start: primary, steps: this.relative([], true) };
  }

  /** Steps joined by `/` and `//`; `afterPrimary`: the first separator is still to come. */
  private relative(steps: Step[], afterPrimary = false): Step[] {
    if (!afterPrimary) steps.push(this.step());
    for (;;) {
      if (this.isSym("/")) this.i++;
      else if (this.isSym("//")) {
        this.i++;
        steps.push(DOS);
      } else return steps;
      if (!this.startsStep()) throw new NotCompiled("step expected");
      steps.push(this.step());
    }
  }

  /** An axis step starts here (not a primary expression such as a literal or a function call). */
  private startsStep(): boolean {
    const t = this.peek();
    if (t.t === "sym") return t.v === "@" || t.v === "..";
    if (t.t !== "name") return false;
    if (this.isSym("::", 1)) return true;
    if (this.isSym("(", 1)) return t.v === "text" || t.v === "node";
    return true;
  }

  private step(): Step {
    let axis: Axis = "child";
    if (this.isSym("..")) {
      this.i++;
      return { axis: "parent", test: { k: "node" }, preds: this.predicates() };
    }
    if (this.isSym("@")) {
      this.i++;
      axis = "attribute";
    } else if (this.isSym("::", 1)) {
      const name = (this.expect("name") as { v: string }).v;
      if (!AXES.has(name)) throw new NotCompiled(`axis ${name}`);
      axis = name as Axis;
      this.i++;
    }
    return { axis, test: this.nodeTest(axis), preds: this.predicates() };
  }

  private nodeTest(axis: Axis): NodeTest {
    const name = (this.expect("name") as { v: string }).v;
    if ((name === "text" || name === "node") && this.isSym("(")) {
      this.i++;
      this.expect("sym", ")");
      return { k: name };
    }
    if (this.isSym("(")) throw new NotCompiled(`kind test ${name}`);
    if (name === "*") return { k: "name", ns: null, local: null };
    const colon = name.indexOf(":");
    if (colon < 0) return { k: "name", ns: axis === "attribute" ? "" : this.defaultNs, local: name };
    const prefix = name.slice(0, colon);
    const local = name.slice(colon + 1);
    return { k: "name", ns: prefix === "*" ? null : this.uri(prefix), local: local === "*" ? null : local };
  }

  private uri(prefix: string): string {
    const u = this.ns.get(prefix);
    if (u === undefined) throw new NotCompiled(`prefix ${prefix}`);
    return u;
  }

  private predicates(): Expr[] {
    const preds: Expr[] = [];
    while (this.isSym("[")) {
      this.i++;
      preds.push(this.exprSingle());
      this.expect("sym", "]");
    }
    return preds;
  }

  private postfix(): Expr {
    const base = this.primary();
    const preds = this.predicates();
    return preds.length ? { k: "filter", base, preds } : base;
  }

  private primary(): Expr {
    const t = this.peek();
    this.i++;
    if (t.t === "str") return { k: "str", v: t.v };
    if (t.t === "num") return { k: "num", v: t.v };
    if (t.t === "var") {
      for (let j = this.scope.length - 1; j >= 0; j--) if (this.scope[j].name === t.v) return { k: "var", slot: this.scope[j].slot };
      throw new NotCompiled(`variable $${t.v} not declared`);
    }
    if (t.t === "sym" && t.v === ".") return { k: "ctx" };
    if (t.t === "sym" && t.v === "(") {
      if (this.isSym(")")) {
        this.i++;
        return { k: "empty" };
      }
      const e = this.exprSingle();
      this.expect("sym", ")");
      return e;
    }
    if (t.t === "name" && this.isSym("(")) return this.call(t.v);
    throw new NotCompiled("primary expression expected");
  }

  private call(name: string): Expr {
    // The default function namespace is fn; `fn:` is only ours while the prolog leaves it alone.
    const f = name.startsWith("fn:") && !this.ns.has("fn") ? name.slice(3) : name;
    this.expect("sym", "(");
    const args: Expr[] = [];
    if (!this.isSym(")")) {
      for (;;) {
        args.push(this.exprSingle());
        if (!this.isSym(",")) break;
        this.i++;
      }
    }
    this.expect("sym", ")");
    if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, f) || !FUNCTIONS[f].includes(args.length)) throw new NotCompiled(`function ${name}#${args.length}`);
    return { k: "call", f, args };
  }
}
