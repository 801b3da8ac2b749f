import type { Node, NodeAPI, NodeDef, NodeMessage } from "./lib/red";
import { gapMessage } from "./lib/gap";
import { FlowWindow, FlowWindowStats } from "./lib/flow-window";
import { windowSetting } from "./lib/window-setting";
import { EventStatus } from "./lib/event-status";
import { reaches } from "./lib/wire-reach";
import { OutputRouter, parseKeyList } from "./lib/routing";
import { connectedStatus, errorStatus, shortCount } from "./lib/status";
import { NodeResources } from "./lib/resources";
import {
  blockingTypes,
  DEFAULT_EVENT_REPLY_TIMEOUT_MS,
  diffWish,
  FLAG_BITS,
  isNotifBitName,
  missingDiffRead,
  notificationTag,
  nsoEventId,
  StreamValueNamer,
  VERBOSITY,
  withChanges,
} from "../nso";
import type { CommitDiffResult, ConsumerWish, DiffWish, NotifBitName, TagValue } from "../nso";
import { asError } from "../core/errors";
import type { Delivery, NsoServerHandle, NsoUser } from "./lib/handles";

type NsoEvent = Delivery;

/**
 * nso-events: one message per NSO notification. msg.topic = the Python constant name,
 * msg.payload = the decoded notification, msg.nso = {type, typeName, server}, and on
 * blocking notifications msg.ack = a plain token for nso-ack. Routing "type" gives one
 * labelled output per selected type plus "other" (the Switch-node pattern).
 *
 * Every message goes out through the node's FlowWindow: at most `window` of them unfinished in
 * the flow. Beyond it the node holds the server's gate (NSO is held back) or, with the server's
 * "drop-oldest", drops the oldest waiting ones and sends one gap message per episode. Blocking
 * notifications (they carry an ack token) are never dropped and keep their order.
 */
interface NsoEventsDef extends NodeDef {
  server: string;
  notifications: string[] | string;
  heartbeat: string | number;
  healthCheck: string | number;
  stream: string;
  startTime: string;
  stopTime: string;
  xpathFilter: string;
  usid: string | number;
  verbosity: string;
  routing: "single" | "type";
  /** "flow": the flow answers with nso-ack (auto-ack as the safety net); "sent": the node answers once the message is sent. */
  ackMode?: "flow" | "sent";
  autoAck: string | number;
  /** "Read what changed" for NOTIF_COMMIT_DIFF over MAAPI. */
  readDiff?: boolean | string;
  diffSubtree?: string;
  /** Seconds the commit may be held while we read. */
  diffBudget?: string | number;
  diffMaxChanges?: string | number;
  /** Ack as soon as the diff is read (msg.ack is then left out). */
  ackAtOnce?: boolean | string;
  /** Names and XML for stream-event values (schema hash table over MAAPI). */
  streamNames?: boolean | string;
  /** Flow control: at most this many of the node's messages unfinished in the flow (default 100). */
  window?: string | number;
}

const flag = (v: boolean | string | undefined): boolean => v === true || v === "true";

/** The keys the outputs are routed by: selected message types, flags left out, in the editor's order. */
function routingKeys(types: readonly string[]): string[] {
  return types.filter((t) => !FLAG_BITS.includes(t as NotifBitName));
}

function num(v: string | number | undefined, dflt: number): number {
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : dflt;
}

