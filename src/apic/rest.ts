import http from "node:http";
import https from "node:https";
import axios, { AxiosInstance } from "axios";
import { ApicError, ApicReply, decodeReply } from "./envelope";

export interface RestOptions {
  /** TLS options for https hosts (ca, cert, key, rejectUnauthorized, servername ...). */
  tls?: Record<string, unknown>;
  /** Per-request timeout; a controller that stops answering must not hang us. Default 15 s. */
  timeoutMs?: number;
  /** Largest reply accepted (a huge snapshot is refused, not buffered forever). Default 64 MB. */
  maxReplyBytes?: number;
}

export interface RestReply {
  status: number;
  reply: ApicReply;
  /** The `APIC-cookie` value from Set-Cookie, if the server sent one. */
  cookie?: string;
}

/**
 * The REST half of one controller: axios with our own agents (keep-alive, TLS options), the
 * session cookie sent as exactly one `APIC-cookie` (duplicates make APIC accept the subscribe
 * but never push), replies decoded by hand so an error envelope becomes an ApicError.
 */
export class ApicRest {
  private readonly axios: AxiosInstance;
  private readonly agent: http.Agent;

  constructor(
    readonly baseUrl: string,
    opts: RestOptions = {},
  ) {
    const u = new URL(baseUrl);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new ApicError("request", `controller address must be http(s)://, not ${baseUrl}`);
    this.agent = u.protocol === "https:" ? new https.Agent({ keepAlive: true, ...(opts.tls ?? {}) }) : new http.Agent({ keepAlive: true });
    this.axios = axios.create({
      baseURL: baseUrl.replace(/\/+$/, ""),
      timeout: opts.timeoutMs ?? 15000,
      maxContentLength: opts.maxReplyBytes ?? 64 * 1024 * 1024,
      maxRedirects: 0,
      proxy: false,
      responseType: "text",
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      httpAgent: this.agent,
      httpsAgent: this.agent,
    });
  }

  async request(method: "GET" | "POST", path: string, what: string, cookie?: string, body?: unknown, timeoutMs?: number): Promise<RestReply> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (cookie !== undefined) headers.Cookie = `APIC-cookie=${cookie}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await this.axios.request<string>({
        method,
        url: path,
        headers,
        data: body === undefined ? undefined : JSON.stringify(body),
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
      });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      const code = err.code ?? err.message ?? String(e);
      if (/CERT|SELF_SIGNED|VERIFY|ERR_TLS/.test(code)) {
        throw new ApicError("network", `certificate not trusted (${code}): ${what} to ${this.baseUrl}; add the controller's CA in the TLS configuration`);
      }
      throw new ApicError("network", `unreachable (${code}): ${what} to ${this.baseUrl}`);
    }
    const raw = typeof res.data === "string" ? res.data : String(res.data ?? "");
    const reply = decodeReply(res.status, raw, what);
    return { status: res.status, reply, cookie: cookieFrom(res.headers["set-cookie"]) };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The last `APIC-cookie=` in Set-Cookie headers (attributes after `;` ignored). */
export function cookieFrom(setCookie: unknown): string | undefined {
  const list = Array.isArray(setCookie) ? setCookie : typeof setCookie === "string" ? [setCookie] : [];
  let found: string | undefined;
  for (const h of list) {
    const m = /(?:^|;\s*)APIC-cookie=([^;]*)/.exec(String(h));
    if (m) found = m[1];
  }
  return found;
}
