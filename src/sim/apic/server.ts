import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { listenOn } from "../listen";
import { MoChange, MoStore } from "./mo-store";
import { parseQuery, QueryParseError, runQuery, SimQuery } from "./query";

/**
 * An APIC as a subscription client sees it, on loopback: aaaLogin/aaaRefresh/aaaLogout with
 * expiring tokens, one WebSocket per session at `/socket<token>`, query subscriptions that
 * lapse without subscriptionRefresh, notifications in the 4.x/5.x JSON shapes, APIC's error
 * envelopes (401, 403 token timeout, 405 no socket, 400 lapsed id), and a control API to
 * inject changes and break things. What it does is listed in docs/apic.md ("The simulator").
 */
export interface SimPolicy {
  /** aaaRefresh returns a new token (JWT era) or the same one. */
  tokenChangesOnRefresh: boolean;
  /** A session's subscriptions keep delivering to a new socket of the same session. */
  subscriptionsSurviveSocketLoss: boolean;
  /** subscriptionRefresh of an unknown/lapsed id: APIC error envelope (code 400) or a plain 200. */
  unknownRefresh: "error" | "ok";
  /** deleted notifications: `{dn,status}` only, or with childAction/modTs/rn. */
  deletedShape: "minimal" | "full";
  /** HTTP status refusing a socket upgrade with a bad/expired token. */
  badSocketToken: 401 | 403;
  /** A second socket for the same session replaces the first or coexists. */
  secondSocket: "replace" | "coexist";
  /** Changes per notification frame (1 = what every real capture shows). */
  batch: number;
  /** Delay before a change is pushed, ms. */
  notifyDelayMs: number;
  /** Close the session's socket when its token expires. */
  closeSocketOnTokenExpiry: boolean;
  /** Token shape: JWT-like (`a.b.c`) or pre-4.x base64 with `/ + =`. */
  tokenStyle: "jwt" | "classic";
  /** Delay the subscribe reply (the subscription is already live): notifications can overtake it. */
  subscribeReplyDelayMs: number;
  /**
   * A client that stops reading: once this many bytes wait unsent on its socket (the kernel
   * buffers are full), drop the socket (TCP reset) instead of buffering on. 0 = buffer without
   * limit. A controller that gives up on a slow client; the client sees a lost socket.
   */
  maxSocketBacklogBytes: number;
}

export interface ApicSimOptions {
  host?: string;
  port?: number;
  /** Serve HTTPS/WSS with this key and certificate (e.g. self-signed). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Accepted logins: name (as sent, e.g. `apic:RADIUS\admin`) -> password. */
  users?: Record<string, string>;
  tokenTtlSeconds?: number;
  maxLifetimeSeconds?: number;
  /** Subscription timeout when the request has no refresh-timeout (APIC: 60 s). */
  subscriptionTtlSeconds?: number;
  /** Extra time before an unrefreshed subscription actually stops (APIC is not instantaneous). */
  expiryGraceMs?: number;
  /** How often expiry is checked, ms. */
  sweepMs?: number;
  seed?: boolean;
  version?: string;
  policy?: Partial<SimPolicy>;
}

export type FailMode = "hang" | "refuse" | "error" | false;
export type KillMode = "close" | "reset" | "silent";

interface Sub {
  id: string;
  path: string;
  query: SimQuery;
  ttlMs: number;
  expiresAt: number;
}

interface Session {
  id: string;
  user: string;
  createdAt: number;
  maxAt: number;
  tokenExpiresAt: number;
  sockets: Set<WebSocket>;
  subs: Map<string, Sub>;
  pending: Array<{ ids: string[]; change: MoChange }>;
}

export interface SimStats {
  logins: number;
  loginFailures: number;
  tokenRefreshes: number;
  logouts: number;
  subscribes: number;
  subscriptionRefreshes: number;
  refreshFailures: number;
  framesSent: number;
  changes: number;
  /** Sockets dropped because their client stopped reading (policy maxSocketBacklogBytes). */
  slowSocketsDropped: number;
  openSockets: number;
  sessions: number;
  liveSubscriptions: number;
}

