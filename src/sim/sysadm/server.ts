import { EventEmitter } from "node:events";
import { randomInt } from "node:crypto";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import http from "node:http";
import https from "node:https";
import WebSocket, { WebSocketServer } from "ws";
import { listenOn } from "../listen";
import { generateSelfSigned, GeneratedCertificate } from "./certificate";
import { errorFrame, eventFrame, replyFrame } from "./envelope";
import {
  genericJobEvents,
  LIFE_PRESERVER_KINDS,
  LifePreserverKind,
  lifePreserverEvent,
  pkgJobEvents,
  systemStateEvent,
  SystemStateOptions,
} from "./generators";

const EVENT_TYPES = new Set(["dispatcher", "life-preserver", "system-state"]);
const CACHED = new Set(["life-preserver", "system-state"]);
const TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export interface GeneratorOptions {
  /** A dispatcher job every N ms (alternating generic and pkg jobs); 0 = off. */
  dispatcherMs: number;
  /** A life-preserver notice every N ms (cycling through the five kinds); 0 = off. */
  lifePreserverMs: number;
  /** First system-state report after N ms (the server: 60 s), then every `systemStateMs` (900 s). */
  systemStateFirstMs: number;
  systemStateMs: number;
}

export interface SysadmSimOptions {
  host?: string;
  /** TLS WebSocket port (the real server: 12150); 0 = ephemeral; null = off. */
  wssPort?: number | null;
  /** Plain WebSocket port (the real server has none); 0 = ephemeral; null = off. */
  wsPort?: number | null;
  /** username -> password. */
  users?: Record<string, string>;
  /** Users in the `operator` group rather than `wheel`: `rpc/dispatcher run` gives them 403. */
  operators?: string[];
  hostname?: string;
  /** One-shot check after connect: no valid token -> close 1000 (§3). */
  authDeadlineMs?: number;
  /** No frame from the client for this long -> close 1000 (§5). */
  idleTimeoutMs?: number;
  /** Sliding token lifetime (§3). */
  tokenLifetimeMs?: number;
  /** The real server's bug: an empty token counts as valid while anyone is logged in. */
  legacyEmptyToken?: boolean;
  /** Reply order for pooled requests: random delays (real server), reversed batches, or in order. */
  reorder?: "random" | "reverse" | "none";
  reorderMaxMs?: number;
  /** Auth failures per IP before a blacklist (5), idle reset of the counter (10 min), blacklist time (60 min). */
  blacklistLimit?: number;
  blacklistWindowMs?: number;
  blacklistMs?: number;
  /** The real server never blacklists loopback; tests turn this on to exercise the blacklist. */
  blacklistLoopback?: boolean;
  generate?: Partial<GeneratorOptions> | false;
  /** Write the certificate (PEM) here at every start, for a tls-config node to use as CA. */
  certFile?: string;
}

interface Conn {
  ws: WebSocket;
  ip: string;
  token: string;
  subs: Set<string>;
  idleTimer: NodeJS.Timeout | undefined;
  authTimer: NodeJS.Timeout | undefined;
  /** Pooled replies waiting for a reversed flush. */
  held: Array<() => void>;
}

export interface SimRequest {
  namespace: string;
  name: string;
  id: string;
  args: unknown;
  authenticated: boolean;
}

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
 * event generators and a control API for tests.
 */
export class SysadmSimServer extends EventEmitter<SimEvents> {
  readonly opts: Required<Omit<SysadmSimOptions, "generate" | "certFile" | "operators">> & {
    generate: GeneratorOptions | false;
    certFile?: string;
    operators: Set<string>;
  };
  private cert: GeneratedCertificate | undefined;
  private wss: WebSocketServer | undefined;
  private ws: WebSocketServer | undefined;
  private httpsServer: https.Server | undefined;
  private httpServer: http.Server | undefined;
  private readonly conns = new Set<Conn>();
  private readonly tokens = new Map<string, { user: string; expiresAt: number }>();
  private readonly failures = new Map<string, { count: number; lastAt: number }>();
  private readonly blacklist = new Map<string, number>();
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
    const gen =
      options.generate === false || options.generate === undefined
        ? false
        : { dispatcherMs: 0, lifePreserverMs: 0, systemStateFirstMs: 0, systemStateMs: 0, ...options.generate };
    this.opts = {
      host: options.host ?? "127.0.0.1",
      wssPort: options.wssPort === undefined ? 0 : options.wssPort,
      wsPort: options.wsPort === undefined ? 0 : options.wsPort,
      users: options.users ?? { demo: "demo-password" },
      operators: new Set(options.operators ?? []),
      hostname: options.hostname ?? "sysadm-sim",
      authDeadlineMs: options.authDeadlineMs ?? 30_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30 * 60_000,
      tokenLifetimeMs: options.tokenLifetimeMs ?? 900_000,
      legacyEmptyToken: options.legacyEmptyToken ?? false,
      reorder: options.reorder ?? "random",
      reorderMaxMs: options.reorderMaxMs ?? 3,
      blacklistLimit: options.blacklistLimit ?? 5,
      blacklistWindowMs: options.blacklistWindowMs ?? 10 * 60_000,
      blacklistMs: options.blacklistMs ?? 60 * 60_000,
      blacklistLoopback: options.blacklistLoopback ?? false,
      generate: gen,
      certFile: options.certFile,
    };
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
    this.tokens.clear();
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

