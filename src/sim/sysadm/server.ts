import { EventEmitter } from "node:events";
import { randomInt } from "node:crypto";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import http from "node:http";
import https from "node:https";
import WebSocket, { WebSocketServer } from "ws";
import { listenOn } from "../listen";
import { AuthTable } from "./auth";
import { generateSelfSigned, GeneratedCertificate } from "./certificate";
import { eventFrame } from "./envelope";
import {
  genericJobEvents,
  LIFE_PRESERVER_KINDS,
  LifePreserverKind,
  lifePreserverEvent,
  pkgJobEvents,
  systemStateEvent,
  SystemStateOptions,
} from "./generators";
import { SysadmSimOptions, SysadmSimSettings, sysadmSimSettings } from "./options";
import { Conn, SimRequest, SysadmRequests } from "./requests";

export type { GeneratorOptions, SysadmSimOptions } from "./options";
export type { SimRequest } from "./requests";

const CACHED = new Set(["life-preserver", "system-state"]);

export interface SimEvents {
  request: [SimRequest];
  connection: [string];
  close: [{ code: number; reason: string; by: "server" | "client" }];
}

/**
 * A sysadm server that behaves like the real one (docs/sysadm.md, "Simulator"): wss with a certificate generated at every
 * start (plus an optional plain ws port), sorted compact JSON, string error codes, `[token,
 * 0]`, the 30 s unauthenticated close, the idle close, sliding token expiry, snapshot on
 * subscribe, out-of-order replies, the empty-token bug as a switch, failure blacklisting,
 * event generators and a control API for tests. The parts: the requests a client sends
 * (requests.ts), tokens and blacklist (auth.ts), the event generators (generators.ts); this
 * class holds the listeners, the connections and their timers, and the control API.
 */
export class SysadmSimServer extends EventEmitter<SimEvents> {
  readonly opts: SysadmSimSettings;
  private cert: GeneratedCertificate | undefined;
  private wss: WebSocketServer | undefined;
  private ws: WebSocketServer | undefined;
  private httpsServer: https.Server | undefined;
  private httpServer: http.Server | undefined;
  private readonly conns = new Set<Conn>();
  private readonly auth: AuthTable;
  private readonly requests: SysadmRequests;
  private readonly cache = new Map<string, unknown>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private wssPortBound: number | undefined;
  private wsPortBound: number | undefined;
  private lpIndex = 0;
  private jobIndex = 0;
  /** `maxBufferedBytes`: the most a flood ever had queued for one socket (a client not reading makes it grow). */
  readonly stats = { requests: 0, authFailures: 0, eventsSent: 0, connectionsAccepted: 0, maxBufferedBytes: 0 };

