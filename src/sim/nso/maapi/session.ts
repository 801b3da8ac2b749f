import type * as net from "node:net";
import { encodeFrame } from "../../../nso/framing";
import { decodeTerm, encodeTerm } from "../../../nso/term";
import { Atom, atom, ImproperList, isAtom, Term, Tuple, tuple } from "../../../nso/term/types";
import { prefixOf } from "../../../nso/maapi/keypath";
import type { BlockedCommitStore } from "./commit-store";
import { isUnder, itemTerm, SimDiffItem } from "./diff-spec";
import type { SimHashTable } from "./schema";
import { SIM_SCHEMA_ITEMS } from "./yang-schema";

/**
 * One MAAPI client socket after its handshake, answering the subset of
 * MAAPI (docs/nso-maapi.md) the way NSO 6.2.5 did on the wire (test/fixtures/nso/nso-maapi-frames.txt, P01-P22):
 * attach only while the commit is blocked, lock-step diff iteration with 1/2/3 replies,
 * `{error, badpath}` once the commit is released mid-iteration, any other 4-byte reply taken
 * as an unknown op that leaves the iteration stuck, XPath labels, the hash DB stream and the
 * schema (LOAD_ALL_NS, name form) for prefixes, list keys and enumeration labels.
 */
export interface SessionOptions {
  store: BlockedCommitStore;
  hashes: SimHashTable;
  /** Delay before each diff item (a slow NSO or a WAN link); 0 = none. */
  itemDelayMs?: number;
  /** Replace the payload of an item frame (hostile tests): return bytes to send instead. */
  mangleItem?: (th: number, index: number, payload: Buffer) => Buffer | undefined;
  onItem?: (th: number) => void;
  onXpath?: (expr: string) => void;
}

const MAAPI_ERR = (op: number, ecode: number, text: string): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((op | 0x80000000) >>> 0, 0);
  head.writeUInt32BE(ecode, 4);
  // Texts end in a NUL on the wire (§2.2).
  return Buffer.concat([head, encodeTerm(Buffer.concat([Buffer.from(text, "utf8"), Buffer.from([0])]))]);
};
const ECHO = (op: number, result?: Term): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(op, 0);
  return result === undefined ? b : Buffer.concat([b, encodeTerm(result)]);
};
const bin = (s: string): Buffer => Buffer.from(s, "utf8");

interface Iteration {
  th: number;
  mode: number;
  items: SimDiffItem[];
  pos: number;
  /** Top-first path whose descendants ITER_CONTINUE skips. */
  skip?: Term[];
  awaitingReply: boolean;
  stuck: boolean;
}

