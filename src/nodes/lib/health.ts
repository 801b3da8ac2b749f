import type { Node, NodeAPI } from "./red";
import type { GapChannel, GapPayload } from "./gap";
import type { FlowWindowStats } from "./flow-window";
import type { ConnectionLifecycle, StateChange } from "../../core/lifecycle";
import { Clock, systemClock, TimerHandle } from "../../core/clock";
import { withoutUserInfo } from "./redact";
import { BUCKET_MS, RateHistory } from "./health-rate";

/**
 * The health of every event connection of one Node-RED runtime, for the editor's "infra events"
 * sidebar and the admin API's /infra-events/health and /infra-events/metrics (docs/health.md).
 *
 * Each config node (nso-server, apic-controller, amqp1-broker, sysadm-server) tracks its
 * connection here when it is created and stops when it closes. The counters live on the
 * connection (its client's TypeCounts and DropCounter, and the ConnectionHealth below), not on
 * the input nodes, so a partial deploy that restarts an input node keeps them, as it keeps the
 * connection. Counting on the hot path is an integer increment in code that already runs per
 * event; everything else (rates, cards, metrics) is computed when read, by a 1 s timer that runs
 * only while there is a connection to track.
 */

/** What a channel's config node tells the view; every function is called when read, never per event. */
export interface HealthSource {
  channel: GapChannel;
  lifecycle: ConnectionLifecycle;
  /** Where it connects (host:port or URL); user info is removed again here. */
  peer(): string;
  /** Events delivered so far: the rate is sampled from this running total. */
  eventsTotal(): number;
  eventsByType(): Record<string, number>;
  /** Drops by kind (the connection's DropCounter). */
  drops(): Record<string, number>;
  /** Input node types that use this config node, and the property that names it (nso-events: "server"). */
  userTypes: Readonly<Record<string, string>>;
  /** Channel-specific parts of the card: subscriptions, links, acks. */
  details?(now: number): ChannelDetails;
}

export interface AckFigures {
  /** Shares of blocking notifications no node has answered yet. */
  pending: number;
  /** How shares were answered: by the flow (nso-ack or the node itself), auto-ack, evicted; notifications nobody selected. */
  answered: { flow: number; auto: number; evicted: number; unwanted: number };
}

export interface ChannelDetails {
  /** What the connection is subscribed to, in the channel's own terms. */
  subscriptions?: unknown;
  acks?: AckFigures;
  /** Reading held back for a flow that fell behind, so many times. */
  pauses?: number;
  [extra: string]: unknown;
}

export interface FlowFigures extends Partial<FlowWindowStats> {
  /** The input node: id, type and name (its window figures when it exposes flowStats). */
  id: string;
  type: string;
  name?: string;
}

export interface HealthCard {
  channel: GapChannel;
  /** The config node. */
  id: string;
  type: string;
  name: string;
  state: string;
  peer: string;
  /** ISO 8601, while connected. */
  connectedSince: string | null;
  eventsPerSecond: number;
  /** Events per second in each 10 s of the last 10 minutes, oldest first. */
  rate: { bucketSeconds: number; history: number[] };
  events: { total: number; byType: Record<string, number> };
  drops: { total: number; byKind: Record<string, number> };
  gaps: { count: number; last: { since: string; until: string; filled: string | false; reason: string } | null };
  reconnects: number;
  /** Messages of this connection's input nodes the flow has not finished, and those waiting at the nodes. */
  inFlight: number;
  backlog: number;
  flow: FlowFigures[];
  lastError: { message: string; at: string } | null;
  details: ChannelDetails;
}

export interface HealthReport {
  at: string;
  connections: HealthCard[];
}

/** The drop kind of events a flow-control window dropped (drop-oldest), told by their gap message. */
export const FLOW_DROP_KIND = "flow-behind";

/** The health of one config node's connection: what the libraries do not count already. */
export class ConnectionHealth {
  readonly rate: RateHistory;
  gaps = 0;
  lastGap: HealthCard["gaps"]["last"] = null;
  /** Events a window dropped (drop-oldest), from the gap messages that announced them. */
  flowDrops = 0;
  reconnects = 0;
  private connectedAt: number | undefined;
  private lastError: { message: string; at: number } | undefined;
  private readonly onState = (c: StateChange): void => {
    if (c.state === "connected") {
      this.connectedAt = Date.now();
      if (c.reconnected) this.reconnects++;
    } else {
      this.connectedAt = undefined;
      if (c.state === "waiting-to-retry" && c.reason) this.lastError = { message: c.reason.message, at: Date.now() };
    }
  };

  constructor(
    private readonly RED: NodeAPI,
    readonly node: Node & { name?: string; credentials?: Record<string, unknown> },
    readonly source: HealthSource,
  ) {
    this.rate = new RateHistory(Date.now(), source.eventsTotal());
    source.lifecycle.on("state", this.onState);
  }

  dispose(): void {
    this.source.lifecycle.off("state", this.onState);
  }

  /** A gap message built for one of this connection's input nodes (gap.ts calls it). */
  noteGap(p: GapPayload): void {
    this.gaps++;
    this.lastGap = { since: p.since, until: p.until, filled: p.filled, reason: p.reason };
    if (typeof p.dropped === "number") this.flowDrops += p.dropped;
  }

