import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import WebSocket from "ws";
import type { Clock } from "../core/clock";
import { asError, InfraError, ProtocolError } from "../core/errors";
import { LastHeard, unreadBytes } from "../core/socket-reading";
import type { ReaderState } from "../core/watchdog";
import { SysadmServerError } from "./errors";
import { decodeFrame, FrameLimits, Inbound } from "./frame";
import { PendingRequests } from "./pending";
import { checkPeer, socketTlsOptions, TlsChoice } from "./tls";

export interface SessionOptions {
  url: string;
  tls: TlsChoice;
  limits: FrameLimits;
  requestTimeoutMs: number;
  handshakeTimeoutMs: number;
  clock: Clock;
}

export interface SessionHandlers {
  /** The WebSocket is open (and, in fingerprint mode, the pin matched): start the handshake. */
  onOpen(): void;
  onEvent(ev: Extract<Inbound, { kind: "event" }>): void;
  /** A frame was refused; the connection stays. */
  onDrop(err: ProtocolError): void;
  /** Any frame or pong: the peer is alive. */
  onAlive(): void;
  /** The socket is gone (or unusable); called at most once. */
  onClose(err: Error): void;
}

/**
 * One WebSocket to a sysadm server: sends `{namespace,name,id,args}` requests with unique
 * string ids, matches replies by id, turns error envelopes into SysadmServerError, and
 * passes events up. Knows nothing about auth or reconnects (see client.ts).
 */
export class SysadmSession implements ReaderState {
  private readonly ws: WebSocket;
  private readonly pending: PendingRequests;
  private closed = false;
  private readPaused = false;
  private readChangedAt = Number.NEGATIVE_INFINITY;
  /** Until when everything the server sent has been read (frames read after a pause may be old). */
  readonly heard: LastHeard;

  constructor(
    private readonly opts: SessionOptions,
    private readonly h: SessionHandlers,
  ) {
    this.heard = new LastHeard(() => opts.clock.now());
    this.pending = new PendingRequests(opts.requestTimeoutMs, opts.clock, { reader: this, unread: () => this.unread > 0 });
    this.ws = new WebSocket(opts.url, {
      ...socketTlsOptions(opts.tls),
      // The soft limit drops a big frame and keeps the connection; this hard limit (4x)
      // protects memory from a peer that sends megabytes: ws closes with 1009 beyond it.
      maxPayload: opts.limits.maxFrameBytes * 4,
      perMessageDeflate: false,
      handshakeTimeout: opts.handshakeTimeoutMs,
    });
    this.ws.on("upgrade", (res: IncomingMessage) => {
      if (!opts.url.startsWith("wss:")) return;
      try {
        checkPeer(opts.tls, res.socket as TLSSocket);
      } catch (e) {
        // Terminating here, before "open", means no credential ever reaches the wrong server.
        this.ws.terminate();
        this.finish(asError(e));
      }
    });
    this.ws.on("open", () => this.guard(() => h.onOpen()));
    this.ws.on("message", (data: WebSocket.RawData) => this.onMessage(data));
    this.ws.on("pong", (data: Buffer) => {
      this.heard.pong(data);
      // It answered a ping sent before the latest resume: ask again, now that we read.
      if (this.heard.wantsBarrier) this.ping();
      this.guard(() => h.onAlive());
    });
    this.ws.on("error", (e: Error) => this.finish(describeSocketError(e)));
    this.ws.on("close", (code: number, reason: Buffer) => {
      const why = reason.length ? `: ${reason.toString("utf8").slice(0, 80)}` : "";
      this.finish(new InfraError("closed", `server closed the connection (code ${code}${why})`, { code }));
    });
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  get waiting(): number {
    return this.pending.size;
  }

  /** Reading stopped on purpose (flow control): the server's frames wait in the socket. */
  get paused(): boolean {
    return this.readPaused;
  }

  /** When reading last stopped or started. */
  get since(): number {
    return this.readChangedAt;
  }

  /** Bytes from the server not yet read. */
  get unread(): number {
    return unreadBytes(this.ws);
  }

  /**
   * Stop or start reading. Paused, the kernel buffers fill and the server's writes back up: real
   * backpressure. Resuming sends a ping whose pong marks the moment the backlog was read.
   */
  setPaused(paused: boolean): void {
    if (paused === this.readPaused || this.closed) return;
    this.readPaused = paused;
    this.readChangedAt = this.opts.clock.now();
    if (paused) {
      this.heard.paused();
      this.ws.pause();
    } else {
      this.heard.resumed();
      this.ws.resume();
      // One ping at a time (pongs come in order): with one on its way, its pong asks for the next.
      if (this.heard.wantsBarrier) this.ping();
    }
  }

  request(namespace: string, name: string, args: unknown): Promise<unknown> {
    if (!this.open) return Promise.reject(new InfraError("not-connected", `${namespace}/${name}: not connected`));
    const id = this.pending.nextId(name);
    const p = this.pending.add(id, `${namespace}/${name}`);
    this.ws.send(JSON.stringify({ namespace, name, id, args }));
    return p;
  }

  /** Send without expecting a reply (auth_clear is never answered). */
  notify(namespace: string, name: string, args: unknown): void {
    if (this.open) this.ws.send(JSON.stringify({ namespace, name, id: this.pending.nextId(name), args }));
  }

  ping(): void {
    if (this.open) this.ws.ping(this.heard.ping());
  }

  /**
   * The keepalive ping: none while reading is paused (its pong would wait unread behind the
   * frames, and silence while paused is not held against the server) and none while one is on its way.
   */
  keepalivePing(): void {
    if (!this.readPaused && this.heard.pending === 0) this.ping();
  }

  close(): void {
    this.closed = true;
    this.pending.rejectAll(new InfraError("connection-closed", "connection closed before the reply arrived"));
    this.ws.removeAllListeners("message");
    // A socket still dialling cannot be closed politely; terminate either way so no timer
    // or handle outlives the attempt. Errors after this point have nobody to report to.
    this.ws.on("error", () => undefined);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, "infra-events closing");
    else this.ws.terminate();
    const hard = this.opts.clock.setTimeout(() => this.ws.terminate(), 2000);
    this.ws.once("close", () => this.opts.clock.clearTimeout(hard));
  }