const DEFAULT_POLICY: SimPolicy = {
  tokenChangesOnRefresh: true,
  subscriptionsSurviveSocketLoss: false,
  unknownRefresh: "error",
  deletedShape: "full",
  badSocketToken: 401,
  secondSocket: "replace",
  batch: 1,
  notifyDelayMs: 0,
  closeSocketOnTokenExpiry: true,
  tokenStyle: "jwt",
  subscribeReplyDelayMs: 0,
  maxSocketBacklogBytes: 0,
};

function envelope(code: number, text: string): string {
  return JSON.stringify({ totalCount: "1", imdata: [{ error: { attributes: { code: String(code), text } } }] });
}

/**
 * Events for tests: `request` as each request arrives, `subscribed` when a subscription is
 * registered (before its reply is sent), `activity` after each reply and each expiry sweep.
 */
export class ApicSimulator extends EventEmitter {
  readonly store: MoStore;
  readonly policy: SimPolicy;
  readonly stats: SimStats = {
    logins: 0,
    loginFailures: 0,
    tokenRefreshes: 0,
    logouts: 0,
    subscribes: 0,
    subscriptionRefreshes: 0,
    refreshFailures: 0,
    framesSent: 0,
    changes: 0,
    slowSocketsDropped: 0,
    openSockets: 0,
    sessions: 0,
    liveSubscriptions: 0,
  };
  /** The last raw request lines (`GET /api/...?...`), newest last, at most 2000: tests check exact encoding. */
  readonly requests: string[] = [];
  private readonly server: http.Server | https.Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly tokens = new Map<string, { session: Session; expiresAt: number }>();
  private readonly sessions = new Set<Session>();
  private readonly connections = new Set<Socket>();
  private readonly hung = new Set<http.ServerResponse>();
  private readonly changeListeners: Array<(c: MoChange) => void> = [];
  private nextSubId = 72057594037927937n;
  private sessionSeq = 0;
  private failMode: FailMode = false;
  private refusing: string | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly o: Required<Omit<ApicSimOptions, "tls" | "policy">> & Pick<ApicSimOptions, "tls">;

  constructor(options: ApicSimOptions = {}) {
    super();
    this.o = {
      host: "127.0.0.1",
      port: 0,
      users: { admin: "demo-password" }, // what scripts/demo.js gives apic-controller
      tokenTtlSeconds: 600,
      maxLifetimeSeconds: 86400,
      subscriptionTtlSeconds: 60,
      expiryGraceMs: 0,
      sweepMs: 250,
      seed: true,
      version: "5.2(1g)",
      ...options,
    };
    this.policy = { ...DEFAULT_POLICY, ...(options.policy ?? {}) };
    this.store = new MoStore();
    if (this.o.seed) this.store.seed();
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.onRequest(req, res);
    this.server = this.o.tls ? https.createServer({ key: this.o.tls.key, cert: this.o.tls.cert }, handler) : http.createServer(handler);
    this.server.on("connection", (s: Socket) => {
      if (this.failMode === "refuse") {
        s.destroy();
        return;
      }
      this.connections.add(s);
      s.on("close", () => this.connections.delete(s));
    });
    this.server.on("upgrade", (req, socket: Socket, head) => this.onUpgrade(req, socket, head));
  }

  get secure(): boolean {
    return this.o.tls !== undefined;
  }

  async listen(): Promise<{ url: string; port: number }> {
    await listenOn(this.server, this.o.port, this.o.host);
    this.sweepTimer = setInterval(() => this.sweep(), this.o.sweepMs);
    this.sweepTimer.unref();
    return { url: this.url, port: this.port };
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.secure ? "https" : "http"}://${this.o.host}:${this.port}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const s of this.sessions) for (const ws of s.sockets) ws.terminate();
    for (const ws of this.silenced) ws.terminate();
    for (const r of this.hung) r.destroy();
    this.hung.clear();
    for (const c of this.connections) c.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- control API (programmatic; the same over HTTP under /_sim/) ----------------------

