import type { Clock, TimerHandle } from "./clock";

/**
 * Whether a connection's reader is stopped on purpose (flow control: PauseGate, or a session
 * that applies it) and since when it last stopped or started.
 */
export interface ReaderState {
  readonly paused: boolean;
  readonly since: number;
}

export interface WatchdogOptions {
  clock: Clock;
  /** Silence allowed before `fire`. */
  timeoutMs: number;
  /** While this reader is paused the peer cannot be heard: silence then is ours, not the peer's. */
  reader?: ReaderState;
  /** True while bytes from the peer wait unread (the event loop is behind): not silence either. */
  unread?: () => boolean;
  /** A check this much later than scheduled means the event loop was blocked; default min(1 s, timeout / 2). */
  lateMs?: number;
  fire(silentMs: number): void;
}

/**
 * A watchdog that does not lie. It fires when the peer has been silent for `timeoutMs` of time in
 * which it could have been heard: never while the reader is paused (the count restarts when it
 * reads again), never while bytes wait unread, and not on a check that ran late because the
 * event loop was blocked (the timers phase runs before the socket is read, so the answer may be
 * waiting right behind it): such a check re-arms once instead of failing; only a second late
 * check in a row without proof of life in between may fire.
 *
 * Used for liveness (`alive()` on every proof of life) and for request timeouts (never alive).
 */
export class Watchdog {
  private from: number;
  private dueAt = 0;
  private timer: TimerHandle;
  private stopped = false;
  /** A late check was forgiven and no proof of life came since. */
  private lateForgiven = false;
  private readonly lateMs: number;

  constructor(private readonly o: WatchdogOptions) {
    this.from = o.clock.now();
    this.lateMs = o.lateMs ?? Math.min(1000, o.timeoutMs / 2);
    this.arm(o.timeoutMs);
  }

  /** Proof of life: the count starts again. Cheap (no timer work), so call it per frame. */
  alive(): void {
    this.from = this.o.clock.now();
    this.lateForgiven = false;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.dueAt = this.o.clock.now() + ms;
    this.timer = this.o.clock.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.o.clock.now();
    const { timeoutMs, reader } = this.o;
    if (reader?.paused || this.o.unread?.()) return this.arm(timeoutMs);
    const silent = now - Math.max(this.from, reader?.since ?? Number.NEGATIVE_INFINITY);
    if (silent < timeoutMs) return this.arm(timeoutMs - silent);
    // Late once: the answer may be waiting right behind this timer. Late again with no proof of
    // life in between: the loop is busy, but the peer is silent too.
    if (now - this.dueAt > this.lateMs && !this.lateForgiven) {
      this.lateForgiven = true;
      return this.arm(timeoutMs);
    }
    this.stopped = true;
    this.o.fire(silent);
  }
}
