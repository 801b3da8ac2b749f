import { randomBytes } from "node:crypto";
import { InfraError } from "./errors";

/**
 * Acks never travel as live objects in `msg` (messages are deep-cloned on fan-out). The input
 * node puts a plain JSON token in the message; the live handle (an NSO socket + thandle, a
 * rhea delivery) stays here, owned by the config node, keyed by the connection it came from.
 * A token from a connection that has since gone away is a clear error, never a silent
 * success: the peer will redeliver (AMQP) or has already timed the ack out (NSO).
 *
 * A redeploy replaces the config node (same id) and with it this registry, while tokens may be
 * kept in a flow (a delay, a join, context). So a connection's id is never reused: a random
 * epoch per registry plus a generation counted across the whole process. Token ids carry a few
 * random bits, so an id changed by hand does not name another open handle.
 */
export interface AckToken {
  /** The config node's id. */
  server: string;
  /** Which connection of that config node issued it (`<server>#<epoch>.<generation>`). */
  connection: string;
  kind: string;
  id: number;
}

export interface AckRegistryOptions {
  /** At most this many open handles; the oldest is evicted (and reported) beyond it. */
  maxOpen?: number;
  /** Called with the handles dropped by eviction or by the connection ending. */
  onDrop?: (kind: string, handle: unknown, why: "evicted" | "connection-gone") => void;
}

export class AckError extends InfraError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "AckError";
  }
}

interface Entry<H> {
  kind: string;
  handle: H;
}

/** Generations are counted per process, not per registry: a new registry never restarts them. */
let processGeneration = 0;
/**
 * Connection ids issued in this process, newest last, so a token from an earlier connection (or
 * an earlier deploy) is told apart from one never issued at all. Bounded: an id that fell out
 * is still refused, only with the less specific reason.
 */
const issuedConnections = new Set<string>();
const REMEMBERED_CONNECTIONS = 4096;

function remember(id: string): void {
  issuedConnections.add(id);
  if (issuedConnections.size > REMEMBERED_CONNECTIONS) issuedConnections.delete(issuedConnections.values().next().value as string);
}

/** Low bits of a token id that are random; the high bits count. */
const ID_RANDOM_BITS = 16;
/** Counter range before it wraps (2^37 ids per connection; by then no early token is open). */
const ID_COUNTER_LIMIT = 2 ** (53 - ID_RANDOM_BITS);

export class AckRegistry<H = unknown> {
  private connectionId: string | undefined;
  private readonly epoch = randomBytes(6).toString("base64url");
  private counter = 0;
  private readonly open = new Map<number, Entry<H>>();
  private readonly maxOpen: number;

  constructor(
    readonly server: string,
    private readonly opts: AckRegistryOptions = {},
  ) {
    this.maxOpen = opts.maxOpen ?? 10000;
  }

  get size(): number {
    return this.open.size;
  }

  get connection(): string | undefined {
    return this.connectionId;
  }

  /** A new connection is up: tokens of the previous one are void from now on. */
  beginConnection(): string {
    this.endConnection();
    this.connectionId = `${this.server}#${this.epoch}.${++processGeneration}`;
    remember(this.connectionId);
    return this.connectionId;
  }

  /** The connection is gone: every open handle is dropped. */
  endConnection(): void {
    if (this.connectionId === undefined) return;
    this.connectionId = undefined;
    const dropped = [...this.open.values()];
    this.open.clear();
    for (const e of dropped) this.opts.onDrop?.(e.kind, e.handle, "connection-gone");
  }

  issue(kind: string, handle: H): AckToken {
    if (this.connectionId === undefined) throw new AckError("ack-no-connection", "cannot issue an ack token without a connection");
    if (this.open.size >= this.maxOpen) {
      const oldest = this.open.keys().next().value as number;
      const e = this.open.get(oldest)!;
      this.open.delete(oldest);
      this.opts.onDrop?.(e.kind, e.handle, "evicted");
    }
    this.counter = (this.counter + 1) % ID_COUNTER_LIMIT;
    let id = this.counter * 2 ** ID_RANDOM_BITS + Math.floor(Math.random() * 2 ** ID_RANDOM_BITS);
    while (id === 0 || this.open.has(id)) id = this.counter * 2 ** ID_RANDOM_BITS + Math.floor(Math.random() * 2 ** ID_RANDOM_BITS);
    this.open.set(id, { kind, handle });
    return { server: this.server, connection: this.connectionId, kind, id };
  }

  /**
   * Remove and return the live handle for `token`, or throw an AckError saying why not.
   * `expectKind`: the kind(s) the caller may settle (an ack node's own channel); the token's
   * kind must also be the kind its handle was issued for.
   */
  take(token: unknown, expectKind?: string | readonly string[]): { kind: string; handle: H } {
    const t = checkToken(token);
    const kinds = expectKind === undefined ? undefined : typeof expectKind === "string" ? [expectKind] : expectKind;
    if (kinds && !kinds.includes(t.kind)) {
      throw new AckError("ack-wrong-kind", `ack token is for ${t.kind}; this node settles ${kinds.join(", ")}`);
    }
    if (t.server !== this.server) {
      throw new AckError("ack-wrong-server", `ack token belongs to config node ${t.server}, not ${this.server}`);
    }
    if (t.connection !== this.connectionId) {
      if (!issuedConnections.has(t.connection)) {
        throw new AckError(
          "ack-unknown-connection",
          `ack token names connection ${t.connection}, which this Node-RED process never issued: the token was made up or altered, or kept across a restart`,
        );
      }
      throw new AckError(
        "ack-connection-gone",
        `ack token is from an earlier connection (${t.connection}; a reconnect or a redeploy since), which no longer exists (now ${this.connectionId ?? "disconnected"}); the peer will have redelivered or timed out`,
      );
    }
    const e = this.open.get(t.id);
    if (!e) throw new AckError("ack-unknown", `ack token ${t.id} is unknown or was already used`);
    if (e.kind !== t.kind) {
      throw new AckError("ack-wrong-kind", `ack token says ${t.kind} but was issued for ${e.kind}: it was altered`);
    }
    this.open.delete(t.id);
    return e;
  }

  /** Forget a handle without acking (the peer settled it some other way). */
  forget(id: number): boolean {
    return this.open.delete(id);
  }
}

export function isAckToken(v: unknown): v is AckToken {
  if (typeof v !== "object" || v === null) return false;
  const t = v as Record<string, unknown>;
  return typeof t.server === "string" && typeof t.connection === "string" && typeof t.kind === "string" && Number.isSafeInteger(t.id);
}

export function checkToken(v: unknown): AckToken {
  if (!isAckToken(v)) {
    throw new AckError("ack-bad-token", "msg.ack is not an ack token ({server, connection, kind, id}) from an infra-events input node");
  }
  return v;
}