  /** Observe every change the simulator applies (the trickle generator, tests). */
  onChange(fn: (c: MoChange) => void): void {
    this.changeListeners.push(fn);
  }

  create(cls: string, dn: string, attrs: Record<string, string> = {}): void {
    this.publish([this.store.create(cls, dn, attrs)]);
  }

  modify(dn: string, changes: Record<string, string>): boolean {
    const c = this.store.modify(dn, changes);
    if (c) this.publish([c]);
    return c !== undefined;
  }

  delete(dn: string): boolean {
    const cs = this.store.delete(dn, this.policy.deletedShape === "minimal");
    this.publish(cs);
    return cs.length > 0;
  }

  /** Every token expires now (as if nobody refreshed): 403 from now on, sockets closed per policy. */
  expireTokens(): void {
    const now = Date.now();
    for (const t of this.tokens.values()) t.expiresAt = now - 1;
    for (const s of this.sessions) s.tokenExpiresAt = now - 1;
    this.sweep();
  }

  /**
   * Answer every query whose request line contains `match` with APIC's 400 envelope (as for a
   * bad filter), until called with undefined: lets tests make a refused query valid again.
   */
  refuseQueries(match: string | undefined): void {
    this.refusing = match === "" ? undefined : match;
  }

  /** Every subscription lapses now (refreshes of their ids fail from now on). */
  lapseSubscriptions(): void {
    for (const s of this.sessions) s.subs.clear();
  }

  /**
   * End every socket: `close` sends a close frame, `reset` drops TCP (client sees 1006), `silent`
   * stops reading and writing without telling anyone (a half-open link: only pings reveal it).
   */
  killSockets(mode: KillMode): number {
    let n = 0;
    for (const s of this.sessions) {
      for (const ws of [...s.sockets]) {
        n++;
        this.dropSocket(s, ws, mode);
      }
    }
    return n;
  }

  /**
   * Make this controller fail: `hang` answers nothing (requests and pings left hanging),
   * `refuse` drops every connection, `error` answers 503; `false` heals it.
   */
  fail(mode: FailMode): void {
    this.failMode = mode;
    if (mode === false) {
      for (const r of this.hung) r.destroy();
      this.hung.clear();
      return;
    }
    this.killSockets(mode === "hang" ? "silent" : "reset");
  }

  /**
   * `n` changes as fast as the sockets take them (bench): `modify` changes one tenant's descr
   * (small frames, bounded memory), `create` adds tenants `uni/tn-flood<i>` (full objects).
   * Yields to the event loop every 500 changes and waits while any socket has more than 4 MB
   * queued, so a slow client sets the pace instead of the simulator's memory. `padBytes` makes
   * each modify frame that much bigger (a `payload` attribute), to fill socket buffers sooner.
   */
  async flood(n: number, mode: "modify" | "create" = "modify", padBytes = 0): Promise<number> {
    if (mode === "modify" && !this.store.get("uni/tn-flood")) this.create("fvTenant", "uni/tn-flood", { name: "flood" });
    const pad = "x".repeat(Math.max(0, padBytes));
    const start = Date.now();
    for (let i = 0; i < n && !this.closed; i++) {
      if (mode === "modify") this.modify("uni/tn-flood", pad ? { descr: `change ${i}`, payload: `${i}:${pad}` } : { descr: `change ${i}` });
      else this.create("fvTenant", `uni/tn-flood${i}`, { name: `flood${i}` });
      if (i % 500 === 499) {
        await new Promise((r) => setImmediate(r));
        while (this.congested() && !this.closed) await new Promise((r) => setTimeout(r, 2));
      }
    }
    return Date.now() - start;
  }

