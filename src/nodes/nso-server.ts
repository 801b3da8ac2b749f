import type { NodeAPI, NodeDef } from "./lib/red";
import { SharedConnection } from "./lib/shared-connection";
import { withoutUserInfo } from "./lib/redact";
import { InfraError } from "../core/errors";
import { errorStatus } from "./lib/status";
import { NsoClient, NsoEvent } from "../nso/client";
import { SubscriptionMux } from "../nso/mux";
import { DEFAULT_HOST, DEFAULT_NSO_PORT } from "../nso/constants";
import { AccessCheck, resolveSecret } from "../nso/handshake";
import { DEFAULT_MAX_FRAME_SIZE } from "../nso/framing";
import { AckError } from "../core/ack-registry";
import { AckKind } from "../nso/acks";
import { AckFanIn } from "../nso/ack-fanin";
import { MaapiClient } from "../nso/maapi/client";
import { readCommitDiff } from "../nso/maapi/read-diff";
import { SharedCommitDiff } from "../nso/maapi/diff-share";
import { Handover, Hold, leaveHandoff, takeHandoff } from "../nso/handover";
import type { OverflowMode } from "./lib/flow-window";
import type { Delivery, NsoGapInfo, NsoServerHandle, NsoUser } from "./lib/handles";
import { trackHealth } from "./lib/health";
import { nsoHealth } from "./lib/health-channels";

/**
 * nso-server: one NSO notification socket shared by every nso-events node that uses it.
 * The socket's single subscription is the union of what the users want (SubscriptionMux);
 * notifications are fanned out to the users that asked for their type. A blocking
 * notification gives each user its own ack share (AckFanIn): NSO gets the one ack when every
 * user that received it has answered, through `ack(token)` from nso-ack nodes, its own
 * auto-ack or itself. A commit's diff is read once for all users that read it (SharedCommitDiff).
 * Flow control: each user has its own window and holds the socket's PauseGate while its flow is
 * a window behind (the socket reads while no user holds it); `overflow` is the users' choice
 * when a flow falls behind: hold NSO back (default) or drop the oldest and announce it.
 */
interface NsoServerDef extends NodeDef {
  host: string;
  port: string | number;
  protoVsn: string;
  libVsn: string;
  accessCheck: AccessCheck;
  secretFile: string;
  heartbeat: string | number;
  maxFrameSize: string | number;
  /** "hold" (default): hold NSO back; "drop-oldest": drop the oldest waiting events and announce them. */
  overflow?: string;
}

const TYPE_OF_KIND: Record<AckKind, string> = { diff: "NOTIF_COMMIT_DIFF", audit: "NOTIF_AUDIT", audit_network: "NOTIF_AUDIT_NETWORK", ha: "NOTIF_HA_INFO" };

