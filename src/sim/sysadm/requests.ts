import { randomInt } from "node:crypto";
import WebSocket from "ws";
import type { AuthTable } from "./auth";
import { errorFrame, eventFrame, replyFrame } from "./envelope";
import { genericJobEvents } from "./generators";
import type { SysadmSimSettings } from "./options";

const EVENT_TYPES = new Set(["dispatcher", "life-preserver", "system-state"]);

/** One client connection. */
export interface Conn {
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

/** What the request side uses of the simulator. */
export interface RequestHost {
  readonly opts: SysadmSimSettings;
  readonly auth: AuthTable;
  /** The cached event of each cached type: sent on subscribe (§4.1). */
  readonly cache: Map<string, unknown>;
  readonly stats: { requests: number };
  publish(name: string, args: unknown): number;
  /** Run `fn` after `ms` (cancelled when the simulator closes). */
  later(fn: () => void, ms: number): void;
  /** Every request, for tests (the `request` event). */
  request(r: SimRequest): void;
}

/**
 * The requests a client sends over its socket (docs/sysadm.md §2–§4): the bridge-id prefix,
 * rpc identify, auth*, query, dispatcher and logs, events subscribe and unsubscribe, string error codes,
 * and the real server's reply order for pooled requests.
 */
export class SysadmRequests {
  constructor(private readonly sim: RequestHost) {}

  onFrame(c: Conn, text: string): void {
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
    this.sim.stats.requests++;
    if (!namespace || !name) {
      send(errorFrame(id, "400"));
      return;
    }
    const { opts, auth } = this.sim;
    const ns = namespace.toLowerCase();
    const pooled = (frame: string) => this.pooledReply(c, () => send(frame));
    const authed = ns === "rpc" && (name === "identify" || name.startsWith("auth")) ? false : auth.valid(c.token, true);
    this.sim.request({ namespace, name, id, args, authenticated: authed });

    if (ns === "rpc") {
      if (name === "identify") return send(replyFrame(namespace, name, id, { type: "server", hostname: opts.hostname }));
      if (name === "auth" || name === "auth_token" || name === "auth_clear" || name === "auth_ssl") return this.onAuth(c, name, id, args, namespace, send);
      if (!authed) return pooled(errorFrame(id, "401"));
      if (name === "query") {
        // The real server's AvailableSubsystems: "read/write" per subsystem, and "read" for logs
        // and the dispatcher without full access (operator, not wheel). Listed: what we serve.
        const full = !opts.operators.has(auth.userOf(c.token) ?? "");
        const rw = full ? "read/write" : "read";
        return pooled(
          replyFrame(namespace, name, id, { "rpc/dispatcher": rw, "rpc/logs": rw, "sysadm/lifepreserver": "read/write", "sysadm/update": "read/write" }),
        );
      }
      if (name === "dispatcher") {
        // Limited (operator) access: running jobs is for wheel members only (§2.3).
        if (opts.operators.has(auth.userOf(c.token) ?? "")) return pooled(errorFrame(id, "403"));
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
          if (this.sim.cache.has(t)) send(eventFrame(t, this.sim.cache.get(t)));
          c.subs.add(t);
        } else c.subs.delete(t);
        last = t;
      }
      return pooled(replyFrame(namespace, name, id, last === undefined ? {} : { [name]: last }));
    }
    return pooled(errorFrame(id, "404"));
  }

  private onAuth(c: Conn, name: string, id: string, args: unknown, namespace: string, send: (f: string) => void): void {
    const { opts, auth } = this.sim;
    // Every auth* first invalidates the socket's current token (§3): so auth_token with your
    // own current token kills it and fails.
    if (c.token) auth.forget(c.token);
    c.token = "";
    if (name === "auth_clear") return; // never answered
    const a = (typeof args === "object" && args !== null ? args : {}) as Record<string, unknown>;
    let user: string | undefined;
    if (name === "auth") {
      const u = a.username;
      const p = a.password;
      if (typeof u === "string" && typeof p === "string" && Object.prototype.hasOwnProperty.call(opts.users, u) && opts.users[u] === p) user = u;
    } else if (name === "auth_token") {
      const t = a.token;
      if (typeof t === "string" && auth.renew(t)) {
        c.token = t;
        return send(replyFrame(namespace, name, id, [t, 0]));
      }
    }
    if (user !== undefined && !auth.isBlacklisted(c.ip)) {
      const token = auth.issue(user);
      c.token = token;
      // The seconds field is always 0 on real servers (§3).
      return send(replyFrame(namespace, name, id, [token, 0]));
    }
    auth.recordFailure(c.ip);
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
      this.sim.later(() => this.sim.publish("dispatcher", events[0]), 5);
      this.sim.later(() => this.sim.publish("dispatcher", events[1]), 50);
    }
    if (!started.length) return pooled(errorFrame(id, "400"));
    pooled(replyFrame(namespace, name, id, { started }));
  }

  /** Requests other than auth and identify run on a thread pool in the real server: reorder. */
  private pooledReply(c: Conn, sendIt: () => void): void {
    const { opts } = this.sim;
    switch (opts.reorder) {
      case "none":
        return sendIt();
      case "random":
        this.sim.later(sendIt, randomInt(0, opts.reorderMaxMs + 1));
        return;
      case "reverse": {
        const held = c.held;
        held.push(sendIt);
        if (held.length === 1) {
          this.sim.later(() => {
            const all = held.splice(0);
            for (const f of all.reverse()) f();
          }, opts.reorderMaxMs);
        }
      }
    }
  }
}
