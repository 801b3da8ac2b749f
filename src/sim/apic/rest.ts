import type http from "node:http";
import { WebSocket } from "ws";
import type { MoStore } from "./mo-store";
import { ApicSimSettings, envelope, SimPolicy, SimStats } from "./policy";
import { parseQuery, QueryParseError, runQuery, SimQuery } from "./query";
import type { Session, SessionTable } from "./sessions";

/** Writes one JSON reply (nothing once the response has ended) and reports the activity. */
export type Reply = (res: http.ServerResponse, status: number, body: string, headers?: Record<string, string>) => void;

/** What the REST API uses of the simulator. */
export interface RestHost {
  readonly o: ApicSimSettings;
  readonly policy: SimPolicy;
  readonly stats: SimStats;
  readonly store: MoStore;
  readonly table: SessionTable;
  readonly reply: Reply;
  secure(): boolean;
  /** Queries whose request line contains this are refused (see ApicSimulator.refuseQueries). */
  refusing(): string | undefined;
  /** Changes go through the simulator, which publishes them. */
  create(cls: string, dn: string, attrs: Record<string, string>): void;
  modify(dn: string, changes: Record<string, string>): boolean;
  delete(dn: string): boolean;
  recordAudit(affected: string, descr: string, user?: string): void;
  /** A subscription is registered (before its reply is sent). */
  subscribed(id: string): void;
}

/**
 * APIC's REST API as a subscription client uses it: aaaListDomains, aaaLogin/aaaRefresh/
 * aaaLogout, class and MO queries (with `subscription=yes`), subscriptionRefresh, and config
 * POSTs under /api/mo/ that leave an aaaModLR audit record.
 */
export class ApicRest {
  constructor(private readonly sim: RestHost) {}