function intSetting(v: string | number | undefined, dflt: number, what: string): number {
  if (v === undefined || v === "") return dflt;
  const n = typeof v === "number" ? v : String(v).trim().startsWith("0x") ? parseInt(String(v), 16) : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

function nsoServer(RED: NodeAPI): void {
  function NsoServer(this: NsoServerHandle & { credentials?: { secret?: string } }, config: NsoServerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const host = config.host || DEFAULT_HOST;
    let settings: { port: number; protoVsn: number | "auto"; libVsn: number | undefined; heartbeatMs: number; maxFrameSize: number };
    try {
      const hb = config.heartbeat === undefined || config.heartbeat === "" ? 10 : Number(config.heartbeat);
      if (!(hb >= 0)) throw new RangeError(`heartbeat interval must be a number of seconds >= 0, got ${JSON.stringify(config.heartbeat)}`);
      settings = {
        port: intSetting(config.port, DEFAULT_NSO_PORT, "port"),
        protoVsn: !config.protoVsn || config.protoVsn === "auto" ? "auto" : intSetting(config.protoVsn, 82, "protocol version"),
        libVsn: config.libVsn ? intSetting(config.libVsn, 0x08020500, "LIB_VSN") : undefined,
        heartbeatMs: Math.round(hb * 1000),
        maxFrameSize: intSetting(config.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, "maximum frame size") || DEFAULT_MAX_FRAME_SIZE,
      };
    } catch (e) {
      // A bad setting must not take the runtime down: say it on the node and on every user.
      const why = `nso-server: ${(e as Error).message}`;
      node.error(why);
      (node as { endpoint: string }).endpoint = withoutUserInfo(`${host}:?`);
      (node as { overflow: OverflowMode }).overflow = "hold";
      node.hold = () => undefined;
      node.release = () => undefined;
      node.register = (user) => user.status(errorStatus(why));
      node.deregister = () => undefined;
      node.unsent = () => undefined;
      node.ack = () => Promise.reject(new InfraError("nso-bad-config", why));
      node.maapi = () => {
        throw new InfraError("nso-bad-config", why);
      };
      return;
    }
    const { port, protoVsn, libVsn, heartbeatMs } = settings;
    const accessCheck: AccessCheck = config.accessCheck === "md5" || config.accessCheck === "sha256" ? config.accessCheck : "none";
    // msg.nso.server and log lines: a "user:password@" typed into the host field stays out.
    (node as { endpoint: string }).endpoint = withoutUserInfo(`${host}:${port}`);
    (node as { overflow: OverflowMode }).overflow = config.overflow === "drop-oldest" ? "drop-oldest" : "hold";

    const users = new Map<string, NsoUser>();
    const mux = new SubscriptionMux<NsoUser>({ heartbeatMs });
    const secret = (): Buffer | undefined => resolveSecret({ secret: node.credentials?.secret, secretFile: config.secretFile || undefined });
    const client = new NsoClient({
      host,
      port,
      protoVsn,
      libVsn,
      accessCheck,
      secret: () => secret(),
      maxFrameSize: settings.maxFrameSize,
      owner: node.id,
      livenessTimeoutMs: heartbeatMs > 0 ? heartbeatMs * 3 : 0,
      subscription: () => {
        const r = mux.request();
        if (!r) throw new RangeError("no nso-events node selects a notification type");
        return r;
      },
      // No auto-ack in the client: each user's share has its own timer (AckFanIn).
    });
    (node as { client: NsoClient }).client = client;
    node.hold = (id) => client.gate.hold(id);
    node.release = (id) => client.gate.release(id);
    // Registered before SharedConnection's close handler stops the client (and forgets `lost`).
    node.on("close", () => leaveNote(handover.drain()));
    const shared = new SharedConnection<NsoUser>(node, client.lifecycle, `NSO ${host}:${port}`);
    const fanIn = new AckFanIn({ owner: node.id, release: (t) => client.ack(t), maxOpen: 10000 });
    trackHealth(RED, node, nsoHealth(node.endpoint, client, fanIn));
    client.lifecycle.on("state", (c) => {
      if (c.state !== "connected") fanIn.end();
    });
    fanIn.on("autoAck", ({ recipient, kind, why }) => users.get(recipient)?.autoAcked(TYPE_OF_KIND[kind], why));
    fanIn.on("releaseFailed", ({ kind, error }) =>
      node.warn(`could not answer NSO's ${TYPE_OF_KIND[kind]} after the last node's share was answered: ${error.message}`),
    );

    let maapi: MaapiClient | undefined;
    node.maapi = () => {
      maapi ??= new MaapiClient({
        host,
        port,
        accessCheck,
        secret,
        maxFrameSize: settings.maxFrameSize,
        protoVsn: typeof protoVsn === "number" ? protoVsn : undefined,
        libVsn,
      });
      return maapi;
    };
    // Closed with the config node: a read in flight is settled by its own node's abort.
    node.on("close", () => maapi?.close());

    /** Answer a share nobody will see; a share already answered or void needs nothing more. */
    const answerShare = (d: Delivery): void => {
      d.diff?.leave();
      if (d.ack) {
        fanIn.ack(d.ack).catch((e: Error) => {
          if (!(e instanceof AckError)) node.warn(`could not answer NSO's ${d.notification.type}: ${e.message}`);
        });
      }
    };
    /**
     * An nso-events node being replaced (a redeploy restarts it, same id) has its deliveries held
     * for its successor, bounded; one that never comes back has them let go.
     */
    const handover = new Handover<Delivery>({
      expired: (h) => {
        mux.delete(holders.get(h.id)!);
        holders.delete(h.id);
        for (const d of h.events) answerShare(d);
        if (!shared.users.closing && mux.size > 0 && client.lifecycle.state === "connected" && mux.changed())
          client.resubscribe("an nso-events node was removed");
      },
    });
    /** Stand-ins in the mux for users being replaced: the subscription stays as it was meanwhile. */
    const holders = new Map<string, NsoUser>();
    const holdFor = (id: string, d: Delivery): void => {
      if (!handover.open(id).add(d, d.at ?? Date.now())) answerShare(d);
    };
    const deliverTo = (u: NsoUser, d: Delivery): void => {
      if (!u.deliver(d)) holdFor(u.id, d);
    };

    client.on("notification", (raw) => {
      const ev: Delivery = raw;
      // Not when it was read: with reading held back it was sent earlier, after the last moment
      // reading had caught up with NSO. A gap that starts here covers it.
      ev.at = client.heardUpTo;
      heardAt = Math.max(heardAt ?? ev.at, ev.at);
      const type = ev.notification.type;
      // Label and hash caches live on the MAAPI socket: after a package reload or upgrade
      // the schema may have changed, so the next read dials afresh.
      if (maapi && (type === "NOTIF_PACKAGE_RELOAD" || type === "NOTIF_UPGRADE_EVENT")) maapi.discard();
      const rs = mux.recipients(ev.notification.type);
      if (!ev.ack) {
        for (const u of rs) deliverTo(u, ev);
        return;
      }
      // One share each; with nobody left to want it (a user left since we subscribed) it is answered at once.
      const { tokens, released } = fanIn.split(
        ev.ack,
        rs.map((u) => ({ id: u.id, autoAckMs: u.wish.autoAckMs ?? 0 })),
      );
      released?.catch((e: Error) => node.warn(`could not ack an unwanted ${type}: ${e.message}`));
      const share = type === "NOTIF_COMMIT_DIFF" ? diffShare(ev, rs) : undefined;
      for (const u of rs)
        deliverTo(u, {
          ...ev,
          ack: tokens.get(u.id),
          diff: share && u.diff ? { read: (signal) => share.view(u.id, signal), leave: () => share.leave(u.id) } : undefined,
        });
    });
    /** The one MAAPI read of a commit for every user that reads it, or undefined when none does. */
    const diffShare = (ev: NsoEvent, rs: readonly NsoUser[]): SharedCommitDiff | undefined => {
      const readers = rs.filter((u) => u.diff);
      if (readers.length === 0) return undefined;
      const p = ev.notification.payload as { tctx?: { th?: number }; uinfo?: { usid?: number } };
      const usid = p.uinfo?.usid;
      return new SharedCommitDiff(
        (req) => readCommitDiff(node.maapi(), req),
        { thandle: p.tctx?.th ?? -1, usid: usid && usid > 0 ? usid : undefined },
        new Map(readers.map((u) => [u.id, u.diff!])),
      );
    };
    client.on("drop", (err, first) => {
      if (!first) return;
      for (const u of users.values()) u.dropped(err);
      if (users.size === 0) node.warn(err.message);
    });
    // The client's own bound on open acks (its auto-ack is off): every user of the type hears of it.
    client.on("autoAck", ({ kind, why }) => {
      const typeName = TYPE_OF_KIND[kind as AckKind];
      for (const u of mux.recipients(typeName)) u.autoAcked(typeName, why);
    });
    // A gap is told to the users that were there when the connection went (by id, so a node
    // replaced meanwhile hears of it too): a node deployed while the server was down has missed
    // nothing it could have seen.
    let lost: { at: Date; reason: string; users: Set<string> } | undefined;
    client.lifecycle.on("state", (c) => {
      if (c.previous === "connected" && c.state !== "connected" && c.state !== "closed") {
        // Lost with the socket: whatever NSO sent after reading last caught up (unread in the buffers, or in transit).
        lost = { at: new Date(client.heardUpTo), reason: c.reason?.message ?? "connection lost", users: new Set([...users.keys(), ...holders.keys()]) };
      } else if (c.state === "closed") {
        lost = undefined;
      }
    });
    client.on("subscribed", ({ reconnect, resumedFrom, replayUnsupported }) => {
      subscribedOnce = true;
      heardAt = Date.now();
      if (reconnect && lost) {
        const info: NsoGapInfo = {
          server: node.endpoint,
          since: lost.at.toISOString(),
          reconnectedAt: new Date().toISOString(),
          streamResumed: resumedFrom !== undefined,
          reason: lost.reason,
        };
        for (const id of lost.users) users.get(id)?.gap(info);
        lost = undefined;
      }
      for (const id of [...inherited.keys()]) if (users.has(id)) announceInherited(users.get(id)!);
      if (mux.changed()) client.resubscribe("the nso-events nodes changed what they subscribe to");
      for (const u of mux.streamConflicts())
        u.warn(
          `another nso-events node on ${node.endpoint} already subscribed to a different stream; NSO allows one stream per connection, use a second nso-server node`,
        );
      if (reconnect && resumedFrom) node.log(`stream subscription resumed from ${resumedFrom}`);
      if (reconnect && replayUnsupported) for (const u of users.values()) u.warn("the stream has no replay: events sent while disconnected are lost");
    });

    let subscribedOnce = false;
    /**
     * The last moment everything NSO sent is known to have been read: the last frame, or the
     * subscription accepted (or, before that, dialled: NSO may accept and send before we read
     * its reply). A note's window starts here, as frames can still be unread in the socket.
     */
    let heardAt: number | undefined;
    client.lifecycle.on("state", (c) => {
      if (c.state === "connecting") heardAt ??= Date.now();
    });
    /**
     * A full redeploy replaced this config node: the predecessor's note says since when each of
     * its users missed events (NSO sent them to no socket). Each successor is told once this
     * server is subscribed.
     */
    const inherited = takeHandoff(node.id, node.endpoint, Date.now()) ?? new Map<string, number>();
    const announceInherited = (u: NsoUser): void => {
      const since = inherited.get(u.id);
      if (since === undefined) return;
      inherited.delete(u.id);
      u.gap({
        server: node.endpoint,
        since: new Date(since).toISOString(),
        reconnectedAt: new Date().toISOString(),
        streamResumed: false,
        reason: "redeploy: the nso-server node was replaced and its connection with it; NSO keeps no backlog of what it sent meanwhile",
      });
    };
    /** Closing: leave the successor a note of who was receiving and since when they miss events. */
    const leaveNote = (holds: ReadonlyArray<Hold<Delivery>>): void => {
      // Never subscribed nor subscribing: NSO sent this connection nothing.
      if (heardAt === undefined || (!subscribedOnce && client.lifecycle.state !== "connecting")) return;
      // Reading may have caught up since the last notification (heartbeats, or a drained buffer).
      const base = subscribedOnce ? Math.max(heardAt, client.heardUpTo) : heardAt;
      const since = new Map<string, number>();
      for (const id of [...users.keys(), ...holders.keys()]) since.set(id, base);
      for (const h of holds) since.set(h.id, Math.min(h.since, base));
      if (lost) for (const id of lost.users) since.set(id, Math.min(since.get(id) ?? base, lost.at.getTime()));
      // What this node had inherited and not yet told is still owed.
      for (const [id, t] of inherited) since.set(id, Math.min(since.get(id) ?? base, t));
      if (since.size > 0) leaveHandoff(node.id, { endpoint: node.endpoint, at: Date.now(), since });
    };

    node.register = (user) => {
      const held = handover.take(user.id);
      const holder = holders.get(user.id);
      if (holder) mux.delete(holder);
      holders.delete(user.id);
      mux.set(user, user.wish);
      users.set(user.id, user);
      shared.users.register(user);
      if (held) {
        // Its predecessor's deliveries, in order; what it no longer selects is let go.
        const wanted = new Set(held.events.filter((d) => mux.recipients(d.notification.type).includes(user)));
        for (const d of held.events) {
          if (wanted.has(d)) deliverTo(user, d);
          else answerShare(d);
        }
        if (held.missed) {
          const o = held.missed;
          user.gap({
            server: node.endpoint,
            since: new Date(o.first).toISOString(),
            reconnectedAt: new Date().toISOString(),
            streamResumed: false,
            reason: `redeploy: ${o.count} notifications arrived while the node was being replaced and could not be kept for it`,
          });
        }
      }
      if (subscribedOnce && client.lifecycle.state === "connected" && !mux.changed()) announceInherited(user);
      if (client.lifecycle.state === "connected" && mux.changed()) client.resubscribe("an nso-events node was added");
    };
    node.deregister = (user, removed) => {
      mux.delete(user);
      users.delete(user.id);
      // A leaving user no longer holds the others back (its window is closed with it).
      client.gate.release(user.id);
      if (!removed && !shared.users.closing) {
        // Only restarted: hold what it would have received for its successor, with its wish
        // standing in the mux so the subscription does not change meanwhile.
        const h = handover.open(user.id);
        const holder: NsoUser = {
          id: user.id,
          wish: user.wish,
          diff: user.diff,
          status: () => undefined,
          deliver: (d) => (holdFor(h.id, d), true),
          dropped: () => undefined,
          autoAcked: () => undefined,
          warn: () => undefined,
          gap: () => undefined,
        };
        holders.set(user.id, holder);
        mux.set(holder, user.wish);
        handover.arm(user.id);
      } else {
        const h = handover.take(user.id);
        for (const d of h?.events ?? []) answerShare(d);
      }
      shared.users.deregister(user, removed);
      if (!shared.users.closing && mux.size > 0 && client.lifecycle.state === "connected" && mux.changed())
        client.resubscribe("an nso-events node was removed");
    };
    node.ack = (token) => fanIn.ack(token);
    node.unsent = (id, at) => handover.open(id).miss(at ?? Date.now());
  }

  RED.nodes.registerType("nso-server", NsoServer as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1], {
    credentials: { secret: { type: "password" } },
  });
}

export = nsoServer;
