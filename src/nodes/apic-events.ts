import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, SendFn, DoneFn } from "./lib/red";
import { EventStatus } from "./lib/event-status";
import { SharedUse } from "./lib/shared-use";
import { gapMessage } from "./lib/gap";
import { DropEpisode, FlowWindow, FlowWindowStats, SendOptions } from "./lib/flow-window";
import { windowSetting } from "./lib/window-setting";
import { apicEventId, buildQuery, normaliseSpec } from "../apic";
import type { ApicEvent, ApicGap, DropReport, LocalSubscription, SubscriptionListener, SubscriptionSpec } from "../apic";
import type { ApicControllerHandle } from "./lib/handles";
import { configuredSpecs, routerFor, STATUS_OUTPUTS } from "./lib/apic-settings";
import { asError } from "../core/errors";
import { NodeResources } from "./lib/resources";
import { connectedStatus, errorStatus, shortCount } from "./lib/status";

/**
 * apic-events: one message per managed-object change from the queries it subscribes to,
 * routed to one output, by status (created, modified, deleted, sync) or by class (+ other).
 * A `gap` message says when changes may have been missed; the `sync` objects that follow it
 * are the re-read state to reconcile with. An input message changes subscriptions at run time.
 */
interface ApicEventsDef extends NodeDef {
  controller: string;
  subscriptions: unknown;
  routing: "single" | "status" | "class";
  classes: string;
  outputs: number;
  /** Flow control: at most this many of the node's messages unfinished in the flow (default 100). */
  window?: string | number;
}

/** The flow window's figures, for tests and the health view. */
interface FlowStatsNode extends Node {
  flowStats?: () => FlowWindowStats;
}

