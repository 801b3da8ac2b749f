import { randomBytes, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import * as net from "node:net";
import { ACCESS_CHALLENGE_TAG, ACCESS_OK, ACCESS_RESPONSE_TAG, ACCESS_WRONG_SECRET, DEFAULT_LIB_PROTO_VSN, DEFAULT_LIB_VSN, VSN_MODEL_TOO_SMALL, VSN_OK, VSN_PROTO_INCOMPATIBLE } from "../../../nso/constants";
import { ByteReader } from "../../../nso/framing";
import { accessResponse, challengeLength, encodeVersionReply, parseHeader, ParsedHeader } from "../../../nso/handshake";
import { CLIENT_ID_MAAPI } from "../../../nso/maapi/constants";
import { BlockedCommitStore } from "./commit-store";
import { SimHashTable } from "./schema";
import { MaapiSimSession, SessionOptions } from "./session";

/**
 * The MAAPI side of the NSO simulator as a self-contained component. It can listen on a port
 * of its own, or take over sockets that the notification server accepted on the shared IPC
 * port (a real NSO serves client id 7 and 11 on one port): `adopt(socket, bytesSoFar)`.
 * Handshake rules are the event socket's (§2.1): compatibility list, model sizes, optional
 * IPC access check with the same secret.
 */
export interface MaapiSimOptions {
  host?: string;
  port?: number;
  store?: BlockedCommitStore;
  hashes?: SimHashTable;
  protoVsn?: number;
  libVsn?: number;
  compatProtoVsns?: number[];
  maxDepth?: number;
  maxKeyLen?: number;
  secret?: Buffer;
  itemDelayMs?: number;
  mangleItem?: SessionOptions["mangleItem"];
}

export interface MaapiSimEvents {
  session: [{ id: number }];
  closed: [{ id: number; reason: string }];
  rejected: [{ reason: string }];
  item: [{ th: number }];
}

export class MaapiSimServer extends EventEmitter<MaapiSimEvents> {
  readonly store: BlockedCommitStore;
  readonly hashes: SimHashTable;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<MaapiSimSession>();
  private nextId = 1;
  /** Items sent and XPath calls answered in total (tests and bench). */
  itemsSent = 0;
  xpathCalls = 0;

  constructor(readonly opts: MaapiSimOptions = {}) {
    super();
    this.store = opts.store ?? new BlockedCommitStore();
    this.hashes = opts.hashes ?? new SimHashTable();
  }

  async listen(): Promise<{ host: string; port: number }> {
    const server = net.createServer((s) => this.adopt(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return this.address;
  }

  get address(): { host: string; port: number } {
    const a = this.server?.address();
    if (!a || typeof a === "string") throw new Error("MAAPI simulator is not listening");
    return { host: a.address, port: a.port };
  }

  /** Live MAAPI sessions (handshaken sockets). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Close every client socket; the listener stays. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /**
   * Serve `socket` from its first byte on; `head` holds bytes another server already read
   * from it (at least the header's id byte when the notification server hands a client id 7
   * socket over). The caller must have removed its own 'data' listeners.
   */
  adopt(socket: net.Socket, head: Buffer = Buffer.alloc(0)): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const reader = new ByteReader(1024 * 1024);
    let phase: "header" | "access" | "frames" = "header";
    let header: ParsedHeader | undefined;
    let challenge: Buffer | undefined;
    let session: MaapiSimSession | undefined;
    const id = this.nextId++;
    const proto = this.opts.protoVsn ?? DEFAULT_LIB_PROTO_VSN;
    const reply = (code: number): Buffer =>
      encodeVersionReply({ code, protoVsn: proto, libVsn: this.opts.libVsn ?? DEFAULT_LIB_VSN, maxDepth: this.opts.maxDepth ?? 14, maxKeyLen: this.opts.maxKeyLen ?? 5 });
    const reject = (reason: string, bytes?: Buffer): void => {
      this.emit("rejected", { reason });
      if (bytes) socket.end(bytes);
      else socket.destroy();
    };
    const afterAccess = (h: ParsedHeader): void => {
      if (h.protoVsn !== proto && !(this.opts.compatProtoVsns ?? [81]).includes(h.protoVsn)) return reject(`proto ${h.protoVsn} incompatible`, reply(VSN_PROTO_INCOMPATIBLE));
      const sizesOk = (h.maxDepth === 0 && h.maxKeyLen === 0) || (h.maxDepth >= (this.opts.maxDepth ?? 14) && h.maxKeyLen >= (this.opts.maxKeyLen ?? 5));
      if (!sizesOk) return reject("model sizes too small", reply(VSN_MODEL_TOO_SMALL));
      socket.write(reply(VSN_OK));
      phase = "frames";
      session = new MaapiSimSession(socket, {
        store: this.store,
        hashes: this.hashes,
        itemDelayMs: this.opts.itemDelayMs,
        mangleItem: this.opts.mangleItem,
        onXpath: () => this.xpathCalls++,
        onItem: (th) => {
          this.itemsSent++;
          this.emit("item", { th });
        },
      });
      this.sessions.add(session);
      this.emit("session", { id });
    };
    const step = (): void => {
      for (;;) {
        if (socket.destroyed) return;
        if (phase === "header") {
          const b = reader.take(9);
          if (!b) return;
          header = parseHeader(b);
          if (header.clientId !== CLIENT_ID_MAAPI) return reject(`unknown client id ${header.clientId}`);
          const wants = (b[0] & 0x80) !== 0;
          if (wants && !this.opts.secret) return reject("Access check was requested but is not configured");
          if (!wants && this.opts.secret) return reject("Access check is configured but was not requested");
          if (wants) {
            challenge = randomBytes(challengeLength(header.accessCheck === "sha256" ? "sha256" : "md5"));
            socket.write(Buffer.concat([Buffer.from([ACCESS_CHALLENGE_TAG]), challenge]));
            phase = "access";
            continue;
          }
          afterAccess(header);
          continue;
        }
        if (phase === "access") {
          const kind = header!.accessCheck === "sha256" ? "sha256" : "md5";
          const b = reader.take(1 + challengeLength(kind));
          if (!b) return;
          const expect = accessResponse(kind, this.opts.secret!, challenge!);
          if (b[0] !== ACCESS_RESPONSE_TAG || !timingSafeEqual(b, expect)) return reject("Wrong secret used", Buffer.from([ACCESS_WRONG_SECRET]));
          socket.write(Buffer.from([ACCESS_OK]));
          afterAccess(header!);
          continue;
        }
        const f = reader.nextFrame();
        if (!f) return;
        session!.onFrame(f);
      }
    };
    socket.on("data", (chunk: Buffer) => {
      reader.push(chunk);
      try {
        step();
      } catch (e) {
        // Bytes NSO cannot parse on a MAAPI socket end that socket.
        reject(`illegal MAAPI message: ${(e as Error).message}`);
      }
    });
    socket.on("close", () => {
      if (session) {
        session.close();
        this.sessions.delete(session);
        this.emit("closed", { id, reason: "socket closed" });
      }
    });
    if (head.length > 0) socket.emit("data", head);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
