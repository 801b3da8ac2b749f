import { ApicError } from "./envelope";
import type { ApicRest } from "./rest";

export interface Credentials {
  username: string;
  password: string;
  /** Login domain (RADIUS, TACACS, LDAP realm); empty for the default domain. */
  domain?: string;
}

export interface SessionToken {
  token: string;
  /** Seconds the token lives without aaaRefresh (APIC default 600). */
  refreshTimeoutSeconds: number;
  /** Seconds after which a fresh login is required (APIC default 86400). */
  maximumLifetimeSeconds: number;
  version: string;
}

/** `apic:<domain>\<user>` selects a login domain (Cobra's form); no domain = plain user name. */
export function loginName(c: Credentials): string {
  const d = (c.domain ?? "").trim();
  return d ? `apic:${d}\\${c.username}` : c.username;
}

function readToken(reply: { imdata: unknown[] }, what: string, fallbackCookie?: string): SessionToken {
  const first = reply.imdata[0] as Record<string, { attributes?: Record<string, unknown> }> | undefined;
  // aaaRefresh answers with an aaaLogin object; accept aaaRefresh too, defensively.
  const attrs = first?.aaaLogin?.attributes ?? first?.aaaRefresh?.attributes;
  const token = attrs?.token ?? fallbackCookie;
  if (typeof token !== "string" || token === "") throw new ApicError("protocol", `${what}: reply carries no token`);
  const num = (v: unknown, d: number): number => {
    const n = Number(v);
    return Number.isFinite(n) && n > 0 ? n : d;
  };
  return {
    token,
    refreshTimeoutSeconds: num(attrs?.refreshTimeoutSeconds, 600),
    maximumLifetimeSeconds: num(attrs?.maximumLifetimeSeconds, 86400),
    version: typeof attrs?.version === "string" ? attrs.version : "",
  };
}

export async function login(rest: ApicRest, c: Credentials): Promise<SessionToken> {
  if (!c.username) throw new ApicError("auth", "aaaLogin: no user name configured");
  const body = { aaaUser: { attributes: { name: loginName(c), pwd: c.password ?? "" } } };
  const r = await rest.request("POST", "/api/aaaLogin.json", "aaaLogin", undefined, body);
  return readToken(r.reply, "aaaLogin", r.cookie);
}

/** aaaRefresh: the token changes on refresh (JWT era), so always adopt the one returned. */
export async function refresh(rest: ApicRest, token: string): Promise<SessionToken> {
  const r = await rest.request("GET", "/api/aaaRefresh.json", "aaaRefresh", token);
  return readToken(r.reply, "aaaRefresh", r.cookie);
}

/**
 * Best effort: APIC may keep the session until refreshes stop; we close the socket ourselves.
 * Short timeout: a redeploy must not keep a connection to a dead controller open for long.
 */
export async function logout(rest: ApicRest, token: string, c: Credentials, timeoutMs = 3000): Promise<void> {
  await rest.request("POST", "/api/aaaLogout.json", "aaaLogout", token, { aaaUser: { attributes: { name: loginName(c) } } }, timeoutMs);
}
