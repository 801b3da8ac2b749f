import type { EventEmitter } from "node:events";

type Listener = (...args: any[]) => void;

/**
 * Every listener and timer a node adds to something that outlives it (a config node's
 * client, the runtime's event bus), recorded so that `release()` on the node's close
 * removes exactly those: a redeploy leaks nothing and listeners never stack up.
 */
export class NodeResources {
  private listeners: Array<{ emitter: EventEmitter; event: string | symbol; fn: Listener }> = [];
  private readonly timeouts = new Set<NodeJS.Timeout>();
  private readonly intervals = new Set<NodeJS.Timeout>();
  private readonly disposers: Array<() => void> = [];
  private released = false;

  on(emitter: EventEmitter, event: string | symbol, fn: Listener): void {
    if (this.released) throw new Error("resources already released");
    emitter.on(event, fn);
    this.listeners.push({ emitter, event, fn });
  }

  setTimeout(fn: () => void, ms: number): NodeJS.Timeout {
    if (this.released) throw new Error("resources already released");
    const t = setTimeout(() => {
      this.timeouts.delete(t);
      fn();
    }, ms);
    this.timeouts.add(t);
    return t;
  }

  clearTimeout(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    clearTimeout(t);
    this.timeouts.delete(t);
  }

  setInterval(fn: () => void, ms: number): NodeJS.Timeout {
    if (this.released) throw new Error("resources already released");
    const t = setInterval(fn, ms);
    this.intervals.add(t);
    return t;
  }

  clearInterval(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    clearInterval(t);
    this.intervals.delete(t);
  }

  /** Run `fn` on release (closing a socket, deregistering from a config node). */
  add(fn: () => void): void {
    if (this.released) throw new Error("resources already released");
    this.disposers.push(fn);
  }

  /** Live counts, for leak tests. */
  get counts(): { listeners: number; timers: number; disposers: number } {
    return { listeners: this.listeners.length, timers: this.timeouts.size + this.intervals.size, disposers: this.disposers.length };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const { emitter, event, fn } of this.listeners) emitter.removeListener(event, fn);
    this.listeners = [];
    for (const t of this.timeouts) clearTimeout(t);
    this.timeouts.clear();
    for (const t of this.intervals) clearInterval(t);
    this.intervals.clear();
    const errors: unknown[] = [];
    for (const fn of this.disposers.splice(0).reverse()) {
      try {
        fn();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw new AggregateError(errors, "errors while releasing node resources");
  }
}
