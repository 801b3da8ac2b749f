import { InfraError, ProtocolError } from "../../core/errors";
import { decodeTerm, encodeTerm } from "../term";
import { Atom, Term, Tuple } from "../term/types";
import { ERR_NAMES, ERROR_BIT } from "./constants";

/**
 * The MAAPI payload forms (docs/nso-maapi.md), inside the same
 * `<<Len:32, Payload>>` framing as the event socket. Requests carry an op code (and a
 * thandle for transaction ops) in front of an optional ETF argument; replies are an op echo,
 * an error with bit 31 set, or a bare term (first byte 131) with no prefix at all.
 */

/** `<<Op:32>>`, `<<Op:32, Th:32>>`, either followed by `term_to_binary(Arg)`. */
export function encodeRequest(op: number, th?: number, arg?: Term): Buffer {
  const head = Buffer.alloc(th === undefined ? 4 : 8);
  head.writeUInt32BE(op >>> 0, 0);
  // Thandles are 32-bit on the wire; -1 (seen in P07-badth) is 0xffffffff.
  if (th !== undefined) head.writeUInt32BE(th >>> 0, 4);
  // ATOM_EXT atoms, as econfd writes them (the golden client frames use 100).
  return arg === undefined ? head : Buffer.concat([head, encodeTerm(arg)]);
}

/** DIFF_ITER takes raw integers, not a term (§8 pitfall 1). */
export function encodeDiffIter(th: number, mode: number, flags: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(183, 0);
  b.writeUInt32BE(th >>> 0, 4);
  b.writeUInt32BE(mode >>> 0, 8);
  b.writeUInt32BE(flags >>> 0, 12);
  return b;
}

/** An iterator reply: a bare 4-byte integer (1 stop, 2 recurse, 3 continue). */
export function encodeIterReply(r: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(r, 0);
  return b;
}

export type MaapiReply = { kind: "ok"; op: number; result?: Term } | { kind: "error"; op: number; ecode: number; text: string } | { kind: "term"; term: Term };

/** Reads one reply payload. Throws ProtocolError on bytes that are none of the three forms. */
export function parseReply(p: Buffer, maxSize?: number): MaapiReply {
  if (p.length === 0) throw new ProtocolError("maapi-empty-reply", "empty MAAPI reply frame");
  if (p[0] === 131) return { kind: "term", term: decodeTerm(p, { maxSize }) };
  if (p.length < 4) throw new ProtocolError("maapi-short-reply", `MAAPI reply of ${p.length} bytes is neither a term nor an op echo`);
  const word = p.readUInt32BE(0);
  if ((word & ERROR_BIT) !== 0) {
    const op = word & 0x7fffffff;
    if (p.length < 8) return { kind: "error", op, ecode: 0, text: "" };
    const ecode = p.readUInt32BE(4);
    return { kind: "error", op, ecode, text: p.length > 8 ? errorText(decodeTerm(p.subarray(8), { maxSize })) : "" };
  }
  return p.length === 4 ? { kind: "ok", op: word } : { kind: "ok", op: word, result: decodeTerm(p.subarray(4), { maxSize }) };
}

/** Error text: a binary whose last byte is NUL (strip it), or `{Bin, AppTag}` (§2.2). */
function errorText(t: Term): string {
  const bin = t instanceof Tuple && t.elements.length >= 1 ? t.elements[0] : t;
  if (Buffer.isBuffer(bin)) {
    const end = bin.length > 0 && bin[bin.length - 1] === 0 ? bin.length - 1 : bin.length;
    return bin.toString("utf8", 0, end);
  }
  if (bin instanceof Atom) return bin.name;
  return "";
}

/** An error reply from NSO (not bad bytes): carries the CONFD_ERR code a flow can branch on. */
export class MaapiError extends InfraError {
  constructor(
    readonly op: number,
    readonly ecode: number,
    readonly text: string,
  ) {
    super("maapi-error", `MAAPI op ${op} failed: ${ERR_NAMES[ecode] ?? `error ${ecode}`}${text ? ` "${text}"` : ""}`, { op, ecode, text });
    this.name = "MaapiError";
  }
}
