import { Backoff, BackoffOptions } from "../core/backoff";

/**
 * The core backoff, plus a hold-off after repeated password rejections. The server
 * blacklists an IP for an hour after 5 failures, and forgets failures after 10 quiet
 * minutes (§3): the normal 1-2-4-8 s schedule would reach 5 failures in half a minute. So
 * from the `freeRejections`+1-th rejection in a row, the next attempt waits at least
 * `holdoffMs` (default 11 min) — the server's counter has reset by then, and a wrong
 * password can never lock the user out.
 */
export class AuthAwareBackoff extends Backoff {
  private rejectionsInRow = 0;
  private holdNext = false;

  constructor(
    opts: BackoffOptions & { holdoffMs?: number; freeRejections?: number } = {},
  ) {
    super(opts);
    this.holdoffMs = opts.holdoffMs ?? 11 * 60 * 1000;
    this.freeRejections = opts.freeRejections ?? 2;
  }

  readonly holdoffMs: number;
  readonly freeRejections: number;

  get rejections(): number {
    return this.rejectionsInRow;
  }

  /** The server refused our credentials on the attempt that is about to fail. */
  rejected(): void {
    this.rejectionsInRow++;
    if (this.rejectionsInRow > this.freeRejections) this.holdNext = true;
  }

  /** The server accepted our credentials. */
  accepted(): void {
    this.rejectionsInRow = 0;
    this.holdNext = false;
  }

  override next(now: number): number {
    const d = super.next(now);
    if (!this.holdNext) return d;
    this.holdNext = false;
    return Math.max(d, this.holdoffMs);
  }
}
