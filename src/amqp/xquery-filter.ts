import { evaluateXPath, evaluateXPathToBoolean } from "fontoxpath";
import { Document, Element, parseXmlDocument } from "slimdom";
import { InfraError, ProtocolError } from "../core/errors";
import { CLACKS_NS } from "./xml-event";
import { DEFAULT_MAX_EVENT_DEPTH, DEFAULT_MAX_XQUERY_ELEMENTS } from "./xml-limits";
import { XDoc } from "./xml-tree";
import { CompiledQuery, compileXQuery } from "./xquery-compile";

/**
 * fontoxpath, left to itself, takes the default element namespace from the context node, so
 * `/Event/PhoneStatus` would match `<Event xmlns="http://www.gonicus.de/Events">`. In XQuery (and
 * in Qpid's XML exchange, which Clacks queries were written for) an unprefixed element name has
 * no namespace unless the query declares a default. The resolver says so: it binds nothing, so
 * the empty prefix is "no namespace" and a prefix the query did not declare stays unbound
 * (XPST0081); the prolog's declarations and the predeclared prefixes (xs, fn, map, array, math,
 * local, xml) are resolved before it is asked.
 */
const XQUERY = {
  language: evaluateXPath.XQUERY_3_1_LANGUAGE,
  namespaceResolver: (): string | null => null,
};

export type FilterVariables = Record<string, unknown>;

/**
 * What one evaluation may cost is bounded by the document it runs on: fontoxpath's descendant
 * steps grow with the cube of the depth and, for `//a//b`, with the square of the element count
 * (measured: 112 KB nested 16,000 deep, 153 s; 30,000 siblings, 150 s; at these defaults the
 * worst query we found, `//a//a` on 60-deep chains, takes ~2 s and the seed's query ~1 ms).
 */
export interface XQueryLimits {
  /** Deepest element nesting, the root element being level 1 (default 64). */
  maxDepth?: number;
  /** Most elements in the document (default 2000). */
  maxElements?: number;
}

export interface FilterResult {
  match: boolean;
  /** Set when evaluation failed: Qpid's XML exchange counted that as "not routed", and so do we. */
  error?: Error;
}

/**
 * A subscriber's XQuery, with the Qpid XML exchange's semantics: the context item is the
 * document node, application properties are external variables, and the message matches when
 * the result's effective boolean value is true. Evaluation errors are a non-match.
 *
 * fontoxpath caches compiled expressions by query text, so "compile once" means: keep the text
 * constant and evaluate it once up front. That warm-up also surfaces syntax errors (and unbound
 * prefixes) at deploy time instead of as silent non-matches at run time.
 *
 * Queries in the subset xquery-compile.ts describes are also compiled for the DOM-free tree:
 * `evaluateTree` answers for them, or says "ask fontoxpath" (undefined) for the rare event where
 * the compiled answer is not certainly fontoxpath's.
 *
 * A document beyond the limits is never evaluated: `evaluate` and `evaluateTree` throw a
 * ProtocolError (`xml-too-deep`, `xml-too-many-elements`), a drop rather than a non-match.
 * EventDecoder checks the same limits on the text already, before a DOM or tree is built.
 */
export class XQueryFilter {
  readonly query: string;
  readonly maxDepth: number;
  readonly maxElements: number;
  /** The query compiled for the DOM-free tree, or undefined when it is outside the subset. */
  readonly compiled: CompiledQuery | undefined;

  constructor(query: string, namespace: string = CLACKS_NS, limits: XQueryLimits = {}) {
    this.query = query;
    this.maxDepth = limits.maxDepth ?? DEFAULT_MAX_EVENT_DEPTH;
    this.maxElements = limits.maxElements ?? DEFAULT_MAX_XQUERY_ELEMENTS;
    const probe = parseXmlDocument(`<Event xmlns="${escapeAttr(namespace)}"><ClientPoll/></Event>`);
    try {
      evaluateXPathToBoolean(query, probe, null, {}, XQUERY);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      // Dynamic and type errors from the probe depend on the event (or on a variable that a
      // message's application properties will supply: XPST0008); anything else (syntax errors,
      // unbound prefixes, unknown functions) means the query can never match.
      if (!/\b(XPDY|XQDY|FO[A-Z]{2}|XPTY)\d{4}|XPST0008/.test(msg)) {
        throw new InfraError("xquery-invalid", `XQuery does not compile: ${msg.split("\n")[0]}`);
      }
    }
    this.compiled = compileXQuery(query);
  }

  /** The compiled query's answer on a DOM-free tree, or undefined: evaluate the DOM with `evaluate`. */
  evaluateTree(doc: XDoc, variables: FilterVariables = {}): FilterResult | undefined {
    if (doc.elements > this.maxElements) throw tooManyElements(this.maxElements);
    if (doc.depth > this.maxDepth) throw tooDeep(this.maxDepth);
    const match = this.compiled?.evaluate(doc, variables);
    return match === undefined ? undefined : { match };
  }

  evaluate(doc: Document, variables: FilterVariables = {}): FilterResult {
    checkShape(doc, this.maxDepth, this.maxElements);
    try {
      return { match: evaluateXPathToBoolean(this.query, doc, null, variables, XQUERY) };
    } catch (e) {
      return { match: false, error: e instanceof Error ? e : new Error(String(e)) };
    }
  }
}

/**
 * Application properties as XQuery variables: only names that are valid variable names, and
 * only atomic values (fontoxpath would reject objects, and a hostile property must not stop
 * the evaluation of a well-formed query).
 */
export function propertiesAsVariables(props: Record<string, unknown> | undefined): FilterVariables {
  const out: FilterVariables = {};
  if (!props) return out;
  for (const [k, v] of Object.entries(props)) {
    if (!/^[A-Za-z_][\w.-]*$/.test(k)) continue;
    if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) out[k] = v;
  }
  return out;
}

/** Walks the elements without recursion (the document may be hostile) and stops at the first excess. */
function checkShape(doc: Document, maxDepth: number, maxElements: number): void {
  let el: Element | null = doc.documentElement;
  let depth = 1;
  let count = 0;
  while (el) {
    if (++count > maxElements) throw tooManyElements(maxElements);
    if (depth > maxDepth) throw tooDeep(maxDepth);
    const child: Element | null = el.firstElementChild;
    if (child) {
      el = child;
      depth++;
      continue;
    }
    while (el && !el.nextElementSibling) {
      el = el.parentElement;
      depth--;
    }
    el = el ? el.nextElementSibling : null;
  }
}

const tooManyElements = (limit: number): ProtocolError =>
  new ProtocolError("xml-too-many-elements", `XML event has more than ${limit} elements (the limit for XQuery filtering)`, { limit });
const tooDeep = (limit: number): ProtocolError => new ProtocolError("xml-too-deep", `XML event nests deeper than ${limit} levels`, { limit });

function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
