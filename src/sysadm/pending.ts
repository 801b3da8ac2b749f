import { Clock, systemClock, TimerHandle } from "../core/clock";
import { InfraError } from "../core/errors";

interface Entry {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: TimerHandle;
  what: string;
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
      const timer = this.clock.setTimeout(() => {
        this.entries.delete(id);
        reject(new InfraError("request-timeout", `${what}: no reply within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
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
    this.clock.clearTimeout(e.timer);
    return e;
  }
}
