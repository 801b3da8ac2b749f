import WebSocket from "ws";
import { ApicError } from "./envelope";

export interface SocketOptions {
  tls?: Record<string, unknown>;
  /** Time allowed for the WebSocket upgrade. */
  handshakeTimeoutMs: number;
  /** Frames above this size are refused by ws itself and end the socket (memory guard). */
  hardMaxBytes: number;
}

/** `https://apic:8443/` + token -> `wss://apic:8443/socket<token>` (token appended raw: APIC wants it so). */
export function socketUrl(baseUrl: string, token: string): string {
  const u = new URL(baseUrl);
  const scheme = u.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${u.host}/socket${token}`;
}

/**
 * Open the session's one WebSocket. Resolves once open; rejects with an ApicError (kind
 * network, or token when the upgrade is refused with 401/403) so the caller can decide whether
 * to log in again or move to the next controller.
 */
export function openSocket(baseUrl: string, token: string, opts: SocketOptions, signal: AbortSignal): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(socketUrl(baseUrl, token), {
      handshakeTimeout: opts.handshakeTimeoutMs,
      maxPayload: opts.hardMaxBytes,
      perMessageDeflate: false,
      followRedirects: false,
      // ws would close the whole socket (1007) on one text frame with bad UTF-8; we would rather
      // drop that frame (it then fails JSON parsing and is counted) and keep the session.
      skipUTF8Validation: true,
      ...(baseUrl.startsWith("https:") ? (opts.tls ?? {}) : {}),
    });
    const onAbort = (): void => {
      ws.terminate();
      reject(new ApicError("network", "socket open aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const done = (): void => {
      signal.removeEventListener("abort", onAbort);
      ws.removeListener("open", onOpen);
      ws.removeListener("error", onError);
      ws.removeListener("unexpected-response", onUnexpected);
    };
    const onOpen = (): void => {
      done();
      resolve(ws);
    };
    const onError = (e: Error): void => {
      done();
      ws.terminate();
      reject(new ApicError("network", `WebSocket to ${baseUrl} failed: ${e.message}`));
    };
    const onUnexpected = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
      done();
      res.resume();
      ws.terminate();
      const status = res.statusCode ?? 0;
      reject(
        new ApicError(
          status === 401 || status === 403 ? "token" : status >= 500 ? "server" : "network",
          `WebSocket upgrade refused with HTTP ${status}`,
          status,
        ),
      );
    };
    ws.once("open", onOpen);
    ws.once("error", onError);
    ws.once("unexpected-response", onUnexpected);
  });
}
