import { InfraError } from "../core/errors";

/** One broker endpoint of a failover list. */
export interface BrokerUrl {
  transport: "tcp" | "tls";
  host: string;
  port: number;
}

/**
 * Parse "amqp://h:5672, amqps://h2" (comma, space or newline separated) into endpoints.
 * amqp = plain TCP on 5672, amqps = TLS on 5671 (the defaults Clacks' parseURL used). Credentials
 * and paths inside a URL are refused: secrets belong in the config node's credentials, and a
 * path (the Clacks domain) is not part of an AMQP 1.0 connection.
 */
export function parseBrokerUrls(input: string | readonly string[]): BrokerUrl[] {
  const parts = (Array.isArray(input) ? input : String(input ?? "").split(/[\s,]+/)).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new InfraError("broker-url", "no broker URL given (e.g. amqp://127.0.0.1:5672)");
  return parts.map(parseOne);
}

function parseOne(raw: string): BrokerUrl {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `amqp://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new InfraError("broker-url", `"${raw}" is not a broker URL (e.g. amqp://host:5672)`);
  }
  const scheme = u.protocol.replace(/:$/, "").toLowerCase();
  if (scheme !== "amqp" && scheme !== "amqps") throw new InfraError("broker-url", `"${raw}": scheme must be amqp or amqps`);
  if (u.username || u.password) throw new InfraError("broker-url", `"${u.host}": put the user name and password in the credentials, not in the URL`);
  if (u.pathname && u.pathname !== "/") throw new InfraError("broker-url", `"${raw}": a broker URL has no path (set the vhost separately)`);
  if (!u.hostname) throw new InfraError("broker-url", `"${raw}": no host`);
  const tls = scheme === "amqps";
  const port = u.port ? Number(u.port) : tls ? 5671 : 5672;
  return { transport: tls ? "tls" : "tcp", host: u.hostname.replace(/^\[|\]$/g, ""), port };
}

export function formatBrokerUrl(u: BrokerUrl): string {
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  return `${u.transport === "tls" ? "amqps" : "amqp"}://${host}:${u.port}`;
}
