import { Backoff } from "../../core/backoff";
import { Clock, systemClock } from "../../core/clock";
import { DropCounter } from "../../core/drops";
import { asError, InfraError } from "../../core/errors";
import type { NsoEndpointOptions } from "../client-handshake";
import { MaapiConnection } from "./connection";
import type { HashDb } from "./hash-db";
import type { YangSchema } from "./yang-schema";

/**
 * The MAAPI side of an `nso-server` config node: at most one socket, dialled on demand when a
 * commit diff is to be read, kept for the next commit (a socket serves consecutive commits,
 * §4.7), closed with the config node. Callers are served one at a time because the socket is
 * lock-step. A failed dial is not retried in a loop: the core Backoff sets the earliest time
 * of the next dial, and until then callers get an immediate error (a commit is waiting; it
 * must not wait for us to dial a dead port again).
 */
export interface MaapiClientOptions extends NsoEndpointOptions {
  protoVsn?: number;
  /** Asked for at each dial so a changed secret file is picked up. */
  secret?: () => Buffer | undefined;
  backoff?: Backoff;
  clock?: Clock;
}

export class MaapiClient {
  readonly drops = new DropCounter();
  private conn: MaapiConnection | undefined;
  private dialing: Promise<MaapiConnection> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private notBefore = 0;
  private lastDialError: Error | undefined;
  private closedFlag = false;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  /** Sockets opened since creation (for leak tests and status). */
  dials = 0;

  constructor(readonly opts: MaapiClientOptions) {
    this.backoff = opts.backoff ?? new Backoff();
    this.clock = opts.clock ?? systemClock;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** True while a socket is open (a reused connection costs no handshake). */
  get connected(): boolean {
    return this.conn !== undefined && !this.conn.closed;
  }

  /**
   * Runs `fn` with the connection once every earlier caller is done. If `fn` fails the
   * socket is kept unless it is closed; callers that abandon an operation destroy it.
   */
  use<T>(fn: (c: MaapiConnection) => Promise<T>, opts: { connectTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const run = async (): Promise<T> => {
      const c = await this.connection(opts.connectTimeoutMs, opts.signal);
      return fn(c);
    };
    const p = this.tail.then(run, run);
    // The queue only orders callers; one caller's failure is its own.
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** The hash table of the schema, loaded once per connection (86 KB, ~10 ms on 6.2.5). */
  hashDb(opts: { connectTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<HashDb> {
    return this.use((c) => {
      if (!c.hashDb) {
        c.hashDb = c.loadHashDb();
        // A failed load must not be cached: the next caller tries again.
        c.hashDb.catch(() => (c.hashDb = undefined));
      }
      return c.hashDb;
    }, opts);
  }

  /**
   * Prefixes, list keys and enumeration labels (LOAD_ALL_NS), loaded once per connection: ~1 MB
   * and ~100 ms on a bare NSO 6.2.5, more with NED packages, so only asked for when a stream
   * event has a value that needs it.
   */
  yangSchema(opts: { connectTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<YangSchema> {
    return this.use((c) => {
      if (!c.yangSchema) {
        c.yangSchema = c.loadYangSchema();
        c.yangSchema.catch(() => (c.yangSchema = undefined));
      }
      return c.yangSchema;
    }, opts);
  }

  /** Destroy the current socket (after an abandoned operation); the next use dials again. */
  discard(reason?: Error): void {
    const c = this.conn;
    this.conn = undefined;
    c?.destroy(reason);
  }

  close(): void {
    this.closedFlag = true;
    this.discard(new InfraError("maapi-closed", "MAAPI client closed"));
  }

  private async connection(connectTimeoutMs = 3000, signal?: AbortSignal): Promise<MaapiConnection> {
    if (this.closedFlag) throw new InfraError("maapi-closed", "MAAPI client closed");
    if (this.conn && !this.conn.closed) return this.conn;
    this.conn = undefined;
    const now = this.clock.now();
    if (now < this.notBefore) {
      throw new InfraError(
        "maapi-unavailable",
        `MAAPI connect failed recently (${this.lastDialError?.message ?? "unknown"}); next try in ${this.notBefore - now} ms`,
      );
    }
    this.dialing ??= (async () => {
      try {
        this.dials++;
        const c = await MaapiConnection.open(
          {
            host: this.opts.host,
            port: this.opts.port,
            protoVsn: this.opts.protoVsn,
            libVsn: this.opts.libVsn,
            accessCheck: this.opts.accessCheck,
            secret: this.opts.accessCheck && this.opts.accessCheck !== "none" ? this.opts.secret?.() : undefined,
            maxFrameSize: this.opts.maxFrameSize,
            connectTimeoutMs,
          },
          signal,
        );
        this.backoff.connected(this.clock.now());
        this.backoff.reset();
        if (this.closedFlag) {
          c.destroy();
          throw new InfraError("maapi-closed", "MAAPI client closed");
        }
        this.conn = c;
        return c;
      } catch (e) {
        const err = asError(e);
        if (!(err instanceof InfraError && err.code === "maapi-aborted")) {
          this.lastDialError = err;
          this.notBefore = this.clock.now() + this.backoff.next(this.clock.now());
        }
        throw err;
      } finally {
        this.dialing = undefined;
      }
    })();
    return this.dialing;
  }
}
