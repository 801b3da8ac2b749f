import { tmpdir } from "node:os";
import { join } from "node:path";
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

/**
 * Start a simulator for tests and scripts. Defaults suit tests: ephemeral ports on
 * 127.0.0.1, no generators (drive events through `server`), the demo user.
 */
export async function startSysadmSimulator(options: SysadmSimOptions = {}): Promise<RunningSysadmSimulator> {
  const server = new SysadmSimServer(options);
  await server.listen();
  const endpoints: Record<string, string> = {};
  if (server.wssUrl) endpoints.wss = `${server.wssUrl} (certificate SHA-256 ${server.certificate?.fingerprint})`;
  if (server.wsUrl) endpoints.ws = server.wsUrl;
  if (options.certFile) endpoints.certificate = options.certFile;
  return { name: "sysadm", endpoints, server, close: () => server.close() };
}

function num(v: string | boolean | undefined, fallback: number): number {
  if (v === undefined || typeof v === "boolean") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a non-negative number, got "${v}"`);
  return n;
}

export const sysadmSimulator: SimulatorEntry = {
  name: "sysadm",
  usage: [
    `TrueOS sysadm server: wss on 127.0.0.1:${DEFAULT_WSS_PORT} (new self-signed certificate at every start,`,
    `written to ${DEFAULT_CERT_FILE}) and plain ws on 127.0.0.1:${DEFAULT_WS_PORT}.`,
    `User "${DEMO_USER}", password "${DEMO_PASSWORD}". Generates dispatcher, life-preserver and system-state events.`,
    "--wss-port N / --ws-port N (0 = any free port)   --cert-file PATH",
    "--user NAME --password PW     --quiet (no generated events)",
    "--idle-timeout SECONDS (1800)  --token-lifetime SECONDS (900)  --auth-deadline SECONDS (30)",
    "--legacy-empty-token (the real server's empty-token bug)  --reorder random|reverse|none",
  ].join("\n"),
  async start(o) {
    const user = typeof o.user === "string" ? o.user : DEMO_USER;
    const password = typeof o.password === "string" ? o.password : DEMO_PASSWORD;
    const reorder = typeof o.reorder === "string" ? o.reorder : "random";
    if (reorder !== "random" && reorder !== "reverse" && reorder !== "none") throw new Error(`--reorder must be random, reverse or none`);
    return startSysadmSimulator({
      host: "127.0.0.1",
      wssPort: num(o["wss-port"], DEFAULT_WSS_PORT),
      wsPort: num(o["ws-port"], DEFAULT_WS_PORT),
      users: { [user]: password },
      certFile: typeof o["cert-file"] === "string" ? o["cert-file"] : DEFAULT_CERT_FILE,
      idleTimeoutMs: num(o["idle-timeout"], 1800) * 1000,
      tokenLifetimeMs: num(o["token-lifetime"], 900) * 1000,
      authDeadlineMs: num(o["auth-deadline"], 30) * 1000,
      legacyEmptyToken: o["legacy-empty-token"] === true,
      reorder,
      generate: o.quiet === true ? false : DEMO_GENERATORS,
    });
  },
};
export { RawSysadmClient } from "./raw-client";