  constructor(options: SysadmSimOptions = {}) {
    super();
    this.opts = sysadmSimSettings(options);
    this.auth = new AuthTable(this.opts, this.stats);
    this.requests = new SysadmRequests({
      opts: this.opts,
      auth: this.auth,
      cache: this.cache,
      stats: this.stats,
      publish: (name, args) => this.publish(name, args),
      later: (fn, ms) => this.later(fn, ms),
      request: (r) => this.emit("request", r),
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async listen(): Promise<void> {
    const { host } = this.opts;
    if (this.opts.wssPort !== null) {
      this.cert = generateSelfSigned();
      if (this.opts.certFile) {
        mkdirSync(dirname(this.opts.certFile), { recursive: true });
        writeFileSync(this.opts.certFile, this.cert.certPem);
      }
      this.httpsServer = https.createServer({ cert: this.cert.certPem, key: this.cert.keyPem, minVersion: "TLSv1.2" });
      this.wss = this.attach(this.httpsServer);
      this.wssPortBound = await listenOn(this.httpsServer, this.wssPortBound ?? this.opts.wssPort, host);
    }
    if (this.opts.wsPort !== null) {
      this.httpServer = http.createServer();
      this.ws = this.attach(this.httpServer);
      this.wsPortBound = await listenOn(this.httpServer, this.wsPortBound ?? this.opts.wsPort, host);
    }
    this.startGenerators();
  }

  /** Stop everything: connections, listeners, timers. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of [...this.conns]) c.ws.terminate();
    await Promise.all(
      [this.httpsServer, this.httpServer].map((s) => new Promise<void>((resolve) => (s && s.listening ? s.close(() => resolve()) : resolve()))),
    );
    this.wss?.close();
    this.ws?.close();
    this.httpsServer = this.httpServer = undefined;
    this.wss = this.ws = undefined;
  }

  /**
   * Like the real service being restarted: every connection and token is gone, the cache
   * is empty, and (wss) the certificate is new. Listens again on the same ports.
   */
  async restart(): Promise<void> {
    await this.close();
    this.auth.clear();
    this.cache.clear();
    await this.listen();
  }

  get wssUrl(): string | undefined {
    return this.wssPortBound !== undefined && this.httpsServer ? `wss://${this.opts.host}:${this.wssPortBound}` : undefined;
  }

  get wsUrl(): string | undefined {
    return this.wsPortBound !== undefined && this.httpServer ? `ws://${this.opts.host}:${this.wsPortBound}` : undefined;
  }

  get certificate(): GeneratedCertificate | undefined {
    return this.cert;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** The server side of every open connection (tests watch what clients send on them). */
  openSockets(): WebSocket[] {
    return [...this.conns].map((c) => c.ws);
  }

  get tokenCount(): number {
    return this.auth.size;
  }

  /** How many connections are subscribed to `type`. */
  subscribers(type: string): number {
    let n = 0;
    for (const c of this.conns) if (c.subs.has(type)) n++;
    return n;
  }

  // ---- control API -----------------------------------------------------------------------

  /** Broadcast an event to every subscribed connection; cached types become the snapshot. */
  publish(name: string, args: unknown): number {
    if (CACHED.has(name)) this.cache.set(name, args);
    const frame = eventFrame(name, args);
    let n = 0;
    for (const c of this.conns) {
      if (c.subs.has(name) && c.ws.readyState === WebSocket.OPEN) {
        c.ws.send(frame);
        n++;
      }
    }
    this.stats.eventsSent += n;
    return n;
  }

  /** Set the cached snapshot of a type without broadcasting. */
  setCached(name: string, args: unknown): void {
    this.cache.set(name, args);
  }

  lifePreserver(kind: LifePreserverKind = "snapshot", dataset?: string): Record<string, string> {
    const args = lifePreserverEvent(kind, dataset);
    this.publish("life-preserver", args);
    return args;
  }

  systemState(o: Partial<SystemStateOptions> = {}): Record<string, unknown> {
    const args = systemStateEvent({ hostname: this.opts.hostname, updates: "noupdates", ...o });
    this.publish("system-state", args);
    return args;
  }

  /** Run a dispatcher job: its events go out `stepMs` apart; resolves after the last one. */
  dispatcherJob(kind: "generic" | "pkg" = "generic", stepMs = 200, commands = ["echo hello", "echo done"]): Promise<string> {
    const events = kind === "pkg" ? pkgJobEvents() : genericJobEvents(`job${++this.jobIndex}`, commands);
    const id = String((events[0].process_details as { process_id?: string } | undefined)?.process_id ?? events[0].process_id);
    return new Promise((resolve) => {
      let i = 0;
      const step = () => {
        this.publish("dispatcher", events[i++]);
        if (i < events.length) this.later(step, stepMs);
        else resolve(id);
      };
      step();
    });
  }

  /** Send raw text (or binary) to every connection: hostile-input tests. */
  sendRaw(data: string | Buffer, binary = false): void {
    for (const c of this.conns) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(data, { binary });
  }

  /**
   * Send `count` events to every subscriber as fast as the sockets take them (waits for each
   * batch to be written, so memory stays flat: a client that stops reading holds the flood
   * back, like the real server's writer). `args` is one event's args, or a function of the
   * event's index for distinct events. Resolves when all are sent.
   */
  async flood(count: number, name = "dispatcher", args: unknown = { process_id: "flood", state: "running" }): Promise<void> {
    const same = typeof args === "function" ? undefined : eventFrame(name, args);
    const frameAt = (i: number): string => same ?? eventFrame(name, (args as (i: number) => unknown)(i));
    const targets = [...this.conns].filter((c) => c.subs.has(name));
    const batch = 500;
    for (let sent = 0; sent < count;) {
      const n = Math.min(batch, count - sent);
      const frames = Array.from({ length: n }, (_, i) => frameAt(sent + i));
      await Promise.all(
        targets.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.ws.readyState !== WebSocket.OPEN) return resolve();
              for (let i = 0; i < n - 1; i++) c.ws.send(frames[i]);
              c.ws.send(frames[n - 1], () => resolve());
              this.stats.maxBufferedBytes = Math.max(this.stats.maxBufferedBytes, c.ws.bufferedAmount);
            }),
        ),
      );
      sent += n;
      this.stats.eventsSent += n * targets.length;
    }
  }

