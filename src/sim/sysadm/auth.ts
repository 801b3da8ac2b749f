import { randomInt } from "node:crypto";
import type { SysadmSimSettings } from "./options";

const TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * The server's tokens and its failure blacklist (docs/sysadm.md §3): 20-character tokens with
 * a sliding lifetime, the empty-token bug as a switch, and per-IP failure counting.
 */
export class AuthTable {
  private readonly tokens = new Map<string, { user: string; expiresAt: number }>();
  private readonly failures = new Map<string, { count: number; lastAt: number }>();
  private readonly blacklist = new Map<string, number>();

  constructor(
    private readonly opts: SysadmSimSettings,
    private readonly stats: { authFailures: number },
  ) {}

  get size(): number {
    return this.tokens.size;
  }

  /** A new token for `user`. */
  issue(user: string): string {
    const token = newToken();
    this.tokens.set(token, { user, expiresAt: Date.now() + this.opts.tokenLifetimeMs });
    return token;
  }

  /** auth_token: a live token slides on; false when it is unknown or expired. */
  renew(token: string): boolean {
    const rec = token !== "" ? this.tokens.get(token) : undefined;
    if (!rec || rec.expiresAt <= Date.now()) return false;
    rec.expiresAt = Date.now() + this.opts.tokenLifetimeMs;
    return true;
  }

  forget(token: string): void {
    this.tokens.delete(token);
  }

  userOf(token: string): string | undefined {
    return this.tokens.get(token)?.user;
  }

  /** Valid token on a socket? `slide` renews it, like every passed auth check does. */
  valid(token: string, slide: boolean): boolean {
    const now = Date.now();
    if (token === "") {
      if (!this.opts.legacyEmptyToken) return false;
      // The real bug: "" matches every stored key, so it passes while anyone is logged in.
      for (const rec of this.tokens.values()) if (rec.expiresAt > now) return true;
      return false;
    }
    const rec = this.tokens.get(token);
    if (!rec || rec.expiresAt <= now) return false;
    if (slide) rec.expiresAt = now + this.opts.tokenLifetimeMs;
    return true;
  }

  /** Every token stops being valid now. */
  expireAll(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  /** A service restart: every token is gone. */
  clear(): void {
    this.tokens.clear();
  }

  recordFailure(ip: string): void {
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

  isBlacklisted(ip: string): boolean {
    const until = this.blacklist.get(ip);
    return until !== undefined && until > Date.now();
  }
}

function newToken(): string {
  let s = "";
  for (let i = 0; i < 20; i++) s += TOKEN_CHARS[randomInt(0, TOKEN_CHARS.length)];
  return s;
}
