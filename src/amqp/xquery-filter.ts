import { evaluateXPath, evaluateXPathToBoolean } from "fontoxpath";
import { Document, parseXmlDocument } from "slimdom";
import { InfraError } from "../core/errors";
import { CLACKS_NS } from "./xml-event";

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
 */
export class XQueryFilter {
  readonly query: string;

  constructor(query: string, namespace: string = CLACKS_NS) {
    this.query = query;
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
  }

  evaluate(doc: Document, variables: FilterVariables = {}): FilterResult {
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

function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
