import { withoutUserInfo } from "./lib/redact";
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, SendFn, DoneFn } from "./lib/red";
import { EventStatus } from "./lib/event-status";
import { SharedUse } from "./lib/shared-use";
import { GAP_TOPIC, gapMessage } from "./lib/gap";
import { DropEpisode, FlowWindow, FlowWindowStats, SendOptions } from "./lib/flow-window";
import { windowSetting } from "./lib/window-setting";
import { OutputRouter, parseKeyList } from "./lib/routing";
import { connectedStatus, errorStatus, shortCount } from "./lib/status";
import { InfraError } from "../core/errors";
import { NodeResources } from "./lib/resources";
import { EVENT_TYPES, GapInfo, isEventType, SysadmEvent, sysadmEventId } from "../sysadm";
import type { SysadmServerHandle, SysadmUser } from "./lib/handles";

/** What sysadm-server offers its users (see sysadm-server.ts). */
interface SysadmServerNode extends Node, SysadmServerHandle {}

/**
 * sysadm-events: one message per sysadm event (topic = event type, payload = args,
 * msg.sysadm = {priority, snapshot, server}), on one output or routed per event type.
 */
interface SysadmEventsDef extends NodeDef {
  server: string;
  events: string;
  routing: "single" | "event";
  /** Flow control: at most this many of the node's messages unfinished in the flow (default 100). */
  window?: string | number;
}

/** The flow window's figures, for tests and the health view. */
interface FlowStatsNode extends Node {
  flowStats?: () => FlowWindowStats;
}

export = function (RED: NodeAPI) {
  function SysadmEvents(this: Node, config: SysadmEventsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server) as SysadmServerNode | null;
    const types = parseKeyList(config.events ?? EVENT_TYPES.join(","));
    const unknown = types.filter((t) => !isEventType(t));
    if (!server) {
      node.status(errorStatus(RED._("sysadm-events.errors.no-server")));
      node.error(RED._("sysadm-events.errors.no-server"));
      return;
    }
    if (server.configError || unknown.length) {
      const why = server.configError?.message ?? `unknown event type ${unknown.join(", ")}`;
      node.status(errorStatus(why));
      node.error(why);
      return;
    }
    // Per-type outputs in the editor's order; events of other types (added by an input
    // message) and gap markers go to the last, "other" output.
    const router = config.routing === "event" ? new OutputRouter(types, { other: true }) : undefined;
    // Never a secret in a message, even if someone wrote user:password@ into the URL.
    const serverLabel = withoutUserInfo(server.url);
    const resources = new NodeResources();
    const shared = new SharedUse(node, resources);
    let count = 0;
    const status = new EventStatus(node, resources, () => (count > 0 ? connectedStatus(`${shortCount(count)} events`) : undefined));

    // Flow control: the flow holds at most `window` of this node's messages; beyond that the
    // server connection stops reading (hold), or the oldest waiting events are dropped and a gap
    // message says how many (drop-oldest, the server node's choice).
    let dropWarned = false;
    let writtenOffWarned = false;
    const win = new FlowWindow(
      RED,
      node,
      { window: windowSetting(config.window, (text) => node.warn(`sysadm-events: ${text}`)), mode: server.overflow },
      { pause: () => server.gate?.hold(node.id), resume: () => server.gate?.release(node.id) },
      {
        dropped: (e) => announceDrop(e),
        writtenOff: (n) => {
          if (writtenOffWarned) return;
          writtenOffWarned = true;
          node.warn(RED._("sysadm-events.warn.written-off", { count: n }));
        },
      },
    );
    (node as FlowStatsNode).flowStats = () => win.stats;
    // Lets go of the server's gate too: the other users' reading must not stay stopped.
    resources.add(() => win.close());

    const send = (key: string, msg: NodeMessage, opts?: SendOptions) => {
      const out = router ? router.route(key, msg) : msg;
      if (out) win.send(out, msg, opts);
    };

    const announceDrop = (e: DropEpisode) => {
      if (!dropWarned) {
        dropWarned = true;
        node.warn(RED._("sysadm-events.warn.dropped", { count: e.dropped }));
      }
      const msg = gapMessage(
        "sysadm",
        { reason: `the flow fell behind: ${e.dropped} events dropped`, since: e.since, until: e.until, filled: false },
        { dropped: e.dropped, server: serverLabel },
        server,
      );
      send(GAP_TOPIC, { ...msg, sysadm: { gap: true, server: serverLabel } }, { keep: true });
    };

    const user: SysadmUser = {
      ...status.target,
      onEvent(ev: SysadmEvent) {
        count++;
        const msg = {
          topic: ev.name,
          payload: ev.args,
          sysadm: { priority: ev.priority, snapshot: ev.snapshot, server: serverLabel },
          eventId: sysadmEventId(serverLabel, ev),
        } as NodeMessage;
        if (ev.bridge !== undefined) (msg as { sysadm: Record<string, unknown> }).sysadm.bridge = ev.bridge;
        send(ev.name, msg);
        if (count === 1) status.draw();
        else status.changed();
      },
      onGap(gap: GapInfo) {
        // Said out loud: the server has no replay, so a flow must know it may have missed events.
        const msg = gapMessage("sysadm", { reason: gap.reason, since: gap.from, until: gap.to, filled: false }, { server: serverLabel }, server);
        node.warn(RED._("sysadm-events.warn.gap", { since: msg.payload.since, until: msg.payload.until, reason: msg.payload.reason }));
        // Never dropped: it is the flow's only word that events were lost.
        send(GAP_TOPIC, { ...msg, sysadm: { gap: true, server: serverLabel } }, { keep: true });
      },
      onDrop(err, first) {
        if (first) node.error(err, { topic: "sysadm/drop", payload: { code: err.code, message: err.message } });
      },
      onError(err) {
        node.error(err);
      },
    };
    shared.join({ register: (u: SysadmUser) => server.register(u, types), deregister: (u, removed) => server.deregister(u, removed) }, user);

    node.on("input", (msg: NodeMessageInFlow, _send: SendFn, done: DoneFn) => {
      const m = msg as NodeMessageInFlow & { action?: unknown; events?: unknown };
      const hub = server.hub;
      if (m.action !== "subscribe" && m.action !== "unsubscribe") {
        done(new InfraError("bad-action", RED._("sysadm-events.errors.bad-action")));
        return;
      }
      const list = typeof m.events === "string" ? parseKeyList(m.events) : Array.isArray(m.events) ? parseKeyList(m.events.map(String)) : [];
      const bad = list.filter((t) => !isEventType(t));
      if (!list.length || bad.length || !hub) {
        done(new InfraError("bad-events", RED._("sysadm-events.errors.bad-events", { bad: bad.join(", ") || "(none)", known: EVENT_TYPES.join(", ") })));
        return;
      }
      const change = m.action === "subscribe" ? hub.add(user, list) : hub.remove(user, list);
      change.then(
        () => done(),
        (e: Error) => done(e),
      );
    });
  }

  RED.nodes.registerType("sysadm-events", SysadmEvents as never);
};
