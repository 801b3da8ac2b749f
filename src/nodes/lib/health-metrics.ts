import type { HealthCard, HealthReport } from "./health";

/**
 * The health report in Prometheus' text exposition format (version 0.0.4), for
 * GET /infra-events/metrics. Every series carries the connection's labels: `channel`, `server`
 * (where it connects, without user info) and `node` (the config node's id, which keeps two
 * config nodes on the same server apart).
 */

interface Family {
  name: string;
  type: "counter" | "gauge";
  help: string;
  samples(c: HealthCard): Array<[Record<string, string>, number]>;
}

const FAMILIES: Family[] = [
  {
    name: "infra_events_events_total",
    type: "counter",
    help: "Events delivered by the connection, by type.",
    samples: (c) => Object.entries(c.events.byType).map(([type, n]) => [{ type }, n]),
  },
  {
    name: "infra_events_drops_total",
    type: "counter",
    help: "Events or frames dropped, by kind (flow-behind: dropped by a flow-control window).",
    samples: (c) => Object.entries(c.drops.byKind).map(([kind, n]) => [{ kind }, n]),
  },
  { name: "infra_events_gaps_total", type: "counter", help: "Gap messages sent by the connection's input nodes.", samples: (c) => [[{}, c.gaps.count]] },
  { name: "infra_events_reconnects_total", type: "counter", help: "Times the connection came back after it was lost.", samples: (c) => [[{}, c.reconnects]] },
  {
    name: "infra_events_acks_total",
    type: "counter",
    help: "NSO ack shares answered, by outcome: flow (nso-ack or the node itself), auto, evicted, unwanted (nobody selected the notification).",
    samples: (c) => Object.entries(c.details.acks?.answered ?? {}).map(([outcome, n]) => [{ outcome }, n]),
  },
  {
    name: "infra_events_auto_acks_total",
    type: "counter",
    help: "NSO ack shares answered without the flow: auto-ack timer or eviction.",
    samples: (c) => (c.details.acks ? [[{}, c.details.acks.answered.auto + c.details.acks.answered.evicted]] : []),
  },
  {
    name: "infra_events_acks_pending",
    type: "gauge",
    help: "NSO ack shares not answered yet.",
    samples: (c) => (c.details.acks ? [[{}, c.details.acks.pending]] : []),
  },
  { name: "infra_events_connected", type: "gauge", help: "1 while the connection is up.", samples: (c) => [[{}, c.state === "connected" ? 1 : 0]] },
  {
    name: "infra_events_in_flight",
    type: "gauge",
    help: "Messages of the connection's input nodes the flow has not finished.",
    samples: (c) => [[{}, c.inFlight]],
  },
  {
    name: "infra_events_backlog",
    type: "gauge",
    help: "Events waiting at the connection's input nodes to be sent into the flow.",
    samples: (c) => [[{}, c.backlog]],
  },
];

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;
}

export function metricsText(report: HealthReport): string {
  const lines: string[] = [];
  for (const f of FAMILIES) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const c of report.connections) {
      const base = { channel: c.channel, server: c.peer, node: c.id };
      for (const [extra, value] of f.samples(c)) lines.push(`${f.name}${labels({ ...base, ...extra })} ${value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
