import type { NodeResources } from "./resources";
import { errorStatus, NodeStatus, StatusThrottle } from "./status";
import type { StatusTarget } from "./users";

/** What an input node shows over a connected connection: its own counters, or undefined for the connection's status. */
export type StatusOverlay = () => NodeStatus | undefined;

/**
 * An input node's status, the same way in all four channels: the connection's status (given by
 * the config node's users registry through `target`), and while it is connected the node's own
 * overlay (counters, a refused subscription, a link error). Counters change per event, but
 * building a status string per event costs more than the event in a flood: `changed()` only
 * marks the status stale and it is drawn at most once per `intervalMs`, through one throttle
 * (every status change goes to every open editor). A node's own problem (a bad setting) stays
 * shown whatever the connection does, until cleared.
 */
export class EventStatus {
  /** What the config node's users registry calls with the connection's status. */
  readonly target: StatusTarget;
  private connection: NodeStatus | undefined;
  private problemText: string | undefined;
  private stale = false;
  /** The node closed: late events (a delivery still settling) must not draw or start a timer. */
  private closed = false;
  private readonly throttle: StatusThrottle;

  constructor(
    node: { id: string; status(s: NodeStatus): void },
    private readonly res: NodeResources,
    private readonly overlay: StatusOverlay,
    private readonly intervalMs = 1000,
  ) {
    this.throttle = new StatusThrottle((s) => node.status(s), intervalMs);
    res.add(() => {
      this.closed = true;
      this.throttle.dispose();
    });
    this.target = { id: node.id, status: (s) => this.setConnection(s) };
  }

  /** Whether the connection is up (green). */
  get connected(): boolean {
    return this.connection?.fill === "green";
  }

  setConnection(s: NodeStatus): void {
    this.connection = s;
    this.draw();
  }

  /** The node's own problem, shown instead of anything else until cleared with undefined. */
  problem(text: string | undefined): void {
    this.problemText = text;
    this.draw();
  }

  /** The overlay's figures changed: drawn within `intervalMs`, not now. */
  changed(): void {
    if (this.stale || this.closed) return;
    this.stale = true;
    this.res.setTimeout(() => {
      this.stale = false;
      this.draw();
    }, this.intervalMs);
  }

  /** Draw now (a state change the user should see at once). */
  draw(): void {
    if (this.closed) return;
    if (this.problemText !== undefined) return this.throttle.set(errorStatus(this.problemText));
    const c = this.connection;
    if (!c) return;
    this.throttle.set((c.fill === "green" && this.overlay()) || c);
  }
}
