import { EventEmitter } from "node:events";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { listenOn } from "../listen";
import { handleControl } from "./control";
import { MoChange, MoStore } from "./mo-store";
import { ApicSimOptions, ApicSimSettings, apicSimPolicy, apicSimSettings, FailMode, KillMode, SimPolicy, SimStats, zeroStats } from "./policy";
import { ApicRest, Reply } from "./rest";
import { SessionTable } from "./sessions";
import type { WebSocket } from "ws";

export type { ApicSimOptions, FailMode, KillMode, SimPolicy, SimStats } from "./policy";

/**
 * An APIC as a subscription client sees it, on loopback: aaaLogin/aaaRefresh/aaaLogout with
 * expiring tokens, one WebSocket per session at `/socket<token>`, query subscriptions that
 * lapse without subscriptionRefresh, notifications in the 4.x/5.x JSON shapes, APIC's error
 * envelopes (401, 403 token timeout, 405 no socket, 400 lapsed id), and a control API to
 * inject changes and break things. What it does is listed in docs/apic.md ("The simulator").
 * The parts: the REST API (rest.ts), the sessions with their sockets and subscriptions
 * (sessions.ts), the managed objects (mo-store.ts) and the HTTP control API (control.ts);
 * this class holds them together and is the programmatic control API.
 *
 * Events for tests: `request` as each request arrives, `subscribed` when a subscription is
 * registered (before its reply is sent), `activity` after each reply and each expiry sweep.
 */
export class ApicSimulator extends EventEmitter {
  readonly store: MoStore;
  readonly policy: SimPolicy;
  readonly stats: SimStats = zeroStats();
  /** The last raw request lines (`GET /api/...?...`), newest last, at most 2000: tests check exact encoding. */
  readonly requests: string[] = [];
  private readonly server: http.Server | https.Server;
  private readonly table: SessionTable;
  private readonly rest: ApicRest;
  private readonly connections = new Set<Socket>();
  private readonly hung = new Set<http.ServerResponse>();
  private readonly changeListeners: Array<(c: MoChange) => void> = [];
  private failMode: FailMode = false;
  private refusingValue: string | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly o: ApicSimSettings;

  constructor(options: ApicSimOptions = {}) {
    super();
    this.o = apicSimSettings(options);
    this.policy = apicSimPolicy(options);
    this.store = new MoStore();
    if (this.o.seed) this.store.seed();
    this.table = new SessionTable(this.o, this.policy, this.stats);
    this.rest = new ApicRest({
      o: this.o,
      policy: this.policy,
      stats: this.stats,
      store: this.store,
      table: this.table,
      reply: this.reply,
      secure: () => this.secure,
      refusing: () => this.refusingValue,
      create: (cls, dn, attrs) => this.create(cls, dn, attrs),
      modify: (dn, changes) => this.modify(dn, changes),
      delete: (dn) => this.delete(dn),
      recordAudit: (affected, descr, user) => this.recordAudit(affected, descr, user),
      subscribed: (id) => this.emit("subscribed", id),
    });
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
    this.table.terminate();
    for (const r of this.hung) r.destroy();
    this.hung.clear();
    for (const c of this.connections) c.destroy();
    this.table.closeServer();
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

  /** An aaaModLR audit record for a config change (append-only, `created` only). */
  recordAudit(affected: string, descr: string, user = "admin"): void {
    const id = this.store.nextRecordId();
    this.create("aaaModLR", `subj-[${affected}]/mod-${id}`, { affected, descr, id, created: new Date().toISOString().replace("Z", "+00:00"), user, txId: id });
  }

  /** Every token expires now (as if nobody refreshed): 403 from now on, sockets closed per policy. */
  expireTokens(): void {
    this.table.expireTokens();
    this.sweep();
  }

  /**
   * Answer every query whose request line contains `match` with APIC's 400 envelope (as for a
   * bad filter), until called with undefined: lets tests make a refused query valid again.
   */
  refuseQueries(match: string | undefined): void {
    this.refusingValue = match === "" ? undefined : match;
  }

  /** What `refuseQueries` set (undefined: every query is served). */
  get refusing(): string | undefined {
    return this.refusingValue;
  }

  /** Every subscription lapses now (refreshes of their ids fail from now on). */
  lapseSubscriptions(): void {
    this.table.lapseSubscriptions();
  }

  /**
   * End every socket: `close` sends a close frame, `reset` drops TCP (client sees 1006), `silent`
   * stops reading and writing without telling anyone (a half-open link: only pings reveal it).
   */
  killSockets(mode: KillMode): number {
    return this.table.killSockets(mode);
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
    return this.table.backlogBytes();
  }

  /** Push raw data to every open socket (malformed-frame tests). */
  sendRaw(data: string | Buffer, binary = false): number {
    return this.table.sendRaw(data, binary);
  }

  /** The server side of every open session socket (tests watch what clients send on them). */
  openSockets(): WebSocket[] {
    return [...this.table.sessions].flatMap((sess) => [...sess.sockets]);
  }

  /** Ids of live subscriptions, all sessions. */
  subscriptionIds(): string[] {
    return this.table.subscriptionIds();
  }

  liveStats(): SimStats {
    return { ...this.stats, ...this.table.counts() };
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const raw = req.url ?? "/";
    if (this.requests.length >= 2000) this.requests.splice(0, 1000);
    this.requests.push(`${req.method} ${raw}`);
    this.emit("request", `${req.method} ${raw}`);
    if (raw.startsWith("/_sim/")) {
      handleControl(this, req, res, raw, this.reply);
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
    this.rest.handle(req, res, raw);
  }

  private readonly reply: Reply = (res, status, body, headers = {}) => {
    if (res.writableEnded) return;
    res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(body);
    this.emit("activity");
  };

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    this.requests.push(`UPGRADE ${req.url ?? ""}`);
    if (this.failMode === "hang") return; // left hanging: the client's handshake timeout must fire
    this.table.upgrade(req, socket, head, this.failMode === "error");
  }

  private sweep(): void {
    this.table.sweep();
    this.emit("activity");
  }

  private publish(changes: MoChange[]): void {
    for (const c of changes) {
      this.stats.changes++;
      for (const fn of this.changeListeners) fn(c);
      this.table.deliver(c);
    }
  }
}
