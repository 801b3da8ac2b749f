/**
 * Reading from a shared connection stops while any of its users asks it to (an input node whose
 * flow has too many of its messages unfinished) and starts again when the last one lets go.
 * `apply(true)` pauses the socket, so the kernel buffers fill and the peer's writer slows down:
 * real backpressure. Watchdogs ask `paused` before they blame the peer for silence.
 */
export class PauseGate {
  private readonly holders = new Set<string>();
  private changedAt = 0;

  constructor(
    private readonly apply: (paused: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get paused(): boolean {
    return this.holders.size > 0;
  }

  /** When reading last stopped or started (a watchdog restarts its count from there). */
  get since(): number {
    return this.changedAt;
  }

  hold(owner: string): void {
    if (this.holders.has(owner)) return;
    this.holders.add(owner);
    if (this.holders.size === 1) this.set(true);
  }

  release(owner: string): void {
    if (!this.holders.delete(owner)) return;
    if (this.holders.size === 0) this.set(false);
  }

  private set(paused: boolean): void {
    this.changedAt = this.now();
    this.apply(paused);
  }
}