export class MaapiSimSession {
  private readonly attached = new Set<number>();
  private iter: Iteration | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly opts: SessionOptions,
  ) {}

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.iter = undefined;
  }

  /** One framed payload from the client. Throws on bytes NSO would close the socket for. */
  onFrame(p: Buffer): void {
    if (p.length < 4) throw new Error(`MAAPI frame of ${p.length} bytes`);
    const it = this.iter;
    if (p.length === 4 && it && it.awaitingReply) return this.iterReply(it, p.readUInt32BE(0));
    const op = p.readUInt32BE(0);
    switch (op) {
      case 220:
        return this.attach(this.th(p), decodeTerm(p.subarray(8)));
      case 221:
        return this.detach(this.th(p));
      case 183:
        if (p.length !== 16) throw new Error("DIFF_ITER is 16 bytes");
        return this.startIter(p.readUInt32BE(4), p.readUInt32BE(8), undefined);
      case 184: {
        const a = decodeTerm(p.subarray(8));
        if (!(a instanceof Tuple) || a.arity !== 3 || !Array.isArray(a.get(2))) return this.send(MAAPI_ERR(184, 18, ""));
        return this.startIter(this.th(p), Number(a.get(0)), a.get(2) as Term[]);
      }
      case 185:
        this.th(p);
        return this.send(ECHO(185));
      case 247:
        return this.xpath(this.th(p), decodeTerm(p.subarray(8)));
      case 231:
        return this.hashDb();
      case 232:
        return this.allNs(p.length > 4 ? decodeTerm(p.subarray(4)) : undefined);
      default:
        return this.send(MAAPI_ERR(op, 51, "Unknown MAAPI operation"));
    }
  }

  private th(p: Buffer): number {
    if (p.length < 8) throw new Error("transaction op without a thandle");
    return p.readUInt32BE(4);
  }

  private send(payload: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(encodeFrame(payload));
  }

  private attach(th: number, arg: Term): void {
    if (!(arg instanceof Tuple) || arg.arity < 1 || arg.arity > 3) return this.send(MAAPI_ERR(220, 18, ""));
    const [ns, a, b] = arg.elements;
    if (typeof ns !== "number") return this.send(MAAPI_ERR(220, 18, ""));
    // {Ns, useikp} / {Ns, Usid} / {Ns, Usid, useikp}; any other atom is an internal error (P07-forms).
    let usid: number | undefined;
    if (arg.arity >= 2) {
      if (typeof a === "number") usid = a;
      else if (!(isAtom(a, "useikp") && arg.arity === 2)) return this.send(MAAPI_ERR(220, 18, ""));
    }
    if (arg.arity === 3 && !isAtom(b, "useikp")) return this.send(MAAPI_ERR(220, 18, ""));
    if (ns !== 0 && !this.isNamespaceHash(ns)) return this.send(MAAPI_ERR(220, 1, "No such namespace"));
    if (usid !== undefined && !this.opts.store.sessionAlive(usid)) return this.send(MAAPI_ERR(220, 1, `User sess ${usid} doesn't exist`));
    if (!this.opts.store.get(th)) return this.send(MAAPI_ERR(220, 61, "No such transaction"));
    this.attached.add(th);
    this.send(ECHO(220));
  }

  private detach(th: number): void {
    const ok = this.attached.delete(th) && this.opts.store.get(th) !== undefined;
    this.send(ok ? ECHO(221) : MAAPI_ERR(221, 61, "No such transaction"));
  }

  private startIter(th: number, mode: number, subtree: Term[] | undefined): void {
    if (this.iter) return this.send(encodeTerm(tuple(atom("badstate"), bin("Can't do diff_iterate while iterating"))));
    if (!this.attached.has(th)) return this.send(encodeTerm(tuple(atom("error"), bin("Not attached to trans"))));
    const c = this.opts.store.get(th);
    if (!c) {
      // The commit ended under an attachment: one badpath, then the attachment is gone (P07).
      this.attached.delete(th);
      return this.send(encodeTerm(tuple(atom("error"), bin("badpath"))));
    }
    const items = subtree ? c.items.filter((i) => isUnder(i.topFirst, subtree)) : c.items;
    this.iter = { th, mode, items, pos: 0, awaitingReply: false, stuck: false };
    this.next(this.iter);
  }

  private iterReply(it: Iteration, r: number): void {
    it.awaitingReply = false;
    if (r === 1) {
      // ITER_STOP: nothing more is sent, not even {return} (§4.2).
      this.iter = undefined;
      return;
    }
    if (r === 2 || r === 3) {
      it.skip = r === 3 ? it.items[it.pos - 1]?.topFirst : undefined;
      return this.next(it);
    }
    // Anything else is read as a new op (P08-up) and the iteration stays stuck.
    it.stuck = true;
    this.send(MAAPI_ERR(r, 51, "Unknown MAAPI operation"));
  }

  private next(it: Iteration): void {
    const go = (): void => {
      this.timer = undefined;
      if (this.iter !== it || this.closed) return;
      if (!this.opts.store.get(it.th)) {
        // Released while we iterate (acked elsewhere, or the event-reply-timeout): §6.3.
        this.iter = undefined;
        this.attached.delete(it.th);
        return this.send(encodeTerm(tuple(atom("error"), bin("badpath"))));
      }
      while (it.pos < it.items.length && it.skip && isUnder(it.items[it.pos].topFirst, it.skip) && it.items[it.pos].topFirst.length > it.skip.length) it.pos++;
      if (it.pos >= it.items.length) {
        this.iter = undefined;
        return this.send(encodeTerm(tuple(atom("return"))));
      }
      const item = it.items[it.pos++];
      let payload = encodeTerm(it.mode === 0 ? this.hashItem(item) : itemTerm(item));
      payload = this.opts.mangleItem?.(it.th, this.sent, payload) ?? payload;
      this.sent++;
      this.opts.onItem?.(it.th);
      it.awaitingReply = true;
      this.send(payload);
    };
    const d = this.opts.itemDelayMs ?? 0;
    if (d > 0) this.timer = setTimeout(go, d);
    else go();
  }

  /** Mode 0: the same item with hashes in place of names (§4.3). */
  private hashItem(item: SimDiffItem): Term {
    const h = this.opts.hashes;
    const path = item.topFirst.map((e) => {
      if (e instanceof Atom) return h.hashOf(e.name);
      if (e instanceof ImproperList) return new ImproperList([h.hashOf((e.elements[0] as Atom).name)], h.hashOf((e.tail as Atom).name));
      return e;
    });
    return tuple(path.reverse(), item.op, atom("undefined"), item.value);
  }

  private xpath(th: number, arg: Term): void {
    if (!(arg instanceof Tuple) || arg.arity !== 6 || !Buffer.isBuffer(arg.get(0)) || !Array.isArray(arg.get(2))) return this.send(MAAPI_ERR(247, 18, ""));
    const c = this.opts.store.get(th);
    if (!c || !this.attached.has(th)) return this.send(MAAPI_ERR(247, 61, "No such transaction"));
    this.send(ECHO(247));
    const expr = (arg.get(0) as Buffer).toString("utf8");
    this.opts.onXpath?.(expr);
    const ctx = arg.get(2) as Term[];
    const item = c.items.find((i) => i.topFirst.length === ctx.length && isUnder(i.topFirst, ctx));
    const last = ctx[ctx.length - 1];
    let tag = last instanceof Atom ? last.name : last instanceof ImproperList ? (last.tail as Atom).name : "";
    let ns = "";
    for (const e of ctx) if (e instanceof ImproperList) ns = (e.elements[0] as Atom).name;
    if (last instanceof Tuple) tag = "";
    let result: string | undefined;
    if (expr === "string(.)") result = item ? item.text : "";
    else if (expr === "local-name(.)") result = tag;
    else if (expr === "namespace-uri(.)") result = ns;
    else if (expr === "name(.)") result = ns ? `${prefixOf(ns)}:${tag}` : tag;
    this.send(encodeTerm(result === undefined ? tuple(atom("error"), bin(`the simulator does not evaluate ${expr}`)) : tuple(atom("ok"), bin(result))));
  }

  private hashDb(): void {
    const entries = this.opts.hashes.entries();
    // Lists of at most 202 items per frame, count first, eof last (§5).
    const all: Term[] = [entries.length, ...entries.map(([n, h]) => tuple(atom(n), h)), atom("eof")];
    for (let i = 0; i < all.length; i += 202) this.send(encodeTerm(all.slice(i, i + 202)));
  }

  /** LOAD_ALL_NS: the name form (`ikp`) only; the simulator has no hash-form index records. */
  private allNs(arg: Term | undefined): void {
    if (arg === undefined || !isAtom(arg, "ikp")) return this.send(MAAPI_ERR(232, 51, "the simulator serves LOAD_ALL_NS in the ikp form only"));
    const all: Term[] = [...SIM_SCHEMA_ITEMS, atom("eof")];
    for (let i = 0; i < all.length; i += 202) this.send(encodeTerm(all.slice(i, i + 202)));
  }

  private isNamespaceHash(h: number): boolean {
    return this.opts.hashes.entries().some(([n, x]) => x === h && n.includes(":"));
  }
}