  /** The most bytes queued for any one connection right now (a client that stops reading makes it grow). */
  get bufferedBytes(): number {
    let max = 0;
    for (const c of this.conns) max = Math.max(max, c.ws.bufferedAmount);
    return max;
  }

  /** Every token stops being valid now (as if 900 s passed without use). */
  expireTokens(): void {
    this.auth.expireAll();
  }

  /** Close every client connection from the server side (1000, empty reason: idle/auth close). */
  dropConnections(code = 1000, reason = ""): void {
    for (const c of [...this.conns]) c.ws.close(code, reason);
  }

  setUser(username: string, password: string | undefined): void {
    if (password === undefined) delete this.opts.users[username];
    else this.opts.users[username] = password;
  }

  isBlacklisted(ip = "127.0.0.1"): boolean {
    return this.auth.isBlacklisted(ip);
  }

  // ---- connections -----------------------------------------------------------------------

  private attach(server: http.Server | https.Server): WebSocketServer {
    // No maxPayload of our own beyond ws' default: the real server reads anything Qt does.
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on("connection", (ws, req) => this.onConnection(ws, req.socket.remoteAddress ?? "?"));
    wss.on("error", () => undefined); // listener errors surface through listen()
    return wss;
  }

  private onConnection(ws: WebSocket, ip: string): void {
    this.stats.connectionsAccepted++;
    const c: Conn = { ws, ip, token: "", subs: new Set(), idleTimer: undefined, authTimer: undefined, held: [] };
    this.conns.add(c);
    ws.on("error", () => undefined);
    ws.on("close", (code, reason) => {
      this.conns.delete(c);
      clearTimeout(c.idleTimer);
      clearTimeout(c.authTimer);
      this.emit("close", { code, reason: reason.toString(), by: "client" });
    });
    if (this.isBlacklisted(ip)) {
      ws.close(1000);
      return;
    }
    this.emit("connection", ip);
    c.authTimer = setTimeout(() => {
      if (!this.auth.valid(c.token, false)) this.serverClose(c);
    }, this.opts.authDeadlineMs);
    this.touch(c);
    ws.on("message", (data) => {
      this.touch(c);
      this.requests.onFrame(c, toText(data));
    });
  }

  private serverClose(c: Conn): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.close(1000, "");
  }

  /** Idle timer: only frames from the client reset it (pings and our sends do not). */
  private touch(c: Conn): void {
    clearTimeout(c.idleTimer);
    c.idleTimer = setTimeout(() => this.serverClose(c), this.opts.idleTimeoutMs);
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private every(fn: () => void, ms: number, firstMs = ms): void {
    const tick = () => {
      fn();
      this.later(tick, ms);
    };
    this.later(tick, firstMs);
  }

  private startGenerators(): void {
    const g = this.opts.generate;
    if (!g) return;
    if (g.dispatcherMs > 0) this.every(() => void this.dispatcherJob(this.jobIndex % 2 === 0 ? "pkg" : "generic", 400), g.dispatcherMs);
    if (g.lifePreserverMs > 0) {
      this.every(() => {
        this.lifePreserver(LIFE_PRESERVER_KINDS[this.lpIndex++ % LIFE_PRESERVER_KINDS.length]);
      }, g.lifePreserverMs);
    }
    if (g.systemStateMs > 0) {
      this.every(
        () => {
          const cap = 70 + randomInt(0, 26); // now and then above 90 %: priority 6
          this.systemState({ capacity: cap, updates: randomInt(0, 4) === 0 ? "updatesavailable" : "noupdates" });
        },
        g.systemStateMs,
        g.systemStateFirstMs,
      );
    }
  }
}

function toText(data: WebSocket.RawData): string {
  // Binary frames are accepted and decoded as UTF-8, like text (§1).
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
