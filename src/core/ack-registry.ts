import { InfraError } from "./errors";

/**
 * Acks never travel as live objects in `msg` (messages are deep-cloned on fan-out). The input
 * node puts a plain JSON token in the message; the live handle (an NSO socket + thandle, a
 * rhea delivery) stays here, owned by the config node, keyed by the connection it came from.
 * A token from a connection that has since gone away is a clear error, never a silent
 * success: the peer will redeliver (AMQP) or has already timed the ack out (NSO).
 */
export interface AckToken {
  /** The config node's id. */
  server: string;
  /** Which connection (generation) of that config node issued it. */
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

export class AckRegistry<H = unknown> {
  private connectionId: string | undefined;
  private generation = 0;
  private nextId = 1;
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
    this.connectionId = `${this.server}#${++this.generation}`;
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
    const id = this.nextId++;
    this.open.set(id, { kind, handle });
    return { server: this.server, connection: this.connectionId, kind, id };
  }

  /** Remove and return the live handle for `token`, or throw an AckError saying why not. */
  take(token: unknown, expectKind?: string): { kind: string; handle: H } {
    const t = checkToken(token);
    if (t.server !== this.server) {
      throw new AckError("ack-wrong-server", `ack token belongs to config node ${t.server}, not ${this.server}`);
    }
    if (t.connection !== this.connectionId) {
      throw new AckError(
        "ack-connection-gone",
        `ack token is from connection ${t.connection}, which no longer exists (now ${this.connectionId ?? "disconnected"}); the peer will have redelivered or timed out`,
      );
    }
    const e = this.open.get(t.id);
    if (!e) throw new AckError("ack-unknown", `ack token ${t.id} is unknown or was already used`);
    if (expectKind !== undefined && e.kind !== expectKind) {
      throw new AckError("ack-wrong-kind", `ack token is for ${e.kind}, not ${expectKind}`);
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
