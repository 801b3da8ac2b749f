import { Backoff, BackoffOptions } from "./backoff";

export interface AuthBackoffOptions extends BackoffOptions {
  /** The least wait after a rejection beyond the free ones. Default 11 min. */
  holdoffMs?: number;
  /** Rejections in a row that only get the normal schedule. Default 2. */
  freeRejections?: number;
}

/**
 * The reconnect backoff, plus a hold-off after repeated password rejections, so a wrong
 * password never locks the account (or the client's address) out. Servers count failed logins
 * in a window: TrueOS sysadm blacklists an IP for an hour after 5 failures and forgets them
 * after 10 quiet minutes; an APIC lockout policy is typically 5 failures within 5 minutes. The
 * normal 1-2-4-8 s schedule reaches 5 failures in a quarter of a minute. So from the
 * `freeRejections`+1-th rejection in a row, the next attempt waits at least `holdoffMs`
 * (default 11 min, longer than both windows): at most `freeRejections`+1 failures ever fall
 * within one window.
 *
 * It either builds its schedule from options or wraps a Backoff the caller already made
 * (its delays, jitter and random source are kept; only the hold-off is added).
 */
export class AuthAwareBackoff extends Backoff {
  private rejectionsInRow = 0;
  private holdNext = false;
  private readonly inner: Backoff | undefined;
  readonly holdoffMs: number;
  readonly freeRejections: number;

  constructor(opts: AuthBackoffOptions | Backoff = {}, hold: Pick<AuthBackoffOptions, "holdoffMs" | "freeRejections"> = {}) {
    const wrapped = opts instanceof Backoff ? opts : undefined;
    super(
      wrapped
        ? { initialMs: wrapped.initialMs, maxMs: wrapped.maxMs, factor: wrapped.factor, jitter: wrapped.jitter, stableMs: wrapped.stableMs }
        : (opts as AuthBackoffOptions),
    );
    this.inner = wrapped;
    const o = wrapped ? hold : { ...(opts as AuthBackoffOptions), ...hold };
    this.holdoffMs = o.holdoffMs ?? 11 * 60 * 1000;
    this.freeRejections = o.freeRejections ?? 2;
  }

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

  override get attempts(): number {
    return this.inner ? this.inner.attempts : super.attempts;
  }

  override baseDelay(): number {
    return this.inner ? this.inner.baseDelay() : super.baseDelay();
  }

  override connected(now: number): void {
    if (this.inner) this.inner.connected(now);
    else super.connected(now);
  }

  override reset(): void {
    if (this.inner) this.inner.reset();
    else super.reset();
  }

  override next(now: number): number {
    const d = this.inner ? this.inner.next(now) : super.next(now);
    if (!this.holdNext) return d;
    this.holdNext = false;
    return Math.max(d, this.holdoffMs);
  }
}
