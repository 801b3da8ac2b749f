import type { Backoff } from "../core/backoff";
import type { Clock } from "../core/clock";
import { ApicError } from "./envelope";
import type { Credentials } from "./session";

export interface ApicClientOptions {
  /** Controller addresses, tried in order; on failure the next one is used. */
  hosts: string[];
  credentials: Credentials;
  /** TLS options for https controllers (from tls-config: ca, rejectUnauthorized, ...). */
  tls?: Record<string, unknown>;
  clock?: Clock;
  /**
   * The reconnect schedule. A hold-off after repeated password rejections is always added
   * (core AuthAwareBackoff), so a wrong password never trips APIC's lockout policy.
   */
  backoff?: Backoff;
  /** Per REST request. Default 15 s. */
  requestTimeoutMs?: number;
  /** Login + socket open must finish within this. Default 20 s. */
  handshakeTimeoutMs?: number;
  /** WebSocket ping period; a missing pong for two periods ends the connection. Default 30 s; 0 = off. */
  pingIntervalMs?: number;
  /** refresh-timeout sent with every subscription (seconds); undefined = APIC default (60 s). */
  refreshTimeoutSeconds?: number;
  /** Frames above this are dropped and counted, the socket stays. Default 4 MB. */
  maxFrameBytes?: number;
  /** Frames for ids not known yet, kept while a subscribe is in flight. Default 1000. */
  maxBufferedFrames?: number;
  /** Renew the session this long before its maximum lifetime. Default 10% of it, at most 600 s. */
  maxLifetimeMarginSeconds?: number;
  /** After a renewal, copies of a change from the old socket are still matched this long. Default 5 s. */
  renewalOverlapMs?: number;
  /** Retry of a query APIC refused (400): first delay, doubling up to the cap. Default 5 s to 5 min. */
  queryRetryInitialMs?: number;
  queryRetryMaxMs?: number;
}

/** The options with every default filled in. */
export type ResolvedApicOptions = Required<Omit<ApicClientOptions, "tls" | "clock" | "backoff" | "refreshTimeoutSeconds" | "maxLifetimeMarginSeconds">> &
  ApicClientOptions;

/** Checks the controller addresses (throws on none or a malformed one, before any connect) and fills in the defaults. */
export function resolveOptions(options: ApicClientOptions): ResolvedApicOptions {
  if (!Array.isArray(options.hosts) || options.hosts.length === 0) throw new ApicError("request", "no APIC controller address configured");
  for (const h of options.hosts) new URL(h); // throws on a malformed address, before any connect
  return {
    requestTimeoutMs: 15000,
    handshakeTimeoutMs: 20000,
    pingIntervalMs: 30000,
    maxFrameBytes: 4 * 1024 * 1024,
    maxBufferedFrames: 1000,
    renewalOverlapMs: 5000,
    queryRetryInitialMs: 5000,
    queryRetryMaxMs: 300000,
    ...options,
  };
}
