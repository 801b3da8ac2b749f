import type * as net from "node:net";
import { asError, InfraError, ProtocolError } from "../../core/errors";
import { DEFAULT_LIB_PROTO_VSN, DEFAULT_LIB_VSN } from "../constants";
import { ByteReader, DEFAULT_MAX_FRAME_SIZE, encodeFrame } from "../framing";
import { AccessCheck, encodeHeader } from "../handshake";
import { ClientHandshake, dialNso, NsoEndpointOptions } from "../client-handshake";
import { Atom, atom, Term, Tuple, tuple } from "../term/types";
import { CLIENT_ID_MAAPI, ITER_STOP, MODE_NAMES, OP } from "./constants";
import { HashDb, HashDbReader } from "./hash-db";
import { YangSchema, YangSchemaReader } from "./yang-schema";
import { encodeDiffIter, encodeIterReply, encodeRequest, MaapiError, MaapiReply, parseReply } from "./wire";

/**
 * One MAAPI socket (client id 7): the same 9-byte handshake and optional IPC access check as
 * the event socket, then lock-step request/reply frames (docs/nso-maapi.md).
 * Lock-step means one operation at a time; MaapiClient serialises callers. An operation that
 * is abandoned half-way (deadline, abort) leaves a reply in flight that the next operation
 * would misread, so abandoning always destroys the socket: a fresh one is cheap (~0.5 ms).
 */
export interface MaapiConnectOptions extends NsoEndpointOptions {
  protoVsn?: number;
  secret?: Buffer;
  /** Dial + handshake must finish within this; default 3000 ms. */
  connectTimeoutMs?: number;
}

/** A frame we could not read: the operation decides whether that is fatal. */
type Incoming = Buffer | ProtocolError;

export class MaapiClosed extends InfraError {
  constructor(message: string) {
    super("maapi-closed", message);
    this.name = "MaapiClosed";
  }
}

/** What an iteration visitor answers for each item: ITER_RECURSE, ITER_CONTINUE or ITER_STOP. */
export type IterVisitor = (item: Term | ProtocolError) => number;

