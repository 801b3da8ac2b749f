/**
 * How Erlang terms look in TypeScript. Chosen so a decoded NSO frame can be pattern-matched
 * cheaply and re-encoded to the same term:
 *
 * | Erlang                         | TypeScript                                   |
 * |--------------------------------|----------------------------------------------|
 * | integer (fits 2^53)            | number (always an integer)                   |
 * | integer (bignum beyond 2^53)   | bigint                                       |
 * | float                          | ErlFloat (so 1.0 stays a float on re-encode) |
 * | atom                           | Atom (interned up to a bound: compare names) |
 * | binary                         | Buffer                                       |
 * | charlist (STRING_EXT)          | string (latin-1, one char per byte)          |
 * | proper list, [] (NIL)          | Term[]                                       |
 * | improper list [A, B | T]       | ImproperList                                 |
 * | tuple                          | Tuple                                        |
 * | map                            | ErlMap                                       |
 */
export type Term = number | bigint | ErlFloat | Atom | Buffer | string | Term[] | ImproperList | Tuple | ErlMap;

export class Atom {
  private static readonly table = new Map<string, Atom>();
  // A peer can send endless distinct atoms: past this many, new ones are not remembered and
  // are compared by name (as isAtom does), so memory stays bounded.
  private static readonly MAX_INTERNED = 65536;
  private constructor(readonly name: string) {}

  /** The one Atom object for `name`. */
  static of(name: string): Atom {
    let a = Atom.table.get(name);
    if (!a) {
      a = new Atom(name);
      if (Atom.table.size < Atom.MAX_INTERNED) Atom.table.set(name, a);
    }
    return a;
  }

  toString(): string {
    return this.name;
  }
}

export const atom = (name: string): Atom => Atom.of(name);

export class Tuple {
  constructor(readonly elements: Term[]) {}
  get arity(): number {
    return this.elements.length;
  }
  get(i: number): Term {
    return this.elements[i];
  }
}

export const tuple = (...elements: Term[]): Tuple => new Tuple(elements);

export class ImproperList {
  /** `elements` is never empty: [ | T] is not a list. */
  constructor(
    readonly elements: Term[],
    readonly tail: Term,
  ) {}
}

export class ErlFloat {
  constructor(readonly value: number) {}
}

export class ErlMap {
  constructor(readonly entries: Array<[Term, Term]>) {}
}

export function isAtom(t: Term, name?: string): t is Atom {
  return t instanceof Atom && (name === undefined || t.name === name);
}

export function isTuple(t: Term, arity?: number): t is Tuple {
  return t instanceof Tuple && (arity === undefined || t.elements.length === arity);
}

export function isInteger(t: Term): t is number | bigint {
  return typeof t === "number" || typeof t === "bigint";
}
