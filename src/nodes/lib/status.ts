import { Clock, systemClock, TimerHandle } from "../../core/clock";
import type { StateChange } from "../../core/lifecycle";

/** The shape Node-RED's `node.status()` takes; kept here so core needs no Node-RED import. */
export interface NodeStatus {
  fill?: "red" | "green" | "yellow" | "blue" | "grey";
  shape?: "ring" | "dot";
  text?: string;
}

// Core Node-RED i18n keys: the editor translates them, so our status reads like MQTT's.
export const STATUS_KEYS = {
  connecting: "node-red:common.status.connecting",
  connected: "node-red:common.status.connected",
  disconnected: "node-red:common.status.disconnected",
  error: "node-red:common.status.error",
} as const;

// The editor translates a status text only when the whole text is one message key, so a key
// followed by a detail ("…status.connected 12") would show raw: with a detail, the text is
// plain English like the detail itself.
export function connectingStatus(detail?: string): NodeStatus {
  return { fill: "yellow", shape: "ring", text: detail ? `connecting: ${detail}` : STATUS_KEYS.connecting };
}

export function connectedStatus(detail?: string): NodeStatus {
  return { fill: "green", shape: "dot", text: detail ? `connected: ${detail}` : STATUS_KEYS.connected };
}

export function disconnectedStatus(reason?: string): NodeStatus {
  return { fill: "red", shape: "ring", text: reason ? `disconnected: ${truncate(reason, 64)}` : STATUS_KEYS.disconnected };
}

export function errorStatus(reason: string): NodeStatus {
  return { fill: "red", shape: "ring", text: truncate(reason, 48) };
}

/** The status a lifecycle state change maps to. */
export function statusForState(change: Pick<StateChange, "state" | "reason" | "delayMs">): NodeStatus {
  switch (change.state) {
    case "connecting":
      return connectingStatus();
    case "connected":
      return connectedStatus();
    case "waiting-to-retry": {
      const why = change.reason ? change.reason.message : "connection lost";
      const retry = change.delayMs !== undefined ? ` (retry in ${Math.ceil(change.delayMs / 1000)} s)` : "";
      return disconnectedStatus(`${truncate(why, 48)}${retry}`);
    }
    case "closed":
    case "idle":
      return disconnectedStatus();
  }
}

/** 999, 1.2k, 45k, 1.2M: counts that fit in a status line. */
export function shortCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (n < 1_000_000) return `${Math.floor(n / 1000)}k`;
  if (n < 10_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  return `${Math.floor(n / 1_000_000)}M`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * At most one status update per `intervalMs` per node: every status change is pushed to
 * every open editor, so a node that sets its status per event floods the browser. The
 * latest status always wins and is delivered when the interval ends.
 */
export class StatusThrottle {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private pending: NodeStatus | undefined;
  private timer: TimerHandle;
  private lastSent: NodeStatus | undefined;

  constructor(
    private readonly sink: (s: NodeStatus) => void,
    private readonly intervalMs = 1000,
    private readonly clock: Clock = systemClock,
  ) {}

  set(status: NodeStatus): void {
    if (this.lastSent && sameStatus(this.lastSent, status) && this.timer === undefined) return;
    const now = this.clock.now();
    const wait = this.lastSentAt + this.intervalMs - now;
    if (wait <= 0 && this.timer === undefined) {
      this.send(status, now);
      return;
    }
    this.pending = status;
    if (this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => this.flush(), Math.max(wait, 0));
    }
  }

  /** Current (or pending) status: what a newly registered user should show. */
  get current(): NodeStatus | undefined {
    return this.pending ?? this.lastSent;
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    const p = this.pending;
    this.pending = undefined;
    if (p && !(this.lastSent && sameStatus(this.lastSent, p))) this.send(p, this.clock.now());
  }

  private send(s: NodeStatus, now: number): void {
    this.lastSentAt = now;
    this.lastSent = s;
    this.sink(s);
  }
}

function sameStatus(a: NodeStatus, b: NodeStatus): boolean {
  return a.fill === b.fill && a.shape === b.shape && a.text === b.text;
}