function nsoEvents(RED: NodeAPI): void {
  function NsoEvents(this: Node, config: NsoEventsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server) as NsoServerHandle | null;
    const types = parseKeyList(config.notifications);
    if (!server) {
      node.status(errorStatus("no nso-server configured"));
      node.error("nso-events: no nso-server configuration node selected");
      return;
    }
    const unknown = types.filter((t) => !isNotifBitName(t));
    // Without a stream name the subscription leaves the stream bit out: the node would deploy
    // fine and then never receive a stream event. Refused here, with the reason.
    const streamUnnamed = types.includes("NOTIF_STREAM_EVENT") && !config.stream?.trim();
    if (types.length === 0 || unknown.length > 0 || streamUnnamed) {
      const why =
        types.length === 0
          ? "no notification type selected"
          : unknown.length > 0
            ? `unknown notification types: ${unknown.join(", ")}`
            : "NOTIF_STREAM_EVENT needs a stream name (e.g. NETCONF)";
      node.status(errorStatus(why));
      node.error(`nso-events: ${why}`);
      return;
    }
    const router = new OutputRouter(config.routing === "type" ? routingKeys(types) : [], { other: true });
    const single = config.routing !== "type";
    const autoAckSec = num(config.autoAck, 10);
    const readDiff = flag(config.readDiff) && types.includes("NOTIF_COMMIT_DIFF");
    const ackAtOnce = readDiff && flag(config.ackAtOnce);
    const ackOnSend = config.ackMode === "sent";
    const streamNames = flag(config.streamNames) && types.includes("NOTIF_STREAM_EVENT");
    let diff: DiffWish | undefined;
    if (readDiff) {
      try {
        // Checked at deploy: a bad setting is refused, never a commit held too long.
        diff = diffWish({ budgetSeconds: config.diffBudget, maxChanges: config.diffMaxChanges, subtree: config.diffSubtree }, autoAckSec);
      } catch (e) {
        const why = asError(e).message;
        node.status(errorStatus(why));
        node.error(`nso-events: ${why}`);
        return;
      }
    }
    const wish: ConsumerWish = {
      types,
      heartbeatMs: num(config.heartbeat, 10) * 1000,
      healthCheckMs: num(config.healthCheck, 10) * 1000,
      verbosity: VERBOSITY[config.verbosity as keyof typeof VERBOSITY] ?? num(config.verbosity, 0),
      autoAckMs: autoAckSec * 1000,
      stream: config.stream?.trim()
        ? {
            name: config.stream.trim(),
            startTime: config.startTime || undefined,
            stopTime: config.stopTime || undefined,
            xpathFilter: config.xpathFilter || undefined,
            usid: num(config.usid, 0),
          }
        : undefined,
    };
    const res = new NodeResources();
    let count = 0;
    const status = new EventStatus(node, res, () => (count > 0 ? connectedStatus(`${shortCount(count)} events`) : undefined));
    const window = windowSetting(config.window, (text) => node.warn(`nso-events: ${text}`));
    // Node-RED's close flag: false on a partial deploy that only restarts this node.
    let removedOnClose = true;
    let closed = false;
    /** Aborted on close: a diff read or hash-table load in flight settles at once. */
    const closing = new AbortController();
    res.add(() => closing.abort());
    /**
     * With MAAPI work on, messages go out through one chain so they keep NSO's order; the
     * chain is also what close waits for, so every commit we hold is answered before done().
     */
    let chain: Promise<void> = Promise.resolve();
    const namer = new StreamValueNamer(
      () => server.maapi(),
      (text) => node.warn(text),
    );

    /**
     * What the window holds for this node, in the order given to it (sent first, then waiting):
     * the flow has not finished these. At close the last `queued` of them were never sent.
     */
    const inWindow = new Set<{ ev?: NsoEvent }>();
    let droppedWarned = false;
    let writtenOffWarned = false;
    const win = new FlowWindow(
      RED,
      node,
      { window, mode: server.overflow },
      { pause: () => server.hold(node.id), resume: () => server.release(node.id) },
      {
        dropped: (e) => {
          if (closed) return;
          const gap = gapMessage(
            "nso",
            { reason: `the flow fell behind: ${e.dropped} events dropped`, since: e.since, until: e.until, filled: false },
            { dropped: e.dropped, server: server.endpoint },
            server,
          );
          toWindow("gap", { ...gap, nso: { type: null, typeName: "gap", server: server.endpoint } }, undefined, true);
          if (!droppedWarned)
            node.warn(
              `the flow fell behind: ${e.dropped} notifications dropped (nso-server setting: drop the oldest); a gap message with payload.dropped says how many each time, this warning is shown once`,
            );
          droppedWarned = true;
        },
        writtenOff: (n) => {
          if (!writtenOffWarned)
            node.warn(
              `${n} messages were not finished by the flow within 5 minutes (a node that never calls done?): they no longer count against the window; this warning is shown once`,
            );
          writtenOffWarned = true;
        },
      },
    );
    /** The window's figures, for tests and the health view. */
    (node as Node & { flowStats?: () => FlowWindowStats }).flowStats = () => win.stats;

    /** Hand a message to the window; `keep`: never dropped (blocking notifications, gap messages). */
    const toWindow = (key: string, msg: NodeMessage & Record<string, unknown>, ev: NsoEvent | undefined, keep: boolean): void => {
      const entry = { ev };
      inWindow.add(entry);
      const forget = (): void => void inWindow.delete(entry);
      win.send(single ? msg : (router.route(key, msg) as NodeMessage[]), msg, { keep, onFinished: forget, onDropped: forget });
    };

    const emit = (ev: NsoEvent, msg: NodeMessage & Record<string, unknown>): void => {
      const n = ev.notification;
      count++;
      status.changed();
      // "Ack as soon as the message is sent": the token is ours to use, so it does not travel.
      // With the window it is answered when the node takes the notification: NSO does not wait
      // for a flow that only observes, even while the flow is behind.
      const token = ackOnSend ? msg.ack : undefined;
      if (token !== undefined) delete msg.ack;
      toWindow(n.type, msg, ev, ev.ack !== undefined);
      if (token !== undefined) server.ack(token).catch((e: Error) => node.error(`nso-events: could not ack ${n.type} after sending it: ${e.message}`, msg));
    };

    const baseMsg = (ev: NsoEvent): NodeMessage & Record<string, unknown> => {
      const n = ev.notification;
      // From the type, not ev.raw: reading raw would build the term the fast decoder skipped.
      const tag = notificationTag(n);
      const msg: NodeMessage & Record<string, unknown> = {
        topic: n.type,
        payload: n.payload,
        nso: { type: tag, typeName: n.type, server: server.endpoint },
        eventId: nsoEventId(server.endpoint, n),
      };
      if (ev.ack) msg.ack = { ...ev.ack };
      return msg;
    };

    /**
     * Answer this node's share of a notification nobody downstream will see (the node closed
     * while it waited), and leave the commit's diff read to the other nodes.
     */
    const releaseUnsent = (ev: NsoEvent): Promise<void> => {
      // Taken but never sent: the node that replaces this one (a redeploy) announces it as a gap.
      server.unsent(node.id, ev.at);
      ev.diff?.leave();
      return ev.ack
        ? server.ack(ev.ack).then(
            () => undefined,
            () => undefined /* the socket is gone: NSO released the wait itself */,
          )
        : Promise.resolve();
    };

    const withDiff = async (ev: NsoEvent): Promise<void> => {
      const p = ev.notification.payload;
      const th = (p.tctx as { th?: number } | undefined)?.th;
      if (closed) return releaseUnsent(ev);
      // The server reads each commit once for every node that reads it; this is our view of it.
      const r: CommitDiffResult & { acked?: boolean; ackError?: string } = ev.diff ? await ev.diff.read(closing.signal) : missingDiffRead(th);
      // Our share is answered only after the read, and NSO only after every node's share.
      if (ackAtOnce && ev.ack && r.reason !== "aborted") {
        r.acked = await server.ack(ev.ack).then(
          () => true,
          (x: Error) => ((r.ackError = x.message), false),
        );
      }
      if (closed || r.reason === "aborted") {
        // Nobody will get this message: answer NSO now unless the read already did.
        if (r.acked === undefined) await releaseUnsent(ev);
        return;
      }
      const msg = baseMsg(ev);
      msg.payload = withChanges(p, r);
      if (r.acked !== undefined) {
        // The node answered NSO itself: the token is used up, so it is not handed on.
        delete msg.ack;
        (msg.nso as Record<string, unknown>).acked = r.acked;
        if (!r.acked) node.error(`nso-events: could not ack the commit diff (th ${th}): ${r.ackError}`, msg);
      }
      if (r.reason === "error") node.error(`nso-events: could not read what changed in commit th ${th}: ${r.error?.message}; the message says truncated`, msg);
      else if (r.truncated)
        node.warn(
          `read ${r.changes.length} changes of commit th ${th}, then stopped (${r.reason === "budget" ? `the ${diff!.budgetMs / 1000} s budget ran out` : `the cap of ${diff!.maxChanges} changes`}); msg.payload.truncated is true`,
        );
      emit(ev, msg);
    };

    const withNames = async (ev: NsoEvent): Promise<void> => {
      const p = ev.notification.payload;
      const values = p.values as TagValue[] | undefined;
      if (closed) return releaseUnsent(ev);
      const msg = baseMsg(ev);
      if (Array.isArray(values)) {
        const named = await namer.name(values, closing.signal, () => closed);
        if (closed) return releaseUnsent(ev);
        if (named) msg.payload = { ...p, values: named.values, xml: named.xml };
      }
      emit(ev, msg);
    };

    const user: NsoUser = {
      id: node.id,
      wish,
      diff,
      status: (s) => status.setConnection(s),
      deliver(ev) {
        // Closing: not taken, so the server holds it for the node that replaces this one.
        if (closed) return false;
        if (!readDiff && !streamNames) {
          ev.diff?.leave();
          emit(ev, baseMsg(ev));
          return true;
        }
        const type = ev.notification.type;
        const job =
          readDiff && type === "NOTIF_COMMIT_DIFF"
            ? () => withDiff(ev)
            : streamNames && type === "NOTIF_STREAM_EVENT"
              ? () => withNames(ev)
              : async () => {
                  if (closed) return releaseUnsent(ev);
                  emit(ev, baseMsg(ev));
                };
        // A job never rejects into the chain: a thrown error is reported and the next one runs.
        chain = chain.then(job).catch((e: unknown) => node.error(`nso-events: ${asError(e).message}`));
        return true;
      },
      dropped(err) {
        // With a message, so a Catch node sees it; the frame itself is gone (dropped and counted).
        node.error(err, {
          topic: "nso-dropped",
          payload: { code: err.code, message: err.message, details: err.details ?? null },
          nso: { server: server.endpoint },
        });
      },
      autoAcked(typeName, why) {
        node.warn(
          why === "timeout"
            ? `auto-acked ${typeName} after ${autoAckSec} s: no nso-ack answered in time (NSO was blocked until then)`
            : `auto-acked ${typeName}: too many unanswered acks were open`,
        );
      },
      warn(text) {
        node.warn(text);
      },
      gap(info) {
        // A stream-only node whose subscription was resumed has its gap closed by NSO's replay;
        // any other type sent while the socket was down is gone (NSO keeps no backlog of them).
        const streamOnly = types.every((t) => t === "NOTIF_STREAM_EVENT" || t === "NOTIF_HEARTBEAT" || t === "NOTIF_HEALTH_CHECK");
        const filled = streamOnly && info.streamResumed ? "replay" : false;
        const gap = gapMessage(
          "nso",
          { reason: info.reason, since: Date.parse(info.since), until: Date.parse(info.reconnectedAt), filled },
          { server: info.server, streamResumed: info.streamResumed },
          server,
        );
        const msg: NodeMessage & Record<string, unknown> = { ...gap, nso: { type: null, typeName: "gap", server: server.endpoint } };
        // On the single output, or the last ("other") output when routing by type; after any
        // message still being read (those came before the loss).
        const send = (): void => {
          if (!closed) toWindow("gap", msg, undefined, true);
        };
        if (!readDiff && !streamNames) return send();
        chain = chain.then(send).catch((e: unknown) => node.error(`nso-events: ${asError(e).message}`));
      },
    };
    server.register(user);
    res.add(() => server.deregister(user, removedOnClose));

    // Auto-ack is a safety net, not a way of working: a blocking type that waits for an nso-ack
    // no wire leads to holds NSO for the whole delay on every notification. Said once, at deploy
    // (when every node of the flow is running and its wires can be followed).
    const waitsForFlow = ackOnSend ? [] : blockingTypes(types).filter((t) => !(t === "NOTIF_COMMIT_DIFF" && ackAtOnce));
    if (waitsForFlow.length > 0) {
      const check = (): void => {
        const wires = (node as Node & { wires?: string[][] }).wires ?? [];
        const unreached = waitsForFlow.filter((t) => reaches(RED, wires[single ? 0 : router.indexOf(t)] ?? [], (type) => type === "nso-ack") === "no");
        if (unreached.length === 0) return;
        const holds =
          autoAckSec > 0
            ? `the auto-ack delay (${autoAckSec} s)`
            : `NSO's event-reply-timeout (${DEFAULT_EVENT_REPLY_TIMEOUT_MS / 1000} s by default; auto-ack is off)`;
        node.warn(
          `${unreached.join(", ")}: NSO waits for an answer to each of these, but no nso-ack is wired after this node${single ? "" : " on their outputs"}, ` +
            `so each one holds NSO for ${holds}. Wire an nso-ack, or set Ack to "as soon as the message is sent" if the flow only observes.`,
        );
      };
      RED.events.once("flows:started", check);
      res.add(() => RED.events.removeListener("flows:started", check));
    }
    node.on("close", (removed: boolean, done: () => void) => {
      removedOnClose = removed;
      closed = true;
      // Reads in flight settle at once on the abort and then ack; only after that does the node
      // leave the server (the last user leaving closes the event socket, and an ack must go first).
      closing.abort();
      // Taken but still waiting in the window: answered like any notification this node could
      // not pass on (and announced to the node that replaces it).
      const all = [...inWindow];
      const unsent = all.slice(all.length - win.stats.queued).flatMap((e) => (e.ev ? [releaseUnsent(e.ev)] : []));
      inWindow.clear();
      win.close();
      void Promise.all([chain, ...unsent]).then(() => {
        try {
          res.release();
        } finally {
          done();
        }
      });
    });
  }
  RED.nodes.registerType("nso-events", NsoEvents as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
}

export = nsoEvents;