  private onMessage(data: WebSocket.RawData): void {
    this.heard.heard();
    this.guard(() => this.h.onAlive());
    let inbound: Inbound;
    try {
      inbound = decodeFrame(toBuffer(data), this.opts.limits);
    } catch (e) {
      this.guard(() => this.h.onDrop(e instanceof ProtocolError ? e : new ProtocolError("bad-frame", asError(e).message)));
      return;
    }
    if (inbound.kind === "event") {
      this.guard(() => this.h.onEvent(inbound));
    } else if (inbound.kind === "reply") {
      if (!this.pending.resolve(inbound.id, inbound.args)) {
        this.guard(() =>
          this.h.onDrop(
            new ProtocolError("unknown-id", `reply with id ${JSON.stringify(inbound.id.slice(0, 60))} matches no waiting request (late after a timeout?)`),
          ),
        );
      }
    } else {
      const what = this.pending.what(inbound.id);
      const err = new SysadmServerError(inbound.status, inbound.message, what);
      if (inbound.id === "" || !this.pending.reject(inbound.id, err)) {
        this.guard(() =>
          this.h.onDrop(new ProtocolError("uncorrelated-error", `server error ${inbound.status} ${inbound.message} matches no waiting request`)),
        );
      }
    }
  }

  private finish(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.rejectAll(err);
    this.guard(() => this.h.onClose(err));
  }

  /** A throwing handler (user code downstream) must not break the socket's receive loop. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (this.closed) return;
      try {
        this.h.onDrop(new ProtocolError("handler-error", `event handler failed: ${asError(e).message}`));
      } catch {
        // The drop reporter itself failed: nothing sane is left to tell; keep the socket alive.
      }
    }
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function describeSocketError(e: Error): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "DEPTH_ZERO_SELF_SIGNED_CERT" || code === "SELF_SIGNED_CERT_IN_CHAIN" || code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE") {
    return new InfraError(
      "tls-untrusted",
      `server certificate not trusted (${code}): give its certificate as CA in the TLS settings, pin its fingerprint, or choose "do not verify"`,
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return new InfraError("tls-hostname", `server certificate does not match the host name: ${e.message}`);
  if (e.message.includes("Max payload size exceeded")) {
    return new InfraError("frame-too-large", "server sent a frame above the hard size limit; connection dropped");
  }
  return e;
}
