import { EventEmitter } from "node:events";
import { Backoff } from "./backoff";
import { Clock, systemClock, TimerHandle } from "./clock";
import { asError, InfraError } from "./errors";

/**
 * The connection state machine every config node drives:
 *
 *   idle -> connecting -> connected -> waiting-to-retry -> connecting -> ...
 *   any  -> closed (stop), closed -> connecting (start again)
 *
 * The channel supplies `open(attempt)`: it dials, handshakes, and reports back through the
 * attempt (`established`, `alive`, `fail`). The lifecycle owns every timer: the handshake
 * timeout, the liveness watchdog and the retry delay, so a channel cannot forget one, and
 * reports from an attempt that is already over are ignored (a late 'close' from a socket
 * we gave up on must not tear down its successor).
 */
export type ConnectionState = "idle" | "connecting" | "connected" | "waiting-to-retry" | "closed";

export interface Attempt {
  /** 1-based count of attempts since the lifecycle was created. */
  readonly number: number;
  /** Aborted when this attempt is over (failed, superseded or stopped). */
  readonly signal: AbortSignal;
  readonly active: boolean;
  /** The handshake completed: the connection is usable. */
  established(): void;
  /** Proof of life from the peer; restarts the liveness watchdog. */
  alive(): void;
  /** The attempt failed or the connection was lost; a retry is scheduled. */
  fail(err: Error): void;
  /** Run `fn` once when this attempt is over, whatever the reason. */
  onEnd(fn: () => void): void;
}

export interface LifecycleOptions {
  open(attempt: Attempt): void | Promise<void>;
  backoff?: Backoff;
  clock?: Clock;
  /** Time allowed from dialling to `established()`; default 15 s. */
  handshakeTimeoutMs?: number;
  /** Time allowed between `alive()` reports once connected; 0 (default) = no watchdog. */
  livenessTimeoutMs?: number;
}

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  attempt: number;
  /** Why we left `connected`/`connecting` (waiting-to-retry) or why we stopped. */
  reason?: Error;
  /** With waiting-to-retry: the delay before the next attempt. */
  delayMs?: number;
  /** With connected: true when an earlier connection existed since start (a gap). */
  reconnected?: boolean;
}

export interface LifecycleEvents {
  state: [StateChange];
  /** A cleanup registered with `attempt.onEnd` threw; the other cleanups still ran. */
  "cleanup-error": [Error];
}

class AttemptImpl implements Attempt {
  readonly controller = new AbortController();
  private readonly endFns: Array<() => void> = [];
  constructor(
    readonly number: number,
    private readonly owner: ConnectionLifecycle,
  ) {}
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get active(): boolean {
    return !this.controller.signal.aborted;
  }
  established(): void {
    if (this.active) this.owner.onEstablished(this);
  }
  alive(): void {
    if (this.active) this.owner.onAlive(this);
  }
  fail(err: Error): void {
    if (this.active) this.owner.onFail(this, err);
  }
  onEnd(fn: () => void): void {
    if (this.active) this.endFns.push(fn);
    else fn();
  }
  end(reason: Error): void {
    if (!this.active) return;
    this.controller.abort(reason);
    for (const fn of this.endFns.splice(0)) {
      try {
        fn();
      } catch (e) {
        // One failing cleanup must not stop the others, nor the state change; it is reported.
        this.owner.onCleanupError(asError(e));
      }
    }
  }
}

export class ConnectionLifecycle extends EventEmitter<LifecycleEvents> {
  private current: AttemptImpl | undefined;
  private attempts = 0;
  private everConnected = false;
  private stateValue: ConnectionState = "idle";
  private retryTimer: TimerHandle;
  private handshakeTimer: TimerHandle;
  private livenessTimer: TimerHandle;
  private readonly clock: Clock;
  readonly backoff: Backoff;
  private readonly handshakeTimeoutMs: number;
  private readonly livenessTimeoutMs: number;

