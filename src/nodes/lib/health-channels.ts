import type { HealthSource } from "./health";
import { namesOf } from "../../nso";
import type { AckFanIn, NsoClient } from "../../nso";
import type { ApicClient } from "../../apic";
import { AmqpConnection, EventSender, EventSubscription } from "../../amqp";
import type { SysadmClient } from "../../sysadm";

/**
 * What each channel's config node shows in the health view: the connection's own counters,
 * read when the view asks (docs/health.md). One function per channel, called once by its
 * config node; nothing here runs per event.
 */

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

/** A receiver's deliveries not settled yet, where the subscription counts them (`inFlight`). */
const unsettled = (l: EventSubscription): number | null => (l as { inFlight?: number }).inFlight ?? null;

export function nsoHealth(endpoint: string, client: NsoClient, fanIn: AckFanIn): HealthSource {
  return {
    channel: "nso",
    lifecycle: client.lifecycle,
    peer: () => endpoint,
    eventsTotal: () => client.types.total,
    eventsByType: () => client.types.snapshot(),
    drops: () => client.drops.snapshot(),
    userTypes: { "nso-events": "server" },
    details: () => ({
      subscriptions: { mask: `0x${client.mask.toString(16)}`, types: namesOf(client.mask) },
      acks: { pending: fanIn.size, answered: { ...fanIn.answered } },
      pauses: client.readPauses,
    }),
  };
}

export function apicHealth(client: ApicClient): HealthSource {
  return {
    channel: "apic",
    lifecycle: client.lifecycle,
    peer: () => client.host,
    eventsTotal: () => client.types.total,
    eventsByType: () => client.types.snapshot(),
    drops: () => client.drops.snapshot(),
    userTypes: { "apic-events": "controller" },
    details: () => {
      const st = client.stats;
      return {
        // APIC forgets an id that is not refreshed in time: when ours is next refreshed.
        subscriptions: client.subscriptions().map((s) => ({
          query: s.query.path,
          id: s.id ?? null,
          nextRefresh: s.id === undefined ? null : iso((s.lastRefreshAt ?? s.subscribedAt ?? Date.now()) + (s.query.refreshTimeoutSeconds * 1000) / 2),
          error: s.lastError?.message ?? null,
        })),
        renewals: st.renewals,
        pauses: st.pauses,
      };
    },
  };
}

export function amqpHealth(urls: string, conn: AmqpConnection): HealthSource {
  return {
    channel: "amqp",
    lifecycle: conn.lifecycle,
    peer: () => conn.broker?.url ?? urls,
    eventsTotal: () => conn.types.total,
    eventsByType: () => conn.types.snapshot(),
    drops: () => conn.drops.snapshot(),
    userTypes: { "amqp1-events": "broker", "amqp1-send": "broker" },
    details: () => ({
      broker: conn.broker ? [conn.broker.product, conn.broker.version].filter(Boolean).join(" ") || null : null,
      // Receivers: the credit is the window of unsettled deliveries; backlog, the deliveries held
      // and not settled yet. Senders: the events waiting to go out.
      subscriptions: [...conn.links].flatMap((l): Array<Record<string, unknown>> =>
        l instanceof EventSubscription
          ? [
              {
                kind: "receiver",
                address: l.address,
                state: l.state,
                credit: l.credit,
                backlog: unsettled(l),
                received: l.received,
                filtered: l.filtered,
                overruns: l.overruns,
              },
            ]
          : l instanceof EventSender
            ? [{ kind: "sender", address: l.address, state: l.state, backlog: l.queued, maxQueue: l.maxQueue }]
            : [],
      ),
    }),
  };
}

export function sysadmHealth(url: string, client: SysadmClient): HealthSource {
  return {
    channel: "sysadm",
    lifecycle: client.lifecycle,
    peer: () => url,
    eventsTotal: () => client.types.total,
    eventsByType: () => client.types.snapshot(),
    drops: () => client.drops.snapshot(),
    userTypes: { "sysadm-events": "server" },
    details: () => ({
      subscriptions: client.subscriptions,
      snapshots: client.stats.snapshots,
      pauses: client.stats.pauses,
    }),
  };
}
