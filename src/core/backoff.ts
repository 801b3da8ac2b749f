/**
 * Jittered exponential backoff: 1 s doubling to a 60 s cap by default. The delay is drawn
 * from [base * (1 - jitter), base] so that many clients restarted together (a redeploy,
 * a broker restart) do not reconnect in lock step.
 *
 * The attempt counter resets once a connection has stayed up for `stableMs`: a link that
 * flaps right after connecting keeps backing off instead of hammering the server.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0 = no jitter, 1 = anywhere between 0 and the full delay. */
  jitter?: number;
  stableMs?: number;
  random?: () => number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly stableMs: number;
  private readonly random: () => number;
  private failures = 0;
  private connectedAt: number | undefined;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 60000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.5;
    this.stableMs = opts.stableMs ?? 30000;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1)) {
      throw new RangeError("backoff: need 0 < initialMs <= maxMs and factor >= 1");
    }
    if (!(this.jitter >= 0 && this.jitter <= 1)) throw new RangeError("backoff: jitter must be within [0, 1]");
  }

  /** How many failed attempts in a row the next delay accounts for. */
  get attempts(): number {
    return this.failures;
  }

  /** The un-jittered delay for the next attempt. */
  baseDelay(): number {
    // Math.min before the power would overflow to Infinity after ~1000 failures.
    const exp = Math.min(this.failures, 64);
    return Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, exp));
  }

  /** Record that the connection came up at `now`. */
  connected(now: number): void {
    this.connectedAt = now;
  }

  /**
   * The connection failed or dropped at `now`: returns how long to wait before the next
   * attempt, and counts the failure.
   */
  next(now: number): number {
    if (this.connectedAt !== undefined && now - this.connectedAt >= this.stableMs) this.failures = 0;
    this.connectedAt = undefined;
    const base = this.baseDelay();
    this.failures++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  reset(): void {
    this.failures = 0;
    this.connectedAt = undefined;
  }
}