  constructor(private readonly opts: LifecycleOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.backoff = opts.backoff ?? new Backoff();
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 15000;
    this.livenessTimeoutMs = opts.livenessTimeoutMs ?? 0;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The attempt in progress or connected, if any. */
  get attempt(): Attempt | undefined {
    return this.current;
  }

  /** Begin connecting (from idle or closed); no-op while already running. */
  start(): void {
    if (this.stateValue !== "idle" && this.stateValue !== "closed") return;
    this.everConnected = false;
    this.backoff.reset();
    this.dial();
  }

  /** Stop for good: no retries until `start()` is called again. */
  stop(reason: Error = new InfraError("closed", "connection closed")): void {
    if (this.stateValue === "closed") return;
    this.clearTimers();
    const a = this.current;
    this.current = undefined;
    a?.end(reason);
    this.setState({ state: "closed", reason });
  }

  /** Drop the current connection and retry after the backoff delay (e.g. on a protocol error). */
  restart(reason: Error): void {
    this.current?.fail(reason);
  }

  /**
   * Redial at once, without counting a failure or waiting for the backoff: for intentional
   * reconnects (the subscription changed) rather than faults. No-op when idle or closed.
   */
  reconnectNow(reason: Error = new InfraError("reconnect", "reconnecting")): void {
    if (this.stateValue === "idle" || this.stateValue === "closed") return;
    this.clearTimers();
    const a = this.current;
    this.current = undefined;
    a?.end(reason);
    this.dial();
  }

  onEstablished(a: AttemptImpl): void {
    if (a !== this.current || this.stateValue !== "connecting") return;
    this.clearTimer("handshakeTimer");
    this.backoff.connected(this.clock.now());
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.armLiveness();
    this.setState({ state: "connected", reconnected });
  }

  onCleanupError(err: Error): void {
    // Never silent: without a listener it still reaches the process warning channel.
    if (this.listenerCount("cleanup-error") > 0) this.emit("cleanup-error", err);
    else process.emitWarning(err, "InfraEventsCleanupError");
  }

  onAlive(a: AttemptImpl): void {
    if (a === this.current && this.stateValue === "connected") this.armLiveness();
  }

  onFail(a: AttemptImpl, err: Error): void {
    if (a !== this.current) return;
    this.clearTimers();
    this.current = undefined;
    a.end(err);
    const delayMs = this.backoff.next(this.clock.now());
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, delayMs);
    this.setState({ state: "waiting-to-retry", reason: err, delayMs });
  }

  private dial(): void {
    const a = new AttemptImpl(++this.attempts, this);
    this.current = a;
    this.setState({ state: "connecting" });
    if (this.handshakeTimeoutMs > 0) {
      this.handshakeTimer = this.clock.setTimeout(() => {
        this.handshakeTimer = undefined;
        a.fail(new InfraError("handshake-timeout", `no handshake within ${this.handshakeTimeoutMs} ms`));
      }, this.handshakeTimeoutMs);
    }
    try {
      const p = this.opts.open(a);
      if (p && typeof p.then === "function") {
        p.catch((e: unknown) => a.fail(asError(e)));
      }
    } catch (e) {
      a.fail(asError(e));
    }
  }

  private armLiveness(): void {
    if (this.livenessTimeoutMs <= 0) return;
    this.clearTimer("livenessTimer");
    const a = this.current;
    this.livenessTimer = this.clock.setTimeout(() => {
      this.livenessTimer = undefined;
      a?.fail(new InfraError("liveness-timeout", `peer silent for ${this.livenessTimeoutMs} ms`));
    }, this.livenessTimeoutMs);
  }

  private clearTimer(name: "retryTimer" | "handshakeTimer" | "livenessTimer"): void {
    const t = this[name];
    if (t !== undefined) {
      this.clock.clearTimeout(t);
      this[name] = undefined;
    }
  }

  private clearTimers(): void {
    this.clearTimer("retryTimer");
    this.clearTimer("handshakeTimer");
    this.clearTimer("livenessTimer");
  }

  private setState(change: Omit<StateChange, "previous" | "attempt">): void {
    const previous = this.stateValue;
    this.stateValue = change.state;
    this.emit("state", { ...change, previous, attempt: this.attempts });
  }
}
