import { EventEmitter } from "node:events";
import * as net from "node:net";
import { ByteReader } from "../../../nso/framing";
import { CLIENT_ID_MAAPI } from "../../../nso/maapi/constants";
import { handshakeSettings, ServerHandshake, SimHandshakeOptions } from "../server-handshake";
import { listenOn } from "../../listen";
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
export interface MaapiSimOptions extends SimHandshakeOptions {
  host?: string;
  port?: number;
  store?: BlockedCommitStore;
  hashes?: SimHashTable;
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
    await listenOn(server, this.opts.port ?? 0, this.opts.host ?? "127.0.0.1");
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
    let session: MaapiSimSession | undefined;
    const id = this.nextId++;
    const handshake = new ServerHandshake(socket, reader, { clientId: CLIENT_ID_MAAPI, ...handshakeSettings(this.opts) });
    const reject = (reason: string, bytes?: Buffer): void => {
      this.emit("rejected", { reason });
      if (bytes) socket.end(bytes);
      else socket.destroy();
    };
    const startSession = (): void => {
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
        if (!handshake.done) {
          const r = handshake.step();
          if (r.kind === "pending" || r.kind === "handed-over") return;
          if (r.kind === "rejected") return reject(r.reason, r.bytes);
          startSession();
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