  /** Read the body (1 MB at most) and answer the request. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) {
        this.sim.reply(res, 413, envelope(413, "request body too large"));
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
        this.sim.reply(res, 500, envelope(500, `simulator error: ${(e as Error).message}`));
      }
    });
  }

  private cookieToken(req: http.IncomingMessage): string | undefined {
    // Loose, like APIC: the last APIC-cookie wins; `path=/; HttpOnly` junk is ignored.
    const h = req.headers.cookie;
    if (!h) return undefined;
    let found: string | undefined;
    for (const m of h.matchAll(/(?:^|;)\s*APIC-cookie=([^;]*)/g)) found = m[1].trim();
    return found;
  }

  private loginReply(res: http.ServerResponse, s: Session, token: string): void {
    const o = this.sim.o;
    const attrs = {
      token,
      siteFingerprint: "sim",
      refreshTimeoutSeconds: String(o.tokenTtlSeconds),
      maximumLifetimeSeconds: String(o.maxLifetimeSeconds),
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
      version: o.version,
      buildTime: "Sat Jan 01 00:00:00 UTC 2022",
      node: "topology/pod-1/node-1",
    };
    const cookie = `APIC-cookie=${token}; path=/; HttpOnly${this.sim.secure() ? "; Secure" : ""}`;
    this.sim.reply(res, 200, JSON.stringify({ totalCount: "1", imdata: [{ aaaLogin: { attributes: attrs, children: [] } }] }), { "Set-Cookie": cookie });
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, raw: string, body: string): void {
    const { o, policy, stats, table, reply } = this.sim;
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const rawQuery = q < 0 ? "" : raw.slice(q + 1);
    const method = req.method ?? "GET";

    if (path === "/api/aaaListDomains.json") {
      reply(res, 200, JSON.stringify({ imdata: [{ name: "local" }, { name: "RADIUS" }] }));
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
        reply(res, 400, envelope(400, "Failed to parse login request"));
        return;
      }
      if (typeof name !== "string" || typeof pwd !== "string" || o.users[name] === undefined || o.users[name] !== pwd) {
        stats.loginFailures++;
        reply(res, 401, envelope(401, "Username or password is incorrect - FAILED local authentication"));
        return;
      }
      const s = table.open(name);
      stats.logins++;
      this.loginReply(res, s, table.newToken(s));
      return;
    }

    const token = this.cookieToken(req);
    const s = table.sessionFor(token);
    if (!s) {
      reply(res, 403, envelope(403, "Token was invalid (Error: Token timeout)"));
      return;
    }
    if (path === "/api/aaaRefresh.json") {
      if (Date.now() >= s.maxAt) {
        reply(res, 403, envelope(403, "Token was invalid (Error: Token timeout)"));
        return;
      }
      stats.tokenRefreshes++;
      let next = token!;
      if (policy.tokenChangesOnRefresh) next = table.newToken(s);
      else table.renewToken(s, next);
      this.loginReply(res, s, next);
      return;
    }
    if (path === "/api/aaaLogout.json") {
      stats.logouts++;
      table.endSession(s, "close");
      reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
      return;
    }
    if (path === "/api/subscriptionRefresh.json") {
      const id = new URLSearchParams(rawQuery).get("id") ?? "";
      const sub = s.subs.get(id);
      stats.subscriptionRefreshes++;
      if (!sub || sub.expiresAt < Date.now()) {
        if (sub) s.subs.delete(id);
        stats.refreshFailures++;
        if (policy.unknownRefresh === "error") reply(res, 400, envelope(400, `Subscription ${id} does not exist or has expired`));
        else reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
        return;
      }
      sub.expiresAt = Date.now() + sub.ttlMs;
      reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
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
      reply(res, 400, envelope(400, e instanceof QueryParseError ? `Unable to process the query: ${e.message}` : String(e)));
      return;
    }
    if (!query || method !== "GET") {
      reply(res, 400, envelope(400, `Request failed, unknown path ${path}`));
      return;
    }
    const refusing = this.sim.refusing();
    if (refusing !== undefined && raw.includes(refusing)) {
      reply(res, 400, envelope(400, `Unable to process the query: refused by the simulator (${refusing})`));
      return;
    }
    const imdata = runQuery(query, this.sim.store);
    if (query.params.get("subscription") === "yes") {
      if (![...s.sockets].some((w) => w.readyState === WebSocket.OPEN)) {
        reply(res, 405, envelope(405, "Subscription request failed, unable to locate opened web socket. Please re-login to the application"));
        return;
      }
      const rt = Number(query.params.get("refresh-timeout") ?? "");
      const ttlMs = (Number.isFinite(rt) && rt > 0 ? rt : o.subscriptionTtlSeconds) * 1000;
      const id = table.subscribe(s, path, query, ttlMs);
      stats.subscribes++;
      this.sim.subscribed(id);
      const body = JSON.stringify({ totalCount: String(imdata.length), subscriptionId: id, imdata });
      if (policy.subscribeReplyDelayMs > 0) setTimeout(() => reply(res, 200, body), policy.subscribeReplyDelayMs).unref();
      else reply(res, 200, body);
      return;
    }
    reply(res, 200, JSON.stringify({ totalCount: String(imdata.length), imdata }));
  }

  /** POST /api/mo/<dn>.json {cls: {attributes}}: create, modify or (status "deleted") delete, plus an aaaModLR. */
  private configPost(res: http.ServerResponse, s: Session, path: string, body: string): void {
    const reply = this.sim.reply;
    let cls: string;
    let attrs: Record<string, string>;
    try {
      const b = JSON.parse(body) as Record<string, { attributes?: Record<string, string> }>;
      const keys = Object.keys(b);
      if (keys.length !== 1 || typeof b[keys[0]]?.attributes !== "object") throw new Error("one {class: {attributes}} object expected");
      cls = keys[0];
      attrs = { ...b[cls].attributes! };
    } catch (e) {
      reply(res, 400, envelope(400, `Failed to parse request: ${(e as Error).message}`));
      return;
    }
    const dn = attrs.dn ?? decodeURIComponent(path.replace(/^\/api\/mo\//, "").replace(/\.json$/, ""));
    const status = attrs.status;
    delete attrs.status;
    delete attrs.dn;
    let descr: string;
    if (status === "deleted") {
      if (!this.sim.delete(dn)) {
        reply(res, 400, envelope(400, `MO ${dn} does not exist`));
        return;
      }
      descr = `${cls} ${dn} deleted`;
    } else if (this.sim.store.get(dn)) {
      this.sim.modify(dn, attrs);
      descr = `${cls} ${dn} modified`;
    } else {
      this.sim.create(cls, dn, attrs);
      descr = `${cls} ${dn} created`;
    }
    this.sim.recordAudit(dn, descr, s.user);
    reply(res, 200, JSON.stringify({ totalCount: "0", imdata: [] }));
  }
}
