import { randomBytes } from "node:crypto";
import type http from "node:http";
import type { Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import type { MoChange } from "./mo-store";
import { ApicSimSettings, envelope, KillMode, SimPolicy, SimStats } from "./policy";
import type { SimQuery } from "./query";

export interface Sub {
  id: string;
  path: string;
  query: SimQuery;
  ttlMs: number;
  expiresAt: number;
}

export interface Session {
  id: string;
  user: string;
  createdAt: number;
  maxAt: number;
  tokenExpiresAt: number;
  sockets: Set<WebSocket>;
  subs: Map<string, Sub>;
  pending: Array<{ ids: string[]; change: MoChange }>;
}

/**
 * The WebSocket and subscription side of the APIC simulator: logged-in sessions and their
 * tokens, the socket each session opens at `/socket<token>`, the query subscriptions that
 * lapse without a refresh, and the notification frames pushed to the sockets.
 */
export class SessionTable {
  readonly sessions = new Set<Session>();
  private readonly tokens = new Map<string, { session: Session; expiresAt: number }>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  /** Half-open sockets (kill mode `silent`): nobody else ends them, so close() does. */
  private readonly silenced = new Set<WebSocket>();
  private nextSubId = 72057594037927937n;
  private sessionSeq = 0;

  constructor(
    private readonly o: ApicSimSettings,
    private readonly policy: SimPolicy,
    private readonly stats: SimStats,
  ) {}

  /** A session for a successful login; its token comes from `newToken`. */
  open(user: string): Session {
    const now = Date.now();
    const s: Session = {
      id: `sim-${++this.sessionSeq}`,
      user,
      createdAt: now,
      maxAt: now + this.o.maxLifetimeSeconds * 1000,
      tokenExpiresAt: 0,
      sockets: new Set(),
      subs: new Map(),
      pending: [],
    };
    this.sessions.add(s);
    return s;
  }

  sessionFor(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const t = this.tokens.get(token);
    if (!t || t.expiresAt < Date.now() || !this.sessions.has(t.session)) return undefined;
    return t.session;
  }

  newToken(s: Session): string {
    let token: string;
    if (this.policy.tokenStyle === "classic") {
      // Pre-4.x style: base64 with / + = that must travel raw in /socket<token>.
      token = `${randomBytes(2).toString("base64").replace(/[^/+]/g, "")}/+${randomBytes(30).toString("base64")}`;
    } else {
      const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");
      const iat = Math.floor(Date.now() / 1000);
      token = `${b64({ alg: "RS256", kid: "sim", typ: "jwt" })}.${b64({ rbac: [{ domain: "all", rolesR: 1, rolesW: 1 }], iss: "ACI APIC", username: s.user, sessionid: s.id, iat, exp: iat + Math.ceil(this.o.tokenTtlSeconds) })}.${randomBytes(32).toString("base64url")}`;
    }
    this.renewToken(s, token);
    return token;
  }

  /** The token's lifetime starts again (a refresh that keeps the token, or a new one). */
  renewToken(s: Session, token: string): void {
    const expiresAt = Date.now() + this.o.tokenTtlSeconds * 1000;
    this.tokens.set(token, { session: s, expiresAt });
    s.tokenExpiresAt = expiresAt;
  }

  /** A live subscription of session `s`; returns its id. */
  subscribe(s: Session, path: string, query: SimQuery, ttlMs: number): string {
    const id = String(this.nextSubId++);
    s.subs.set(id, { id, path, query, ttlMs, expiresAt: Date.now() + ttlMs });
    return id;
  }

  /** Every token expires now; the caller sweeps. */
  expireTokens(): void {
    const now = Date.now();
    for (const t of this.tokens.values()) t.expiresAt = now - 1;
    for (const s of this.sessions) s.tokenExpiresAt = now - 1;
  }

  lapseSubscriptions(): void {
    for (const s of this.sessions) s.subs.clear();
  }

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

  endSession(s: Session, mode: KillMode): void {
    for (const ws of [...s.sockets]) this.dropSocket(s, ws, mode);
    s.subs.clear();
    this.sessions.delete(s);
    for (const [t, v] of this.tokens) if (v.session === s) this.tokens.delete(t);
  }

  /** Expire tokens, sessions and unrefreshed subscriptions. */
  sweep(): void {
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
  }

  /** A socket upgrade at `/socket<token>`; `unavailable` = the controller answers 503. */
  upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer, unavailable: boolean): void {
    const raw = req.url ?? "";
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${envelope(status, text)}`);
    };
    if (unavailable) {
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

  /** Queue a change for every session with a matching subscription. */
  deliver(c: MoChange): void {
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

  subscriptionIds(): string[] {
    return [...this.sessions].flatMap((s) => [...s.subs.keys()]);
  }

  counts(): Pick<SimStats, "openSockets" | "sessions" | "liveSubscriptions"> {
    let sockets = 0;
    let subs = 0;
    for (const s of this.sessions) {
      sockets += [...s.sockets].filter((w) => w.readyState === WebSocket.OPEN).length;
      subs += s.subs.size;
    }
    return { openSockets: sockets, sessions: this.sessions.size, liveSubscriptions: subs };
  }

  /** Every socket is terminated (simulator closing). */
  terminate(): void {
    for (const s of this.sessions) for (const ws of s.sockets) ws.terminate();
    for (const ws of this.silenced) ws.terminate();
  }

  closeServer(): void {
    this.wss.close();
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