  card(now: number): HealthCard {
    const s = this.source;
    const clean = scrubber(this.node);
    const flow = this.flowFigures();
    const drops = { ...s.drops() };
    if (this.flowDrops > 0) drops[FLOW_DROP_KIND] = (drops[FLOW_DROP_KIND] ?? 0) + this.flowDrops;
    const last = this.lastGap;
    return {
      channel: s.channel,
      id: this.node.id,
      type: this.node.type,
      name: this.node.name ?? "",
      state: s.lifecycle.state,
      peer: clean(s.peer()),
      connectedSince: this.connectedAt === undefined ? null : new Date(this.connectedAt).toISOString(),
      eventsPerSecond: round(this.rate.now),
      rate: { bucketSeconds: BUCKET_MS / 1000, history: this.rate.history().map(round) },
      events: { total: s.eventsTotal(), byType: s.eventsByType() },
      drops: { total: Object.values(drops).reduce((a, b) => a + b, 0), byKind: drops },
      gaps: { count: this.gaps, last: last && { ...last, reason: clean(last.reason) } },
      reconnects: this.reconnects,
      inFlight: flow.reduce((a, f) => a + (f.inFlight ?? 0), 0),
      backlog: flow.reduce((a, f) => a + (f.queued ?? 0), 0),
      flow,
      lastError: this.lastError ? { message: clean(this.lastError.message), at: new Date(this.lastError.at).toISOString() } : null,
      details: s.details?.(now) ?? {},
    };
  }

  /**
   * The input nodes of the running flows that use this config node, with their flow-control
   * window's figures where the node exposes them (`flowStats`).
   */
  private flowFigures(): FlowFigures[] {
    const out: FlowFigures[] = [];
    const types = this.source.userTypes;
    this.RED.nodes.eachNode((n) => {
      const prop = types[n.type];
      if (!prop || (n as unknown as Record<string, unknown>)[prop] !== this.node.id) return;
      const live = this.RED.nodes.getNode(n.id) as (Node & { flowStats?: () => FlowWindowStats }) | null;
      const stats = typeof live?.flowStats === "function" ? live.flowStats() : undefined;
      out.push({ id: n.id, type: n.type, name: n.name || undefined, ...stats });
    });
    return out;
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * Free text shown in the page (peer, error, gap reason) without a secret: no user:password@ in a
 * URL, and none of the config node's own credential values, should a peer's error quote them.
 */
function scrubber(node: { credentials?: Record<string, unknown> }): (text: string) => string {
  const secrets = Object.values(node.credentials ?? {}).filter((v): v is string => typeof v === "string" && v.length >= 3);
  return (text) => {
    let t = withoutUserInfo(text);
    for (const secret of secrets) t = t.split(secret).join("***");
    return t;
  };
}

/** What the runtime's plugin does with a report every second (publish it to the editors). */
export type HealthPublisher = (report: HealthReport) => void;

const TICK_MS = 1000;
const registries = new WeakMap<object, HealthRegistry>();
/** Config node → its connection's health: how a gap message finds the connection it belongs to. */
const byNode = new WeakMap<object, ConnectionHealth>();

export class HealthRegistry {
  private readonly tracked = new Set<ConnectionHealth>();
  private timer: TimerHandle;
  /** Set by the editor plugin: called with a fresh report on every tick. */
  publish: HealthPublisher | undefined;

  /** `clock`: the time source of the tick (tests drive a fake one to count publishes per tick). */
  constructor(private readonly clock: Clock = systemClock) {}

  /** The runtime's registry (node modules and the plugin each get their own RED object; the event bus is the runtime's). */
  static of(RED: NodeAPI): HealthRegistry {
    const key = (RED.events as object | undefined) ?? RED;
    let r = registries.get(key);
    if (!r) registries.set(key, (r = new HealthRegistry()));
    return r;
  }

  get size(): number {
    return this.tracked.size;
  }

  add(h: ConnectionHealth): void {
    this.tracked.add(h);
    byNode.set(h.node, h);
    if (this.timer === undefined) this.schedule();
  }

  delete(h: ConnectionHealth): void {
    this.tracked.delete(h);
    h.dispose();
    if (this.tracked.size === 0 && this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      // The editors' last cards must not stay up after the last connection went.
      this.publish?.(this.report());
    }
  }

  report(now = Date.now()): HealthReport {
    const connections = [...this.tracked].map((h) => h.card(now));
    connections.sort((a, b) => a.channel.localeCompare(b.channel) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return { at: new Date(now).toISOString(), connections };
  }

  /**
   * One tick TICK_MS from now, re-armed as each tick starts (a chain of timeouts rather than an
   * interval, so that the time source is the injectable clock): at most one tick, and so one
   * publish, per TICK_MS. Re-armed first, so that a tick that throws does not end the chain.
   * systemClock's timers do not keep the process alive.
   */
  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.schedule();
      this.tick(this.clock.now());
    }, TICK_MS);
  }

  /** Sample every rate, then hand the report to the editors when the plugin listens. */
  tick(now = Date.now()): void {
    for (const h of this.tracked) h.rate.sample(now, h.source.eventsTotal());
    this.publish?.(this.report(now));
  }
}

/**
 * Track a config node's connection until the node closes. Call it right after the connection
 * object exists, before any input node registers (their first events must count).
 */
export function trackHealth(RED: NodeAPI, node: Node, source: HealthSource): ConnectionHealth {
  const registry = HealthRegistry.of(RED);
  const h = new ConnectionHealth(RED, node, source);
  registry.add(h);
  node.on("close", () => registry.delete(h));
  return h;
}

/** Count a gap message against the connection of config node `from` (nothing when it tracks none). */
export function noteGap(from: object | null | undefined, p: GapPayload): void {
  if (from) byNode.get(from)?.noteGap(p);
}
