/**
 * What the APIC simulator can be told: its options, the behaviours that differ between APIC
 * releases (SimPolicy), the failure modes of the control API, and the counters it keeps.
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

/** The options with their defaults filled in. */
export type ApicSimSettings = Required<Omit<ApicSimOptions, "tls" | "policy">> & Pick<ApicSimOptions, "tls">;

export type FailMode = "hang" | "refuse" | "error" | false;
export type KillMode = "close" | "reset" | "silent";

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

export function apicSimSettings(options: ApicSimOptions): ApicSimSettings {
  return {
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
}

export function apicSimPolicy(options: ApicSimOptions): SimPolicy {
  return { ...DEFAULT_POLICY, ...(options.policy ?? {}) };
}

export function zeroStats(): SimStats {
  return {
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
}

/** APIC's error reply: `{totalCount, imdata: [{error: {attributes: {code, text}}}]}`. */
export function envelope(code: number, text: string): string {
  return JSON.stringify({ totalCount: "1", imdata: [{ error: { attributes: { code: String(code), text } } }] });
}