export class MaapiConnection {
  private readonly queue: Incoming[] = [];
  private waiter: { resolve: (f: Incoming) => void; reject: (e: Error) => void } | undefined;
  private closedWith: Error | undefined;
  private busy = false;
  /** Per-connection caches: they are only valid for the NSO (and schema) this socket reached. */
  /** Schema path + raw value -> label; null = XPath refused it (not asked again). */
  readonly labels = new Map<string, string | null>();
  hashDb: Promise<HashDb> | undefined;
  yangSchema: Promise<YangSchema> | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly reader: ByteReader,
  ) {
    socket.on("data", (c: Buffer) => this.onData(c));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new MaapiClosed("NSO closed the MAAPI socket")));
  }

  /** Dials and handshakes; rejects with a clear error on refusal, timeout or abort. */
  static open(opts: MaapiConnectOptions, signal?: AbortSignal): Promise<MaapiConnection> {
    return new Promise((resolve, reject) => {
      let handshake: ClientHandshake;
      try {
        handshake = new ClientHandshake({
          clientId: CLIENT_ID_MAAPI,
          protoVsn: opts.protoVsn ?? DEFAULT_LIB_PROTO_VSN,
          libVsn: opts.libVsn ?? DEFAULT_LIB_VSN,
          accessCheck: opts.accessCheck ?? "none",
          secret: opts.secret,
        });
      } catch (e) {
        reject(asError(e));
        return;
      }
      const reader = new ByteReader(opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
      const socket = dialNso(opts);
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        socket.removeListener("data", onData);
        socket.removeListener("error", finish);
        socket.removeListener("close", onClose);
        if (err) {
          socket.destroy();
          reject(err);
          return;
        }
        const conn = new MaapiConnection(socket, reader);
        resolve(conn);
        // Bytes that came with the version reply belong to the connection.
        if (reader.pending > 0) conn.onData(Buffer.alloc(0));
      };
      const onAbort = (): void => finish(new InfraError("maapi-aborted", "MAAPI connect aborted"));
      const onClose = (): void =>
        finish(
          new InfraError(
            "nso-closed-handshake",
            `NSO closed the MAAPI socket during the handshake (${handshake.phase}): NSO may be in phase 0, or the IPC access check configured differently`,
          ),
        );
      const timeoutMs = opts.connectTimeoutMs ?? 3000;
      const timer = setTimeout(() => finish(new InfraError("handshake-timeout", `no MAAPI handshake within ${timeoutMs} ms`)), timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      const onData = (chunk: Buffer): void => {
        reader.push(chunk);
        try {
          if (handshake.step(reader, (b) => socket.write(b))) finish();
        } catch (e) {
          finish(asError(e));
        }
      };
      socket.on("data", onData);
      socket.on("error", finish);
      socket.on("close", onClose);
      socket.on("connect", () => socket.write(handshake.header()));
    });
  }

  get usable(): boolean {
    return this.closedWith === undefined && !this.busy;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Destroy the socket (an abandoned operation, a redeploy); pending reads reject. */
  destroy(reason: Error = new MaapiClosed("MAAPI connection closed")): void {
    this.fail(reason);
    this.socket.destroy();
  }

  // ---- operations (each one request, its replies, and nothing left in flight) ----

  /** ATTACH `{0, Usid, useikp}` (what econfd sends), or `{0, useikp}` (owner) without a usid. */
  async attach(th: number, usid?: number): Promise<void> {
    const arg = usid === undefined ? tuple(0, atom("useikp")) : tuple(0, usid, atom("useikp"));
    await this.op(OP.ATTACH, () => this.expectOk(OP.ATTACH), th, arg);
  }

  async detach(th: number): Promise<void> {
    await this.op(OP.DETACH, () => this.expectOk(OP.DETACH), th);
  }

  /** XPATH_EVAL_EXPR in the attached transaction; the context node is a top-first keypath. */
  async xpath(th: number, expr: string, contextTopFirst: Term[]): Promise<string> {
    const arg = tuple(Buffer.from(expr, "utf8"), atom("false"), contextTopFirst, 0, [], atom("undefined"));
    return this.op(
      OP.XPATH_EVAL_EXPR,
      async () => {
        await this.expectOk(OP.XPATH_EVAL_EXPR);
        for (;;) {
          const t = await this.expectTerm();
          // {trace, Bin} frames come first only when tracing was asked for; we never ask.
          if (isTagged(t, "trace")) continue;
          if (isTagged(t, "ok")) {
            const v = t.arity === 2 ? t.get(1) : undefined;
            if (!Buffer.isBuffer(v)) throw new ProtocolError("maapi-bad-xpath-result", "XPath result is not a binary");
            return v.toString("utf8");
          }
          if (isTagged(t, "error")) throw new MaapiError(OP.XPATH_EVAL_EXPR, 0, t.arity > 1 ? textOf(t.get(1)) : "");
          throw new ProtocolError("maapi-bad-xpath-result", "XPath reply is not {ok, Bin} or {error, Bin}");
        }
      },
      th,
      arg,
    );
  }

  /**
   * DIFF_ITER (or DIFF_IKP_ITER with a subtree) in name mode. `visit` gets every item and
   * answers it; an unreadable item is passed as its ProtocolError and still needs an answer,
   * so one bad frame costs one item, not the iteration. Resolves "done" on `{return}`,
   * "stopped" after ITER_STOP (NSO sends nothing more then, §8 pitfall 3); rejects with
   * MaapiError on `{error, Bin}` / `{badstate, Bin}` (e.g. "badpath" when the commit ended).
   */
  async diffIterate(th: number, flags: number, subtreeTopFirst: Term[] | undefined, visit: IterVisitor): Promise<"done" | "stopped"> {
    const req = subtreeTopFirst ? encodeRequest(OP.DIFF_IKP_ITER, th, tuple(MODE_NAMES, flags, subtreeTopFirst)) : encodeDiffIter(th, MODE_NAMES, flags);
    const op = subtreeTopFirst ? OP.DIFF_IKP_ITER : OP.DIFF_ITER;
    return this.run(async () => {
      this.write(req);
      for (;;) {
        const f = await this.nextFrame();
        let item: Term | ProtocolError = f instanceof ProtocolError ? f : atom("undefined");
        if (!(f instanceof ProtocolError)) {
          let r: MaapiReply | undefined;
          try {
            r = parseReply(f);
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
            item = e;
          }
          if (r) {
            if (r.kind === "error") throw new MaapiError(r.op, r.ecode, r.text);
            if (r.kind === "ok") {
              // An op echo where an item belongs: unreadable as an item, counted like one.
              item = new ProtocolError("maapi-unexpected-reply", `op echo ${r.op} during a diff iteration`);
              r = undefined;
            }
          }
          if (r) {
            const t = r.term;
            if (isTagged(t, "return", 1)) return "done";
            if (isTagged(t, "error") || isTagged(t, "badstate")) {
              const el = (t as Tuple).elements;
              throw new MaapiError(op, 0, `${(el[0] as Atom).name}: ${el.length > 1 ? textOf(el[1]) : ""}`);
            }
            item = t;
          }
        }
        const reply = visit(item);
        this.write(encodeIterReply(reply));
        if (reply === ITER_STOP) return "stopped";
      }
    });
  }

  /** LOAD_HASH_DB, read to `eof`; cached per connection by MaapiClient. */
  async loadHashDb(): Promise<HashDb> {
    return this.run(async () => {
      this.write(encodeRequest(OP.LOAD_HASH_DB));
      const rd = new HashDbReader();
      for (;;) {
        const t = await this.expectTerm();
        if (rd.add(t)) return rd.db;
      }
    });
  }

  /** LOAD_ALL_NS in the `ikp` name form, read to `eof`; cached per connection by MaapiClient. */
  async loadYangSchema(): Promise<YangSchema> {
    return this.run(async () => {
      this.write(encodeRequest(OP.LOAD_ALL_NS, undefined, atom("ikp")));
      const rd = new YangSchemaReader();
      for (;;) {
        const t = await this.expectTerm();
        if (rd.add(t)) return rd.schema;
      }
    });
  }

  // ---- plumbing ----

  private async op<T>(op: number, body: () => Promise<T>, th?: number, arg?: Term): Promise<T> {
    return this.run(async () => {
      this.write(encodeRequest(op, th, arg));
      return body();
    });
  }

  private async run<T>(body: () => Promise<T>): Promise<T> {
    if (this.closedWith) throw this.closedWith;
    if (this.busy) throw new InfraError("maapi-busy", "MAAPI connection is busy (operations are lock-step)");
    this.busy = true;
    try {
      return await body();
    } finally {
      this.busy = false;
    }
  }

  private write(payload: Buffer): void {
    if (this.closedWith) throw this.closedWith;
    this.socket.write(encodeFrame(payload));
  }

  private async expectOk(op: number): Promise<Term | undefined> {
    const r = await this.nextReply();
    if (r.kind === "error") throw new MaapiError(r.op, r.ecode, r.text);
    if (r.kind !== "ok" || r.op !== op)
      throw new ProtocolError("maapi-unexpected-reply", `expected the echo of op ${op}, got ${r.kind === "ok" ? `op ${r.op}` : "a bare term"}`);
    return r.result;
  }

  private async expectTerm(): Promise<Term> {
    const r = await this.nextReply();
    if (r.kind === "error") throw new MaapiError(r.op, r.ecode, r.text);
    if (r.kind !== "term") throw new ProtocolError("maapi-unexpected-reply", `expected a bare term, got the echo of op ${r.op}`);
    return r.term;
  }

  private async nextReply(): Promise<MaapiReply> {
    const f = await this.nextFrame();
    if (f instanceof ProtocolError) throw f;
    return parseReply(f);
  }

  private nextFrame(): Promise<Incoming> {
    const f = this.queue.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    for (;;) {
      let f: Incoming | undefined;
      try {
        f = this.reader.nextFrame();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        // Oversize: skipped by the reader; the operation waiting for it sees the error (and
        // the diff reader counts it as a dropped item).
        f = e;
      }
      if (f === undefined) return;
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w.resolve(f);
      } else this.queue.push(f);
    }
  }

  private fail(e: Error): void {
    if (this.closedWith) return;
    this.closedWith = e instanceof InfraError ? e : new MaapiClosed(`MAAPI socket error: ${e.message}`);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.closedWith);
  }
}

/** `<<7, Proto:16, LibVsn:32, 0, 0>>`, with the access-check flag bits when asked for (§2.1). */
export function maapiHeader(protoVsn: number, libVsn: number, accessCheck: AccessCheck = "none"): Buffer {
  return encodeHeader({ protoVsn, libVsn, accessCheck, clientId: CLIENT_ID_MAAPI });
}

function isTagged(t: Term, tag: string, arity?: number): t is Tuple {
  return t instanceof Tuple && (arity === undefined ? t.arity >= 1 : t.arity === arity) && t.get(0) === atom(tag);
}

function textOf(t: Term): string {
  if (Buffer.isBuffer(t)) return t.toString("utf8");
  if (typeof t === "string") return t;
  return "";
}
