/** What the sysadm simulator can be told, and the settings it runs with (defaults filled in). */
export interface GeneratorOptions {
  /** A dispatcher job every N ms (alternating generic and pkg jobs); 0 = off. */
  dispatcherMs: number;
  /** A life-preserver notice every N ms (cycling through the five kinds); 0 = off. */
  lifePreserverMs: number;
  /** First system-state report after N ms (the server: 60 s), then every `systemStateMs` (900 s). */
  systemStateFirstMs: number;
  systemStateMs: number;
}

export interface SysadmSimOptions {
  host?: string;
  /** TLS WebSocket port (the real server: 12150); 0 = ephemeral; null = off. */
  wssPort?: number | null;
  /** Plain WebSocket port (the real server has none); 0 = ephemeral; null = off. */
  wsPort?: number | null;
  /** username -> password. */
  users?: Record<string, string>;
  /** Users in the `operator` group rather than `wheel`: `rpc/dispatcher run` gives them 403. */
  operators?: string[];
  hostname?: string;
  /** One-shot check after connect: no valid token -> close 1000 (§3). */
  authDeadlineMs?: number;
  /** No frame from the client for this long -> close 1000 (§5). */
  idleTimeoutMs?: number;
  /** Sliding token lifetime (§3). */
  tokenLifetimeMs?: number;
  /** The real server's bug: an empty token counts as valid while anyone is logged in. */
  legacyEmptyToken?: boolean;
  /** Reply order for pooled requests: random delays (real server), reversed batches, or in order. */
  reorder?: "random" | "reverse" | "none";
  reorderMaxMs?: number;
  /** Auth failures per IP before a blacklist (5), idle reset of the counter (10 min), blacklist time (60 min). */
  blacklistLimit?: number;
  blacklistWindowMs?: number;
  blacklistMs?: number;
  /** The real server never blacklists loopback; tests turn this on to exercise the blacklist. */
  blacklistLoopback?: boolean;
  generate?: Partial<GeneratorOptions> | false;
  /** Write the certificate (PEM) here at every start, for a tls-config node to use as CA. */
  certFile?: string;
}

export type SysadmSimSettings = Required<Omit<SysadmSimOptions, "generate" | "certFile" | "operators">> & {
  generate: GeneratorOptions | false;
  certFile?: string;
  operators: Set<string>;
};

export function sysadmSimSettings(options: SysadmSimOptions): SysadmSimSettings {
  const gen =
    options.generate === false || options.generate === undefined
      ? false
      : { dispatcherMs: 0, lifePreserverMs: 0, systemStateFirstMs: 0, systemStateMs: 0, ...options.generate };
  return {
    host: options.host ?? "127.0.0.1",
    wssPort: options.wssPort === undefined ? 0 : options.wssPort,
    wsPort: options.wsPort === undefined ? 0 : options.wsPort,
    users: options.users ?? { demo: "demo-password" },
    operators: new Set(options.operators ?? []),
    hostname: options.hostname ?? "sysadm-sim",
    authDeadlineMs: options.authDeadlineMs ?? 30_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30 * 60_000,
    tokenLifetimeMs: options.tokenLifetimeMs ?? 900_000,
    legacyEmptyToken: options.legacyEmptyToken ?? false,
    reorder: options.reorder ?? "random",
    reorderMaxMs: options.reorderMaxMs ?? 3,
    blacklistLimit: options.blacklistLimit ?? 5,
    blacklistWindowMs: options.blacklistWindowMs ?? 10 * 60_000,
    blacklistMs: options.blacklistMs ?? 60 * 60_000,
    blacklistLoopback: options.blacklistLoopback ?? false,
    generate: gen,
    certFile: options.certFile,
  };
}
