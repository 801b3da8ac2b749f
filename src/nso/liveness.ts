import type { Clock, TimerHandle } from "../core/clock";

/**
 * The heartbeat watchdog of the notification socket, made not to lie. NSO sends a heartbeat
 * every interval; three silent intervals mean a hung NSO. But silence is not always NSO's:
 *
 * - while flow control paused reading (PauseGate), heartbeats wait in the socket buffers: the
 *   count starts again when reading does (from the gate's `since`);
 * - while frames wait unread in our own buffers, NSO has spoken, we have not listened yet;
 * - when the event loop was blocked (a busy flow), the timer fires late and before the poll
 *   phase has read what arrived meanwhile: such a check re-arms once instead of failing, and
 *   only a second late check in a row without a frame in between may fail.
 */
export interface ReadingState {
  /** Reading stopped on purpose (flow control). */
  readonly paused: boolean;
  /** When reading last stopped or started (clock time). */
  readonly since: number;
}

export interface LivenessOptions {
  clock: Clock;
  timeoutMs: number;
  reading?: ReadingState;
  /** True while frames from NSO wait unread in our buffers. */
  unread?: () => boolean;
  /** A check this much later than scheduled means the event loop was blocked (default min(1 s, timeout / 2)). */
  lateMs?: number;
  fire(silentMs: number): void;
}

export class Liveness {
  private from: number;
  private dueAt = 0;
  /** undefined while no check is pending. */
  private timer: TimerHandle = undefined;
  private stopped = false;
  private lateForgiven = false;
  private readonly lateMs: number;

  constructor(private readonly o: LivenessOptions) {
    this.from = o.clock.now();
    this.lateMs = o.lateMs ?? Math.min(1000, o.timeoutMs / 2);
    this.arm(o.timeoutMs);
  }

  /** A frame from NSO: the count starts again (cheap: no timer work, called per frame). */
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
    const { clock, timeoutMs, reading } = this.o;
    const now = clock.now();
    const late = now - this.dueAt > this.lateMs;
    if (reading?.paused || this.o.unread?.()) return this.arm(timeoutMs);
    const silent = now - Math.max(this.from, reading?.since ?? Number.NEGATIVE_INFINITY);
    if (silent < timeoutMs) return this.arm(timeoutMs - silent);
    if (late && !this.lateForgiven) {
      this.lateForgiven = true;
      return this.arm(timeoutMs);
    }
    this.stopped = true;
    this.o.fire(silent);
  }
}
