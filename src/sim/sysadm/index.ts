import { tmpdir } from "node:os";
import { join } from "node:path";
import { Binding, listenAs } from "../listen";
import { OptionSpec, resolveOptions } from "../options";
import type { RunningSimulator, SimulatorEntry } from "../types";
import { SysadmSimOptions, SysadmSimServer } from "./server";

export { SysadmSimServer } from "./server";
export type { SysadmSimOptions, GeneratorOptions, SimRequest } from "./server";
export * from "./generators";
export { generateSelfSigned } from "./certificate";

/** The real server's WebSocket port. */
export const DEFAULT_WSS_PORT = 12150;
/** Our plain ws port (12149 bridge and 12151 REST are taken on a real host). */
export const DEFAULT_WS_PORT = 12152;
export const DEMO_USER = "demo";
export const DEMO_PASSWORD = "demo-password";
export const DEFAULT_CERT_FILE = join(tmpdir(), "infra-events-sim", "sysadm-wsserver.crt");

/** Demo pace: something happens every few seconds (the real server: system-state at 60 s, then 15 min). */
export const DEMO_GENERATORS = { dispatcherMs: 7000, lifePreserverMs: 4000, systemStateFirstMs: 2000, systemStateMs: 10000 };

export interface RunningSysadmSimulator extends RunningSimulator {
  readonly server: SysadmSimServer;
}

/** The port at the end of a ws:// or wss:// URL (URL.port would be "" for 80 and 443). */
const portOf = (url: string): number => Number(/:(\d+)$/.exec(url)?.[1]);

/**
 * Start a simulator for tests and scripts. Defaults suit tests: ephemeral ports on
 * 127.0.0.1, no generators (drive events through `server`), the demo user.
 */
export async function startSysadmSimulator(options: SysadmSimOptions = {}): Promise<RunningSysadmSimulator> {
  const server = new SysadmSimServer(options);
  const host = options.host ?? "127.0.0.1";
  // wss binds first: if it has no URL yet (and is wanted), it is the one that failed.
  const failed = (): Binding =>
    options.wssPort !== null && server.wssUrl === undefined
      ? { option: "--wss-port", host, port: options.wssPort ?? 0 }
      : { option: "--ws-port", host, port: options.wsPort ?? 0 };
  await listenAs(
    "sysadm",
    failed,
    () => server.listen(),
    () => server.close(),
  );
  const endpoints: Record<string, string> = {};
  const ports: Record<string, number> = {};
  if (server.wssUrl) {
    endpoints.wss = `${server.wssUrl} (certificate SHA-256 ${server.certificate?.fingerprint})`;
    ports["wss-port"] = portOf(server.wssUrl);
  }
  if (server.wsUrl) {
    endpoints.ws = server.wsUrl;
    ports["ws-port"] = portOf(server.wsUrl);
  }
  if (options.certFile) endpoints.certificate = options.certFile;
  return { name: "sysadm", endpoints, ports, server, close: () => server.close() };
}

const SYSADM_OPTIONS: readonly OptionSpec[] = [
  { name: "wss-port", kind: "number", port: true, default: DEFAULT_WSS_PORT, help: "WebSocket-over-TLS port, like the real server" },
  { name: "ws-port", kind: "number", port: true, default: DEFAULT_WS_PORT, help: "plain WebSocket port" },
  { name: "cert-file", kind: "string", default: DEFAULT_CERT_FILE, valueName: "PATH", help: "where to write the self-signed certificate made at every start" },
  { name: "user", kind: "string", default: DEMO_USER, valueName: "NAME", help: "the accepted login name" },
  { name: "password", kind: "string", default: DEMO_PASSWORD, valueName: "PW", help: "the accepted password" },
  { name: "quiet", kind: "flag", help: "no generated events" },
  { name: "idle-timeout", kind: "number", default: 1800, valueName: "S", help: "close a connection idle this many seconds" },
  { name: "token-lifetime", kind: "number", default: 900, valueName: "S", help: "sliding token lifetime in seconds" },
  { name: "auth-deadline", kind: "number", default: 30, valueName: "S", help: "close a connection not authenticated within this many seconds" },
  { name: "legacy-empty-token", kind: "flag", help: "reproduce the real server's empty-token bug" },
  {
    name: "reorder",
    kind: "choice",
    choices: ["random", "reverse", "none"],
    default: "random",
    help: "reply order for pooled requests: random delays like the real server, reversed, or in order",
  },
];

export const sysadmSimulator: SimulatorEntry = {
  name: "sysadm",
  summary: `TrueOS sysadm server: wss on 127.0.0.1:${DEFAULT_WSS_PORT} and plain ws on 127.0.0.1:${DEFAULT_WS_PORT}`,
  options: SYSADM_OPTIONS,
  notes: [
    `User "${DEMO_USER}", password "${DEMO_PASSWORD}" unless --user/--password say otherwise.`,
    "Generates dispatcher, life-preserver and system-state events (none with --quiet).",
  ],
  async start(given = {}) {
    const o = resolveOptions(SYSADM_OPTIONS, given);
    return startSysadmSimulator({
      host: "127.0.0.1",
      wssPort: o.number("wss-port"),
      wsPort: o.number("ws-port"),
      users: { [o.string("user") ?? DEMO_USER]: o.string("password") ?? DEMO_PASSWORD },
      certFile: o.string("cert-file"),
      idleTimeoutMs: o.number("idle-timeout") * 1000,
      tokenLifetimeMs: o.number("token-lifetime") * 1000,
      authDeadlineMs: o.number("auth-deadline") * 1000,
      legacyEmptyToken: o.flag("legacy-empty-token"),
      reorder: o.string("reorder") as SysadmSimOptions["reorder"],
      generate: o.flag("quiet") ? false : DEMO_GENERATORS,
    });
  },
};
export { RawSysadmClient } from "./raw-client";