export = function (RED: NodeAPI): void {
  function ApicEvents(this: Node, config: ApicEventsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const res = new NodeResources();
    const shared = new SharedUse(node, res);
    const controller = RED.nodes.getNode(config.controller) as unknown as ApicControllerHandle | null;
    const router = routerFor(config.routing, config.classes);
    // Gap notices and `list` replies leave on the output where the re-read objects go (sync),
    // the catch-all output when routing by class, the only output otherwise.
    const controlIndex = config.routing === "status" ? STATUS_OUTPUTS.indexOf("sync") : router.lastIndex;
    let events = 0;
    const subs: LocalSubscription[] = [];
    const status = new EventStatus(node, res, () => {
      const refused = subs.filter((s) => s.lastError !== undefined).length;
      // Events for a subscription id we no longer hold are normal after a lapse: not a drop to show.
      const counter = controller?.client?.drops;
      const drops = counter ? counter.total - counter.count("unknown-subscription-id") : 0;
      // A refused query is retried on its own; the status says so until APIC accepts it.
      const text = `${shortCount(events)} events${drops ? `, ${shortCount(drops)} dropped` : ""}${refused ? `, ${refused} refused (retrying)` : ""}`;
      return refused ? { fill: "yellow", shape: "dot", text } : connectedStatus(text);
    });
    const user = status.target;

    if (!controller) {
      node.status(errorStatus("no apic-controller configured"));
      node.on("input", (_m: NodeMessageInFlow, _s: SendFn, done: DoneFn) => done(new Error("no apic-controller configured")));
      return;
    }

    // Flow control: the flow holds at most `window` of this node's messages; beyond that the
    // controller's sockets stop reading (hold), or the oldest waiting changes are dropped and a
    // gap message says how many (drop-oldest, the controller node's choice).
    let dropWarned = false;
    let writtenOffWarned = false;
    const gate = controller.gate;
    const win = new FlowWindow(
      RED,
      node,
      { window: windowSetting(config.window, (text) => node.warn(`apic-events: ${text}`)), mode: controller.overflow },
      { pause: () => gate?.hold(node.id), resume: () => gate?.release(node.id) },
      {
        dropped: (e) => announceDrop(e),
        writtenOff: (n) => {
          if (writtenOffWarned) return;
          writtenOffWarned = true;
          node.warn(
            `${n} messages were not finished by the flow within 5 minutes (a node that never calls done?): they no longer count against the window; this warning is shown once`,
          );
        },
      },
    );
    (node as FlowStatsNode).flowStats = () => win.stats;
    // Lets go of the controller's gate too: the other users' reading must not stay stopped.
    res.add(() => win.close());

    function out(index: number, msg: NodeMessage, opts?: SendOptions): void {
      win.send(router.at(index, msg), msg, opts);
    }

    function announceDrop(e: DropEpisode): void {
      if (!dropWarned) {
        dropWarned = true;
        node.warn(
          `the flow fell behind: ${e.dropped} changes dropped (controller setting: drop the oldest); a gap message with payload.dropped says so, this warning is shown once`,
        );
      }
      const msg = gapMessage(
        "apic",
        { reason: `the flow fell behind: ${e.dropped} events dropped`, since: e.since, until: e.until, filled: false },
        { dropped: e.dropped, controller: controller!.describe },
        controller,
      );
      out(controlIndex, { ...msg, apic: { status: "gap", controller: controller!.describe } }, { keep: true });
    }

    const refusals = new WeakMap<LocalSubscription, string>();
    const listener: SubscriptionListener = {
      onEvent(ev: ApicEvent, sub: LocalSubscription) {
        events++;
        const apic: Record<string, unknown> = {
          dn: ev.dn,
          status: ev.status,
          class: ev.class,
          subscriptionIds: ev.subscriptionIds,
          controller: controller.describe,
          query: sub.query.path,
        };
        // The subtree a query with rsp-subtree read with the object (sync objects).
        if (ev.children) apic.children = ev.children;
        const msg = { topic: ev.class, payload: ev.attributes, apic, eventId: apicEventId(ev) };
        const key = config.routing === "status" ? ev.status : ev.class;
        const i = router.indexOf(key);
        if (i >= 0) out(i, msg);
        status.changed();
      },
      onGap(gap: ApicGap) {
        node.warn(`changes may have been missed (${gap.reason}); re-reading ${gap.queries.length} quer${gap.queries.length === 1 ? "y" : "ies"}`);
        const msg = gapMessage(
          "apic",
          { reason: gap.reason, since: gap.since ?? gap.until, until: gap.until, filled: "re-read" },
          { queries: gap.queries, controller: controller.describe },
          controller,
        );
        // Never dropped: it is what tells the flow to reconcile with the sync objects that follow.
        out(controlIndex, { ...msg, apic: { status: "gap", controller: controller.describe } }, { keep: true });
      },
      onError(err: Error, sub: LocalSubscription) {
        const retry = sub.retryAt !== undefined ? `; retrying in ${Math.max(1, Math.round((sub.retryAt - Date.now()) / 1000))} s` : "";
        // The first refusal is a Catch-able error; the retries that follow only warn, and only
        // when APIC's reason changes, so a bad filter does not flood the log every few minutes.
        if (sub.failures <= 1) node.error(`subscription ${sub.query.path} refused: ${err.message}${retry}`, { topic: "error", payload: sub.describe() });
        else if (refusals.get(sub) !== err.message) node.warn(`subscription ${sub.query.path} still refused: ${err.message}${retry}`);
        refusals.set(sub, err.message);
        status.draw();
      },
    };

    const client = controller.client;
    if (!client) {
      // The config node could not build a client; it shows why on register.
      shared.join(controller, user);
      node.on("input", (_m: NodeMessageInFlow, _s: SendFn, done: DoneFn) => done(new Error("apic-controller is misconfigured")));
      return;
    }

    const add = (spec: SubscriptionSpec): LocalSubscription => {
      const s = client.subscribe(spec, listener);
      subs.push(s);
      return s;
    };
    try {
      // Check every entry before subscribing any: a bad list subscribes nothing, not half of it.
      const specs = configuredSpecs(config.subscriptions);
      for (const spec of specs) buildQuery(spec);
      for (const spec of specs) add(spec);
    } catch (e) {
      // Stays visible: the connection's green status must not hide it.
      status.problem(`bad subscription: ${asError(e).message}`);
      node.error(`bad subscription in the node's list: ${asError(e).message}`);
    }
    res.add(() => {
      for (const s of subs.splice(0)) client.unsubscribe(s);
    });

    res.on(client, "drop", (d: DropReport) => {
      // First of each reason only: a peer sending garbage at line rate must not flood the log.
      if (d.first)
        node.error(
          `${d.reason === "flow-listener-error" ? "error while handling an APIC event" : "dropped input from APIC"} (${d.reason}): ${d.error.message}; further drops of this kind are only counted`,
          { topic: "drop", payload: { reason: d.reason, message: d.error.message } },
        );
      status.changed();
    });

    shared.join(controller, user);

    node.on("input", (msg: NodeMessageInFlow & { action?: unknown }, send: SendFn, done: DoneFn) => {
      try {
        const action = msg.action;
        if (action !== "subscribe" && action !== "unsubscribe" && action !== "list") {
          throw new Error(`msg.action must be "subscribe", "unsubscribe" or "list", not ${JSON.stringify(action)}`);
        }
        const payload = msg.payload;
        if (action === "unsubscribe" && (payload === undefined || payload === null || payload === "all")) {
          for (const s of subs.splice(0)) client.unsubscribe(s);
        } else if (action !== "list") {
          const specs = (Array.isArray(payload) ? payload : [payload]).map((p) => normaliseSpec(p));
          // Check every spec before changing anything: a bad one leaves the set as it was.
          const paths = specs.map((spec) => buildQuery(spec).path);
          if (action === "unsubscribe") {
            const missing = paths.filter((p) => !subs.some((x) => x.query.path === p));
            if (missing.length) throw new Error(`not subscribed to ${missing.join(", ")}`);
          }
          specs.forEach((spec, i) => {
            const existing = subs.find((x) => x.query.path === paths[i]);
            if (action === "subscribe") {
              // Subscribing the same query twice would deliver every change twice.
              if (!existing) add(spec);
            } else if (existing) {
              client.unsubscribe(existing);
              subs.splice(subs.indexOf(existing), 1);
            }
          });
        }
        send(listReply(msg));
        done();
      } catch (e) {
        done(asError(e));
      }
    });

    function listReply(msg: NodeMessageInFlow): Array<NodeMessage | null> | NodeMessage {
      const reply = { ...msg, topic: "subscriptions", payload: subs.map((s) => s.describe()) } as NodeMessage;
      return router.at(controlIndex, reply);
    }
  }

  RED.nodes.registerType("apic-events", ApicEvents as never);
};
