/**
 * The subset of APIC's `query-target-filter` language the simulator understands:
 *   eq ne lt gt le ge (cls.prop, value)   bw(cls.prop, low, high)   wcard(cls.prop, "regex")
 *   and(f, f, ...)  or(f, f, ...)  not(f)
 * Values are "quoted" or bare. Comparisons are numeric when both sides are numbers.
 * A property is `<class>.<attr>`; an MO of another class never matches a condition on it
 * (the way APIC scopes filters to the named class).
 */
export type Filter = (cls: string, attrs: Record<string, string>) => boolean;

export class FilterError extends Error {}

type Node = { fn: string; args: Array<Node | string> } | string;

function parse(src: string): Node {
  let i = 0;
  const ws = (): void => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const atom = (): Node => {
    ws();
    if (src[i] === '"') {
      let out = "";
      i++;
      while (i < src.length && src[i] !== '"') out += src[i++];
      if (src[i] !== '"') throw new FilterError("unterminated string in filter");
      i++;
      return out;
    }
    const start = i;
    while (i < src.length && !/[(),\s]/.test(src[i])) i++;
    const word = src.slice(start, i);
    ws();
    if (src[i] === "(") {
      i++;
      const args: Array<Node | string> = [];
      ws();
      if (src[i] !== ")") {
        for (;;) {
          args.push(atom());
          ws();
          if (src[i] === ",") {
            i++;
            continue;
          }
          if (src[i] === ")") break;
          throw new FilterError(`expected , or ) at ${i} in filter`);
        }
      }
      i++;
      if (!word) throw new FilterError("missing function name in filter");
      return { fn: word, args };
    }
    if (!word) throw new FilterError(`unexpected character at ${i} in filter`);
    return word;
  };
  const n = atom();
  ws();
  if (i !== src.length) throw new FilterError(`trailing text at ${i} in filter`);
  return n;
}

function compile(n: Node): Filter {
  if (typeof n === "string") throw new FilterError(`"${n}" is not a condition`);
  const args = n.args;
  const str = (k: number): string => {
    const a = args[k];
    if (typeof a !== "string") throw new FilterError(`${n.fn}: argument ${k + 1} must be a value`);
    return a;
  };
  const prop = (): { cls: string; attr: string } => {
    const p = str(0);
    const dot = p.indexOf(".");
    if (dot <= 0) throw new FilterError(`${n.fn}: "${p}" is not <class>.<property>`);
    return { cls: p.slice(0, dot), attr: p.slice(dot + 1) };
  };
  const cmp = (a: string, b: string): number => {
    const x = Number(a);
    const y = Number(b);
    if (a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  switch (n.fn) {
    case "and":
    case "or": {
      const parts = args.map((a) => compile(a));
      return n.fn === "and" ? (c, at) => parts.every((f) => f(c, at)) : (c, at) => parts.some((f) => f(c, at));
    }
    case "not": {
      if (args.length !== 1) throw new FilterError("not() takes one condition");
      const f = compile(args[0]);
      return (c, at) => !f(c, at);
    }
    case "eq":
    case "ne":
    case "lt":
    case "gt":
    case "le":
    case "ge": {
      if (args.length !== 2) throw new FilterError(`${n.fn}() takes a property and a value`);
      const p = prop();
      const v = str(1);
      const test = {
        eq: (d: number) => d === 0,
        ne: (d: number) => d !== 0,
        lt: (d: number) => d < 0,
        gt: (d: number) => d > 0,
        le: (d: number) => d <= 0,
        ge: (d: number) => d >= 0,
      }[n.fn];
      return (c, at) => c === p.cls && test(cmp(at[p.attr] ?? "", v));
    }
    case "bw": {
      if (args.length !== 3) throw new FilterError("bw() takes a property, a low and a high value");
      const p = prop();
      const lo = str(1);
      const hi = str(2);
      return (c, at) => c === p.cls && cmp(at[p.attr] ?? "", lo) >= 0 && cmp(at[p.attr] ?? "", hi) <= 0;
    }
    case "wcard": {
      if (args.length !== 2) throw new FilterError("wcard() takes a property and a pattern");
      const p = prop();
      let re: RegExp;
      try {
        re = new RegExp(str(1));
      } catch {
        throw new FilterError(`wcard(): bad pattern ${str(1)}`);
      }
      return (c, at) => c === p.cls && re.test(at[p.attr] ?? "");
    }
    default:
      throw new FilterError(`unknown filter function ${n.fn}()`);
  }
}

export function parseFilter(src: string): Filter {
  if (src.length > 4096) throw new FilterError("filter longer than 4096 characters");
  return compile(parse(src));
}
