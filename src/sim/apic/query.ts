import { Filter, FilterError, parseFilter } from "./filter";
import type { Mo, MoStore } from "./mo-store";
import { parentDn } from "./mo-store";

/**
 * A parsed read query: `/api/[node/]class/<[scope/]class>.json` or `/api/[node/]mo/<dn>.json`
 * with `query-target`, `target-subtree-class`, `query-target-filter`, `rsp-subtree`, `page`,
 * `page-size`.
 * `matches` decides whether a change "changes the results of the query" (notification).
 */
export interface SimQuery {
  kind: "class" | "mo";
  target: string;
  params: Map<string, string>;
  matches(cls: string, dn: string, attrs: Record<string, string>): boolean;
}

export class QueryParseError extends Error {}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new QueryParseError(`bad percent-encoding in "${s.slice(0, 40)}"`);
  }
}

export function parseQueryString(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!raw) return out;
  for (const part of raw.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    out.set(decode(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? "" : decode(part.slice(eq + 1)));
  }
  return out;
}

/** Returns undefined when `path` is not a query path. Throws QueryParseError for bad options. */
export function parseQuery(path: string, rawQuery: string): SimQuery | undefined {
  const m = /^\/api\/(?:node\/)?(class|mo)\/(.+)\.(json|xml)$/.exec(path);
  if (!m) return undefined;
  const kind = m[1] as "class" | "mo";
  const target = decode(m[2]);
  const params = parseQueryString(rawQuery);
  const scope = params.get("query-target") ?? "self";
  if (!["self", "children", "subtree"].includes(scope)) throw new QueryParseError(`query-target must be self, children or subtree, not ${scope}`);
  const rsp = params.get("rsp-subtree") ?? "no";
  if (!["no", "children", "full"].includes(rsp)) throw new QueryParseError(`rsp-subtree must be no, children or full, not ${rsp}`);
  const subtreeClasses = new Set(
    (params.get("target-subtree-class") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  let filter: Filter | undefined;
  const f = params.get("query-target-filter");
  if (f) {
    try {
      filter = parseFilter(f);
    } catch (e) {
      throw new QueryParseError(e instanceof FilterError ? e.message : String(e));
    }
  }
  let matches: SimQuery["matches"];
  if (kind === "class") {
    const slash = target.lastIndexOf("/");
    const cls = target.slice(slash + 1);
    const prefix = slash >= 0 ? `${target.slice(0, slash)}/` : "";
    matches = (c, dn, attrs) => c === cls && (prefix === "" || dn.startsWith(prefix)) && (!filter || filter(c, attrs));
  } else {
    const inScope = (dn: string): boolean => {
      if (scope === "self") return dn === target;
      if (scope === "children") return parentDn(dn) === target;
      return dn === target || dn.startsWith(`${target}/`);
    };
    matches = (c, dn, attrs) => inScope(dn) && (scope === "self" || subtreeClasses.size === 0 || subtreeClasses.has(c)) && (!filter || filter(c, attrs));
  }
  return { kind, target, params, matches };
}

export interface SimObject {
  attributes: Record<string, string>;
  children?: Array<Record<string, SimObject>>;
}

/**
 * The objects a query returns now, `status: ""`, paged when asked. With `rsp-subtree=children`
 * each carries its child objects, with `full` its whole subtree; a child names itself by its
 * `rn` (no `dn`), as APIC's subtree replies do.
 */
export function runQuery(q: SimQuery, store: MoStore): Array<Record<string, SimObject>> {
  const rsp = q.params.get("rsp-subtree") ?? "no";
  const byParent = rsp === "no" ? undefined : childIndex(store);
  const out: Array<Record<string, SimObject>> = [];
  for (const [dn, mo] of store.all()) {
    if (!q.matches(mo.cls, dn, mo.attrs)) continue;
    const obj: SimObject = { attributes: { ...mo.attrs, status: "" } };
    if (byParent) addChildren(obj, dn, byParent, rsp === "full");
    out.push({ [mo.cls]: obj });
  }
  const size = Number(q.params.get("page-size") ?? "");
  if (Number.isInteger(size) && size > 0) {
    const page = Math.max(0, Number(q.params.get("page") ?? "0") || 0);
    return out.slice(page * size, (page + 1) * size);
  }
  return out;
}

function childIndex(store: MoStore): Map<string, Array<[string, Mo]>> {
  const index = new Map<string, Array<[string, Mo]>>();
  for (const [dn, mo] of store.all()) {
    const p = parentDn(dn);
    let list = index.get(p);
    if (!list) index.set(p, (list = []));
    list.push([dn, mo]);
  }
  return index;
}

function addChildren(obj: SimObject, dn: string, index: Map<string, Array<[string, Mo]>>, full: boolean): void {
  const kids = index.get(dn);
  if (!kids || kids.length === 0) return;
  obj.children = kids.map(([childDn, mo]) => {
    const { dn: _dn, ...attrs } = mo.attrs;
    const child: SimObject = { attributes: { ...attrs, rn: childDn.slice(dn.length + 1), status: "" } };
    if (full) addChildren(child, childDn, index, true);
    return { [mo.cls]: child };
  });
}