  get tokenCount(): number {
    return this.tokens.size;
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
    for (const t of this.tokens.values()) t.expiresAt = 0;
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
    const until = this.blacklist.get(ip);
    return until !== undefined && until > Date.now();
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
      if (!this.tokenValid(c, false)) this.serverClose(c);
    }, this.opts.authDeadlineMs);
    this.touch(c);
    ws.on("message", (data, isBinary) => this.onFrame(c, toText(data), isBinary));
  }

  private serverClose(c: Conn): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.close(1000, "");
  }

  /** Idle timer: only frames from the client reset it (pings and our sends do not). */
  private touch(c: Conn): void {
    clearTimeout(c.idleTimer);
    c.idleTimer = setTimeout(() => this.serverClose(c), this.opts.idleTimeoutMs);
  }

  private onFrame(c: Conn, text: string, _isBinary: boolean): void {
    this.touch(c);
    let prefix = "";
    let body = text;
    if (!text.startsWith("{")) {
      // §2.1: the first line is taken as a bridge id and echoed in front of the reply.
      const nl = text.indexOf("\n");
      prefix = `${nl < 0 ? text : text.slice(0, nl)}\n`;
      body = nl < 0 ? "" : text.slice(nl + 1);
    }
    const send = (frame: string) => {
      if (c.ws.readyState === WebSocket.OPEN) c.ws.send(prefix + frame);
    };
    let req: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      req = parsed as Record<string, unknown>;
    } catch {
      send(errorFrame("", "400"));
      return;
    }
    const id = typeof req.id === "string" ? req.id : "";
    const namespace = typeof req.namespace === "string" ? req.namespace : "";
    const name = typeof req.name === "string" ? req.name : "";
    const args = "args" in req ? req.args : req;
    this.stats.requests++;
    if (!namespace || !name) {
      send(errorFrame(id, "400"));
      return;
    }
    const ns = namespace.toLowerCase();
    const pooled = (frame: string) => this.pooledReply(c, () => send(frame));
    const authed = ns === "rpc" && (name === "identify" || name.startsWith("auth")) ? false : this.tokenValid(c, true);
    this.emit("request", { namespace, name, id, args, authenticated: authed });

    if (ns === "rpc") {
      if (name === "identify") return send(replyFrame(namespace, name, id, { type: "server", hostname: this.opts.hostname }));
      if (name === "auth" || name === "auth_token" || name === "auth_clear" || name === "auth_ssl") return this.onAuth(c, name, id, args, namespace, send);
      if (!authed) return pooled(errorFrame(id, "401"));
      if (name === "query") {
        // The real server's AvailableSubsystems: "read/write" per subsystem, and "read" for logs
        // and the dispatcher without full access (operator, not wheel). Listed: what we serve.
        const full = !this.opts.operators.has(this.tokens.get(c.token)?.user ?? "");
        const rw = full ? "read/write" : "read";
        return pooled(
          replyFrame(namespace, name, id, { "rpc/dispatcher": rw, "rpc/logs": rw, "sysadm/lifepreserver": "read/write", "sysadm/update": "read/write" }),
        );
      }
      if (name === "dispatcher") {
        // Limited (operator) access: running jobs is for wheel members only (§2.3).
        if (this.opts.operators.has(this.tokens.get(c.token)?.user ?? "")) return pooled(errorFrame(id, "403"));
        return this.onDispatcher(id, args, namespace, name, pooled);
      }
      if (name === "logs") return pooled(replyFrame(namespace, name, id, {}));
      return pooled(errorFrame(id, "404"));
    }
    if (ns === "events") {
      if (!authed) return pooled(errorFrame(id, "401"));
      if (name !== "subscribe" && name !== "unsubscribe") return pooled(errorFrame(id, "400"));
      const list = typeof args === "string" ? [args] : Array.isArray(args) ? args : undefined;
      if (!list || list.length === 0) return pooled(errorFrame(id, "400"));
      let last: string | undefined;
      for (const t of list) {
        if (typeof t !== "string" || !EVENT_TYPES.has(t)) continue; // unknown types are skipped silently
        if (name === "subscribe") {
          // The cached event goes out before the reply (§4.1), and again on every re-subscribe.
          if (this.cache.has(t)) send(eventFrame(t, this.cache.get(t)));
          c.subs.add(t);
        } else c.subs.delete(t);
        last = t;
      }
      return pooled(replyFrame(namespace, name, id, last === undefined ? {} : { [name]: last }));
    }
    return pooled(errorFrame(id, "404"));
  }

  private onAuth(c: Conn, name: string, id: string, args: unknown, namespace: string, send: (f: string) => void): void {
    // Every auth* first invalidates the socket's current token (§3): so auth_token with your
    // own current token kills it and fails.
    if (c.token) this.tokens.delete(c.token);
    c.token = "";
    if (name === "auth_clear") return; // never answered
    const a = (typeof args === "object" && args !== null ? args : {}) as Record<string, unknown>;
    let user: string | undefined;
    if (name === "auth") {
      const u = a.username;
      const p = a.password;
      if (typeof u === "string" && typeof p === "string" && Object.prototype.hasOwnProperty.call(this.opts.users, u) && this.opts.users[u] === p) user = u;
    } else if (name === "auth_token") {
      const t = a.token;
      const rec = typeof t === "string" && t !== "" ? this.tokens.get(t) : undefined;
      if (rec && rec.expiresAt > Date.now()) {
        rec.expiresAt = Date.now() + this.opts.tokenLifetimeMs;
        c.token = t as string;
        return send(replyFrame(namespace, name, id, [t, 0]));
      }
    }
    if (user !== undefined && !this.isBlacklisted(c.ip)) {
      const token = newToken();
      this.tokens.set(token, { user, expiresAt: Date.now() + this.opts.tokenLifetimeMs });
      c.token = token;
      // The seconds field is always 0 on real servers (§3).
      return send(replyFrame(namespace, name, id, [token, 0]));
    }
    this.recordFailure(c.ip);
    send(errorFrame(id, "401"));
  }

  private onDispatcher(id: string, args: unknown, namespace: string, name: string, pooled: (f: string) => void): void {
    const a = (typeof args === "object" && args !== null ? args : {}) as Record<string, unknown>;
    if (a.action !== "run") return pooled(errorFrame(id, "400"));
    const started: string[] = [];
    for (const [jobId, cmds] of Object.entries(a)) {
      if (jobId === "action") continue;
      const list = Array.isArray(cmds) ? cmds.filter((x): x is string => typeof x === "string") : typeof cmds === "string" ? [cmds] : [];
      if (!list.length) continue;
      started.push(jobId);
      const events = genericJobEvents(jobId, list);
      this.later(() => this.publish("dispatcher", events[0]), 5);
      this.later(() => this.publish("dispatcher", events[1]), 50);
    }
    if (!started.length) return pooled(errorFrame(id, "400"));
    pooled(replyFrame(namespace, name, id, { started }));
  }

  private recordFailure(ip: string): void {
    this.stats.authFailures++;
    const now = Date.now();
    const f = this.failures.get(ip);
    const count = f && now - f.lastAt < this.opts.blacklistWindowMs ? f.count + 1 : 1;
    this.failures.set(ip, { count, lastAt: now });
    const loopback = ip === "127.0.0.1" || ip === "::1" || ip === "::ffff:127.0.0.1";
    if (count >= this.opts.blacklistLimit && (!loopback || this.opts.blacklistLoopback)) {
      // The reply stays 401 (the server's intended 403 path is unreachable); later
      // connections from this IP are closed right after the handshake.
      this.blacklist.set(ip, now + this.opts.blacklistMs);
    }
  }

  /** Valid token on this socket? `slide` renews it, like every passed auth check does. */
  private tokenValid(c: Conn, slide: boolean): boolean {
    const now = Date.now();
    if (c.token === "") {
      if (!this.opts.legacyEmptyToken) return false;
      // The real bug: "" matches every stored key, so it passes while anyone is logged in.
      for (const rec of this.tokens.values()) if (rec.expiresAt > now) return true;
      return false;
    }
    const rec = this.tokens.get(c.token);
    if (!rec || rec.expiresAt <= now) return false;
    if (slide) rec.expiresAt = now + this.opts.tokenLifetimeMs;
    return true;
  }

  /** Requests other than auth and identify run on a thread pool in the real server: reorder. */
  private pooledReply(c: Conn, sendIt: () => void): void {
    switch (this.opts.reorder) {
      case "none":
        return sendIt();
      case "random":
        this.later(sendIt, randomInt(0, this.opts.reorderMaxMs + 1));
        return;
      case "reverse": {
        const held = c.held;
        held.push(sendIt);
        if (held.length === 1) {
          this.later(() => {
            const all = held.splice(0);
            for (const f of all.reverse()) f();
          }, this.opts.reorderMaxMs);
        }
      }
    }
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

function newToken(): string {
  let s = "";
  for (let i = 0; i < 20; i++) s += TOKEN_CHARS[randomInt(0, TOKEN_CHARS.length)];
  return s;
}

function toText(data: WebSocket.RawData): string {
  // Binary frames are accepted and decoded as UTF-8, like text (§1).
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
