import { Clock, systemClock } from "../core/clock";
import { InfraError } from "../core/errors";
import { ReaderState, Watchdog } from "../core/watchdog";

interface Entry {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: Watchdog;
  what: string;
}

/** What a request's timeout must not blame on the server (see core/watchdog). */
export interface ReplyWatch {
  /** Reading paused by flow control: the reply may be waiting in the socket. */
  reader?: ReaderState;
  /** Bytes wait unread: the reply may be among them. */
  unread?: () => boolean;
}

/**
 * Requests waiting for their reply, keyed by id. The server answers out of order (every
 * request but auth* and identify runs on a thread pool), so replies are matched by id only;
 * each request has a timeout because some requests (auth_clear) are never answered.
 */
export class PendingRequests {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  private readonly prefix: string;

  constructor(
    private readonly timeoutMs: number,
    private readonly clock: Clock = systemClock,
    private readonly watch: ReplyWatch = {},
  ) {
    this.prefix = `ie${Math.random().toString(36).slice(2, 8)}`;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A fresh id, unique within this client's lifetime. */
  nextId(kind: string): string {
    return `${this.prefix}-${kind}-${++this.seq}`;
  }

  add(id: string, what: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Time counts only while the reply could have been read: a reply that waits in a paused
      // socket, or behind a blocked event loop, is not a server that stopped answering.
      const timer = new Watchdog({
        clock: this.clock,
        timeoutMs: this.timeoutMs,
        reader: this.watch.reader,
        unread: this.watch.unread,
        fire: () => {
          this.entries.delete(id);
          reject(new InfraError("request-timeout", `${what}: no reply within ${this.timeoutMs} ms`));
        },
      });
      this.entries.set(id, { resolve, reject, timer, what });
    });
  }

  /** Settle the request `id`; false when no such request is waiting (late or foreign reply). */
  resolve(id: string, value: unknown): boolean {
    const e = this.take(id);
    if (!e) return false;
    e.resolve(value);
    return true;
  }

  reject(id: string, err: Error): boolean {
    const e = this.take(id);
    if (!e) return false;
    e.reject(err);
    return true;
  }

  what(id: string): string | undefined {
    return this.entries.get(id)?.what;
  }

  rejectAll(err: Error): void {
    for (const id of [...this.entries.keys()]) this.reject(id, err);
  }

  private take(id: string): Entry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    e.timer.stop();
    return e;
  }
}