  /**
   * Send one prepared frame `n` times to every open socket, paced like `flood` (load tests:
   * a source faster than building and matching real changes).
   */
  async replay(frame: string, n: number): Promise<number> {
    const start = Date.now();
    for (let i = 0; i < n && !this.closed; i++) {
      this.sendRaw(frame);
      if (i % 500 === 499) {
        await new Promise((r) => setImmediate(r));
        while (this.congested() && !this.closed) await new Promise((r) => setTimeout(r, 2));
      }
    }
    return Date.now() - start;
  }

  private congested(): boolean {
    return this.backlogBytes() > 4 * 1024 * 1024;
  }

  /** The most bytes waiting unsent on any one socket (the kernel buffers are full: its client is not reading). */
  backlogBytes(): number {
    let max = 0;
    for (const s of this.sessions) for (const w of s.sockets) max = Math.max(max, w.bufferedAmount);
    return max;
  }

  /** Push raw data to every open socket (malformed-frame tests). */
  sendRaw(data: string | Buffer, binary = false): number {
    let n = 0;
    for (const s of this.sessions) {
      for (const ws of s.sockets) {
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(data, { binary });
          n++;
        }
      }
    }
    return n;
  }

  /** Ids of live subscriptions, all sessions. */
  subscriptionIds(): string[] {
    return [...this.sessions].flatMap((s) => [...s.subs.keys()]);
  }

  liveStats(): SimStats {
    let sockets = 0;
    let subs = 0;
    for (const s of this.sessions) {
      sockets += [...s.sockets].filter((w) => w.readyState === WebSocket.OPEN).length;
      subs += s.subs.size;
    }
    return { ...this.stats, openSockets: sockets, sessions: this.sessions.size, liveSubscriptions: subs };
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const raw = req.url ?? "/";
    if (this.requests.length >= 2000) this.requests.splice(0, 1000);
    this.requests.push(`${req.method} ${raw}`);
    this.emit("request", `${req.method} ${raw}`);
    if (raw.startsWith("/_sim/")) {
      this.onControl(req, res, raw);
      return;
    }
    if (this.failMode === "hang") {
      this.hung.add(res);
      res.on("close", () => this.hung.delete(res));
      return;
    }
    if (this.failMode === "error") {
      res.writeHead(503, { "Content-Type": "text/html" }).end("<html><body>503 Service Unavailable</body></html>");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) {
        this.reply(res, 413, envelope(413, "request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (res.writableEnded) return;
      try {
        this.route(req, res, raw, Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        this.reply(res, 500, envelope(500, `simulator error: ${(e as Error).message}`));
      }
    });
  }

  private reply(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    if (res.writableEnded) return;
    res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(body);
    this.emit("activity");
  }

  private cookieToken(req: http.IncomingMessage): string | undefined {
    // Loose, like APIC: the last APIC-cookie wins; `path=/; HttpOnly` junk is ignored.
    const h = req.headers.cookie;
    if (!h) return undefined;
    let found: string | undefined;
    for (const m of h.matchAll(/(?:^|;)\s*APIC-cookie=([^;]*)/g)) found = m[1].trim();
    return found;
  }

  private sessionFor(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const t = this.tokens.get(token);
    if (!t || t.expiresAt < Date.now() || !this.sessions.has(t.session)) return undefined;
    return t.session;
  }

  private newToken(s: Session): string {
    let token: string;
    if (this.policy.tokenStyle === "classic") {
      // Pre-4.x style: base64 with / + = that must travel raw in /socket<token>.
      token = `${randomBytes(2).toString("base64").replace(/[^/+]/g, "")}/+${randomBytes(30).toString("base64")}`;
    } else {
      const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");
      const iat = Math.floor(Date.now() / 1000);
      token = `${b64({ alg: "RS256", kid: "sim", typ: "jwt" })}.${b64({ rbac: [{ domain: "all", rolesR: 1, rolesW: 1 }], iss: "ACI APIC", username: s.user, sessionid: s.id, iat, exp: iat + Math.ceil(this.o.tokenTtlSeconds) })}.${randomBytes(32).toString("base64url")}`;
    }
    const expiresAt = Date.now() + this.o.tokenTtlSeconds * 1000;
    this.tokens.set(token, { session: s, expiresAt });
    s.tokenExpiresAt = expiresAt;
    return token;
  }

  private loginReply(res: http.ServerResponse, s: Session, token: string): void {
    const attrs = {
      token,
      siteFingerprint: "sim",
      refreshTimeoutSeconds: String(this.o.tokenTtlSeconds),
      maximumLifetimeSeconds: String(this.o.maxLifetimeSeconds),
      guiIdleTimeoutSeconds: "1200",
      restTimeoutSeconds: "90",
      creationTime: String(Math.floor(s.createdAt / 1000)),
      firstLoginTime: String(Math.floor(s.createdAt / 1000)),
      userName: s.user,
      remoteUser: "false",
      unixUserId: "15374",
      sessionId: Buffer.from(s.id).toString("base64"),
      lastName: "",
      firstName: "",
      changePassword: "no",
      version: this.o.version,
      buildTime: "Sat Jan 01 00:00:00 UTC 2022",
      node: "topology/pod-1/node-1",
    };
    const cookie = `APIC-cookie=${token}; path=/; HttpOnly${this.secure ? "; Secure" : ""}`;
    this.reply(res, 200, JSON.stringify({ totalCount: "1", imdata: [{ aaaLogin: { attributes: attrs, children: [] } }] }), { "Set-Cookie": cookie });
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, raw: string, body: string): void {
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const rawQuery = q < 0 ? "" : raw.slice(q + 1);
    const method = req.method ?? "GET";

    if (path === "/api/aaaListDomains.json") {
      this.reply(res, 200, JSON.stringify({ imdata: [{ name: "local" }, { name: "RADIUS" }] }));
      return;
    }
    if (path === "/api/aaaLogin.json" && method === "POST") {
      let name: unknown;
      let pwd: unknown;
      try {
        const b = JSON.parse(body) as { aaaUser?: { attributes?: { name?: unknown; pwd?: unknown } } };
        name = b.aaaUser?.attributes?.name;
        pwd = b.aaaUser?.attributes?.pwd;
      } catch {
        this.reply(res, 400, envelope(400, "Failed to parse login request"));
        return;
      }
      if (typeof name !== "string" || typeof pwd !== "string" || this.o.users[name] === undefined || this.o.users[name] !== pwd) {
        this.stats.loginFailures++;
        this.reply(res, 401, envelope(401, "Username or password is incorrect - FAILED local authentication"));
        return;
      }
      const now = Date.now();
      const s: Session = {
        id: `sim-${++this.sessionSeq}`,
        user: name,
        createdAt: now,
        maxAt: now + this.o.maxLifetimeSeconds * 1000,
        tokenExpiresAt: 0,
        sockets: new Set(),
        subs: new Map(),
        pending: [],
      };
      this.sessions.add(s);
      this.stats.logins++;
      this.loginReply(res, s, this.newToken(s));
      return;
    }

    const token = this.cookieToken(req);
    const s = this.sessionFor(token);
    if (!s) {
      this.reply(res, 403, envelope(403, "Token was invalid (Error: Token timeout)"));
      return;
    }
    if (path === "/api/aaaRefresh.json") {
      if (Date.now() >= s.maxAt) {
        this.reply(res, 403, envelope(403, "Token was invalid (Error: Token timeout)"));
        return;
      }
      this.stats.tokenRefreshes++;
      let next = token!;
      if (this.policy.tokenChangesOnRefresh) next = this.newToken(s);
      else {
        const expiresAt = Date.now() + this.o.tokenTtlSeconds * 1000;
        this.tokens.set(next, { session: s, expiresAt });
        s.tokenExpiresAt = expiresAt;
      }
      this.loginReply(res, s, next);
      return;
    }
    if (path === "/api/aaaLogout.json") {
      this.stats.logouts++;
      this.endSession(s, "close");
      this.reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
      return;
    }
    if (path === "/api/subscriptionRefresh.json") {
      const id = new URLSearchParams(rawQuery).get("id") ?? "";
      const sub = s.subs.get(id);
      this.stats.subscriptionRefreshes++;
      if (!sub || sub.expiresAt < Date.now()) {
        if (sub) s.subs.delete(id);
        this.stats.refreshFailures++;
        if (this.policy.unknownRefresh === "error") this.reply(res, 400, envelope(400, `Subscription ${id} does not exist or has expired`));
        else this.reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
        return;
      }
      sub.expiresAt = Date.now() + sub.ttlMs;
      this.reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
      return;
    }
    if (method === "POST" && path.startsWith("/api/mo/")) {
      this.configPost(res, s, path, body);
      return;
    }
    let query: SimQuery | undefined;
    try {
      query = parseQuery(path, rawQuery);
    } catch (e) {
      this.reply(res, 400, envelope(400, e instanceof QueryParseError ? `Unable to process the query: ${e.message}` : String(e)));
      return;
    }
    if (!query || method !== "GET") {
      this.reply(res, 400, envelope(400, `Request failed, unknown path ${path}`));
      return;
    }
    if (this.refusing !== undefined && raw.includes(this.refusing)) {
      this.reply(res, 400, envelope(400, `Unable to process the query: refused by the simulator (${this.refusing})`));
      return;
    }
    const imdata = runQuery(query, this.store);
    if (query.params.get("subscription") === "yes") {
      if (![...s.sockets].some((w) => w.readyState === WebSocket.OPEN)) {
        this.reply(res, 405, envelope(405, "Subscription request failed, unable to locate opened web socket. Please re-login to the application"));
        return;
      }
      const rt = Number(query.params.get("refresh-timeout") ?? "");
      const ttlMs = (Number.isFinite(rt) && rt > 0 ? rt : this.o.subscriptionTtlSeconds) * 1000;
      const id = String(this.nextSubId++);
      s.subs.set(id, { id, path, query, ttlMs, expiresAt: Date.now() + ttlMs });
      this.stats.subscribes++;
      this.emit("subscribed", id);
      const body = JSON.stringify({ totalCount: String(imdata.length), subscriptionId: id, imdata });
      if (this.policy.subscribeReplyDelayMs > 0) setTimeout(() => this.reply(res, 200, body), this.policy.subscribeReplyDelayMs).unref();
      else this.reply(res, 200, body);
      return;
    }
    this.reply(res, 200, JSON.stringify({ totalCount: String(imdata.length), imdata }));
  }

  /** POST /api/mo/<dn>.json {cls: {attributes}}: create, modify or (status "deleted") delete, plus an aaaModLR. */
  private configPost(res: http.ServerResponse, s: Session, path: string, body: string): void {
    let cls: string;
    let attrs: Record<string, string>;
    try {
      const b = JSON.parse(body) as Record<string, { attributes?: Record<string, string> }>;
      const keys = Object.keys(b);
      if (keys.length !== 1 || typeof b[keys[0]]?.attributes !== "object") throw new Error("one {class: {attributes}} object expected");
      cls = keys[0];
      attrs = { ...b[cls].attributes! };
    } catch (e) {
      this.reply(res, 400, envelope(400, `Failed to parse request: ${(e as Error).message}`));
      return;
    }
    const dn = attrs.dn ?? decodeURIComponent(path.replace(/^\/api\/mo\//, "").replace(/\.json$/, ""));
    const status = attrs.status;
    delete attrs.status;
    delete attrs.dn;
    let descr: string;
    if (status === "deleted") {
      if (!this.delete(dn)) {
        this.reply(res, 400, envelope(400, `MO ${dn} does not exist`));
        return;
      }
      descr = `${cls} ${dn} deleted`;
    } else if (this.store.get(dn)) {
      this.modify(dn, attrs);
      descr = `${cls} ${dn} modified`;
    } else {
      this.create(cls, dn, attrs);
      descr = `${cls} ${dn} created`;
    }
    this.recordAudit(dn, descr, s.user);
    this.reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
  }

  /** An aaaModLR audit record for a config change (append-only, `created` only). */
  recordAudit(affected: string, descr: string, user = "admin"): void {
    const id = this.store.nextRecordId();
    this.create("aaaModLR", `subj-[${affected}]/mod-${id}`, { affected, descr, id, created: new Date().toISOString().replace("Z", "+00:00"), user, txId: id });
  }

  private onControl(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const u = new URL(raw, "http://sim");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const ok = (o: unknown): void => this.reply(res, 200, JSON.stringify(o));
      try {
        switch (u.pathname) {
          case "/_sim/stats":
            ok(this.liveStats());
            return;
          case "/_sim/change": {
            const b = JSON.parse(text) as { op?: string; class?: string; dn?: string; attributes?: Record<string, string> };
            if (typeof b.dn !== "string") throw new Error("dn required");
            if (b.op === "delete") ok({ deleted: this.delete(b.dn) });
            else if (b.op === "modify") ok({ modified: this.modify(b.dn, b.attributes ?? {}) });
            else {
              if (typeof b.class !== "string") throw new Error("class required");
              this.create(b.class, b.dn, b.attributes ?? {});
              ok({ created: true });
            }
            return;
          }
          case "/_sim/expire-tokens":
            this.expireTokens();
            ok({ expired: true });
            return;
          case "/_sim/refuse-queries":
            this.refuseQueries(u.searchParams.get("match") ?? undefined);
            ok({ refusing: this.refusing ?? null });
            return;
          case "/_sim/lapse-subscriptions":
            this.lapseSubscriptions();
            ok({ lapsed: true });
            return;
          case "/_sim/kill-sockets": {
            const mode = (u.searchParams.get("mode") ?? "close") as KillMode;
            if (!["close", "reset", "silent"].includes(mode)) throw new Error("mode must be close, reset or silent");
            ok({ killed: this.killSockets(mode) });
            return;
          }
          case "/_sim/fail": {
            const m = u.searchParams.get("mode") ?? "hang";
            if (!["hang", "refuse", "error", "off"].includes(m)) throw new Error("mode must be hang, refuse, error or off");
            this.fail(m === "off" ? false : (m as FailMode));
            ok({ fail: m });
            return;
          }
          case "/_sim/flood": {
            const n = Number(u.searchParams.get("n") ?? "1000");
            const mode = u.searchParams.get("mode") === "create" ? "create" : "modify";
            if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new Error("n must be 1..10000000");
            void this.flood(n, mode);
            ok({ flooding: n, mode });
            return;
          }
          case "/_sim/raw":
            ok({ sent: this.sendRaw(text) });
            return;
          default:
            this.reply(res, 404, JSON.stringify({ error: `unknown control ${u.pathname}` }));
        }
      } catch (e) {
        this.reply(res, 400, JSON.stringify({ error: (e as Error).message }));
      }
    });
  }

  // ---- WebSocket -------------------------------------------------------------------------

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const raw = req.url ?? "";
    this.requests.push(`UPGRADE ${raw}`);
    if (this.failMode === "hang") return; // left hanging: the client's handshake timeout must fire
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${envelope(status, text)}`);
    };
    if (this.failMode === "error") {
      refuse(503, "Service Unavailable");
      return;
    }
    // Everything after the literal `/socket` is the token, even `/`, `+`, `=`.
    if (!raw.startsWith("/socket")) {
      refuse(404, "Not Found");
      return;
    }
    const s = this.sessionFor(raw.slice("/socket".length));
    if (!s) {
      refuse(this.policy.badSocketToken, "Token was invalid (Error: Token timeout)");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.policy.secondSocket === "replace") for (const old of [...s.sockets]) this.dropSocket(s, old, "close");
      s.sockets.add(ws);
      ws.on("close", () => this.socketGone(s, ws));
      ws.on("error", () => this.socketGone(s, ws));
    });
  }

  private socketGone(s: Session, ws: WebSocket): void {
    if (!s.sockets.delete(ws)) return;
    if (!this.policy.subscriptionsSurviveSocketLoss && s.sockets.size === 0) s.subs.clear();
  }

  private dropSocket(s: Session, ws: WebSocket, mode: KillMode): void {
    if (mode === "close") {
      ws.close(1001, "going away");
      this.socketGone(s, ws);
    } else if (mode === "reset") {
      ws.terminate();
      this.socketGone(s, ws);
    } else {
      // Half-open: stop reading (so pings go unanswered) and never write again.
      const sock = (ws as unknown as { _socket?: Socket })._socket;
      sock?.pause();
      this.socketGone(s, ws);
      this.silenced.add(ws);
    }
  }

  private readonly silenced = new Set<WebSocket>();

  private endSession(s: Session, mode: KillMode): void {
    for (const ws of [...s.sockets]) this.dropSocket(s, ws, mode);
    s.subs.clear();
    this.sessions.delete(s);
    for (const [t, v] of this.tokens) if (v.session === s) this.tokens.delete(t);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [t, v] of this.tokens) if (v.expiresAt < now) this.tokens.delete(t);
    for (const s of [...this.sessions]) {
      if (s.tokenExpiresAt < now || s.maxAt < now) {
        // The session is over: its socket goes with it (graceful close, as a web server would).
        if (this.policy.closeSocketOnTokenExpiry) this.endSession(s, "close");
        else {
          s.subs.clear();
          this.sessions.delete(s);
        }
        continue;
      }
      for (const [id, sub] of s.subs) if (sub.expiresAt + this.o.expiryGraceMs < now) s.subs.delete(id);
    }
    for (const ws of this.silenced) if (ws.readyState === WebSocket.CLOSED) this.silenced.delete(ws);
    this.emit("activity");
  }

  // ---- notifications ---------------------------------------------------------------------

  private publish(changes: MoChange[]): void {
    for (const c of changes) {
      this.stats.changes++;
      for (const fn of this.changeListeners) fn(c);
      for (const s of this.sessions) {
        if (s.sockets.size === 0) continue;
        const ids: string[] = [];
        for (const sub of s.subs.values()) if (sub.query.matches(c.cls, c.dn, c.full)) ids.push(sub.id);
        if (ids.length === 0) continue;
        s.pending.push({ ids, change: c });
        if (s.pending.length >= this.policy.batch) this.flush(s);
        else if (s.pending.length === 1) setImmediate(() => this.flush(s));
      }
    }
  }

  private flush(s: Session): void {
    if (s.pending.length === 0) return;
    const batch = s.pending.splice(0);
    const ids = [...new Set(batch.flatMap((b) => b.ids))];
    const frame = JSON.stringify({ subscriptionId: ids, imdata: batch.map((b) => ({ [b.change.cls]: { attributes: b.change.attrs } })) });
    const send = (): void => {
      for (const ws of [...s.sockets]) {
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(frame);
          this.stats.framesSent++;
          const limit = this.policy.maxSocketBacklogBytes;
          if (limit > 0 && ws.bufferedAmount > limit) {
            this.stats.slowSocketsDropped++;
            this.dropSocket(s, ws, "reset");
          }
        }
      }
    };
    if (this.policy.notifyDelayMs > 0) setTimeout(send, this.policy.notifyDelayMs).unref();
    else send();
  }
}
