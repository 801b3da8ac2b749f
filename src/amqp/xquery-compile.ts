import { XDoc } from "./xml-tree";
import { compile, ebv, UNSURE, Value } from "./xquery-compile-eval";
import { NotCompiled, parseQuery } from "./xquery-compile-parse";

/**
 * A subscriber's XQuery compiled for the DOM-free tree (xml-tree.ts), so a filtered event costs
 * about what an unfiltered one does instead of a DOM plus fontoxpath.
 *
 * The subset: a prolog of `declare namespace p = "…";`, `declare default element namespace "…";`
 * and `declare variable $x external;`; `let … return`; `or`, `and`; one comparison (`=` `!=` `<`
 * `<=` `>` `>=`, `eq` `ne` `lt` `le` `gt` `ge`); absolute and relative paths over the child,
 * descendant, descendant-or-self, self, attribute and parent axes (`//`, `@`, `..`) with name
 * tests (`p:n`, `*`, `p:*`, `*:n`), `text()` and `node()`, and predicates (positional when the
 * value is a number); string and number literals; `.`, `()`, variables; and the functions
 * exists, empty, not, boolean, true, false, count, contains, starts-with, ends-with, string,
 * number, normalize-space. Unprefixed element names are in the declared default namespace or in
 * none, as fontoxpath is told to read them (see XQUERY in xquery-filter.ts).
 *
 * Two ways back to fontoxpath, both transparent: a query outside the subset is not compiled
 * (`compileXQuery` returns undefined), and an evaluation that meets a case where fontoxpath's
 * answer is not certainly ours, or where fontoxpath raises an error, returns undefined for that
 * event (xquery-compile-eval.ts lists the cases). Agreement is tested against fontoxpath on
 * generated events and queries (test/unit/amqp/xquery-compile-property.test.ts).
 */
export interface CompiledQuery {
  /** The effective boolean value of the query on the event, or undefined: ask fontoxpath. */
  evaluate(doc: XDoc, variables: Record<string, unknown>): boolean | undefined;
}

export function compileXQuery(query: string): CompiledQuery | undefined {
  let program;
  try {
    program = parseQuery(query);
  } catch (e) {
    if (e instanceof NotCompiled) return undefined;
    throw e;
  }
  const { externals, slots } = program;
  const body = compile(program.body);
  return {
    evaluate(doc, variables) {
      const vars: Value[] = new Array<Value>(slots);
      for (let j = 0; j < externals.length; j++) {
        // A missing variable is fontoxpath's error to report.
        const v = Object.prototype.hasOwnProperty.call(variables, externals[j]) ? variables[externals[j]] : undefined;
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return undefined;
        vars[j] = v;
      }
      try {
        return ebv(body({ item: doc, pos: 1, size: 1, vars, root: doc }));
      } catch (e) {
        if (e === UNSURE) return undefined;
        throw e;
      }
    },
  };
}
