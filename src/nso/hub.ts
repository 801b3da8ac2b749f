import type { AckToken } from "../core/ack-registry";
import { AckError } from "../core/ack-registry";
import type { ProtocolError } from "../core/errors";
import { AckFanIn, ShareAnswer } from "./ack-fanin";
import type { AckKind } from "./acks";
import type { NsoClient, NsoEvent } from "./client";
import { Handover, Hold, leaveHandoff, takeHandoff } from "./handover";
import type { MaapiClient } from "./maapi/client";
import { DiffWish, SharedCommitDiff } from "./maapi/diff-share";
import { readCommitDiff } from "./maapi/read-diff";
import type { CommitDiffResult } from "./maapi/read-diff";
import { ConsumerWish, SubscriptionMux } from "./mux";
import type { SubscriptionRequest } from "./subscription";

/** One commit's diff as one user sees it: the one read, cut to the user's own settings. */
export interface DiffReader {
  read(signal?: AbortSignal): Promise<CommitDiffResult>;
  /** The user will not read it (closed first): the read goes on for the others, or stops. */
  leave(): void;
}

/** What a user receives: the notification, its own ack share, and its view of a commit's diff. */
export interface NsoDelivery extends NsoEvent {
  /** When it was read from the socket (ms since epoch). */
  at?: number;
  ack?: AckToken;
  diff?: DiffReader;
}

/** What a gap told to a user says: events sent between `since` and `reconnectedAt` may be missing. */
export interface NsoGapInfo {
  server: string;
  /** When the connection was lost (ISO 8601). */
  since: string;
  reconnectedAt: string;
  /** The stream subscription was resumed from the last event received (replay closes that part). */
  streamResumed: boolean;
  reason: string;
}

/** A consumer of the hub's notifications (an nso-events node). */
export interface NsoHubUser {
  id: string;
  wish: ConsumerWish;
  /** Set when the user reads what changed in a commit (MAAPI). */
  diff?: DiffWish;
  /** False: not taken, the user is closing (the hub holds it for the user's successor). */
  deliver(ev: NsoDelivery): boolean;
  /** A frame was dropped (bad input from NSO); reported once per reason. */
  dropped(err: ProtocolError): void;
  autoAcked(typeName: string, kind: string): void;
  warn(text: string): void;
  /** The connection was lost and is back: events sent in between may be missing. */
  gap(info: NsoGapInfo): void;
}

export interface NsoHubOptions {
  client: NsoClient;
  /** host:port as shown to users (no credentials). */
  endpoint: string;
  /** Who owns the ack shares (the config node's id): a token of another owner is refused. */
  owner: string;
  /** The MAAPI client of this NSO, created on first use. */
  maapi(): MaapiClient;
  /** The MAAPI client if one was created (its caches are dropped after a package reload). */
  maapiIfOpen(): MaapiClient | undefined;
  /** The owner is stopping with all its users: no resubscribe, nothing held for successors. */
  closing(): boolean;
  warn(text: string): void;
  log(text: string): void;
}

const TYPE_OF_KIND: Record<AckKind, string> = { diff: "NOTIF_COMMIT_DIFF", audit: "NOTIF_AUDIT", audit_network: "NOTIF_AUDIT_NETWORK", ha: "NOTIF_HA_INFO" };

/**
 * One NSO notification socket shared by its users, the way the sysadm hub shares a session:
 * the socket's single subscription is the union of what the users want (SubscriptionMux), and
 * each notification goes to the users that asked for its type. A blocking notification gives each
 * user its own ack share (AckFanIn): NSO gets the one ack when every user that received it has
 * answered. A commit's diff is read once for all users that read it (SharedCommitDiff). Users
 * that come and go change the subscription (resubscribe); a user being replaced (a redeploy
 * restarts it) has its deliveries held for its successor; a connection lost and back, or a hub
 * replaced by a redeploy, is told to the users as a gap.
 */
export class NsoHub {
  readonly fanIn: AckFanIn;
  readonly mux: SubscriptionMux<NsoHubUser>;
  private readonly client: NsoClient;
  private readonly users = new Map<string, NsoHubUser>();
  /** Stand-ins in the mux for users being replaced: the subscription stays as it was meanwhile. */
  private readonly holders = new Map<string, NsoHubUser>();
  private readonly handover: Handover<NsoDelivery>;
  /** Lost with the socket: since when, why, and who was receiving (by id, so a replaced node hears of it too). */
  private lost: { at: Date; reason: string; users: Set<string> } | undefined;
  private subscribedOnce = false;
  /**
   * The last moment everything NSO sent is known to have been read: the last frame, or the
   * subscription accepted (or, before that, dialled: NSO may accept and send before we read
   * its reply). A note's window starts here, as frames can still be unread in the socket.
   */
  private heardAt: number | undefined;
  /**
   * A full redeploy replaced the hub's owner: the predecessor's note says since when each of its
   * users missed events (NSO sent them to no socket). Each successor is told once subscribed.
   */
  private readonly inherited: Map<string, number>;

  constructor(
    private readonly o: NsoHubOptions,
    heartbeatMs: number,
  ) {
    this.client = o.client;
    this.mux = new SubscriptionMux<NsoHubUser>({ heartbeatMs });
    const client = o.client;
    this.fanIn = new AckFanIn({ owner: o.owner, release: (t) => client.ack(t), maxOpen: 10000 });
    this.fanIn.on("autoAck", ({ recipient, kind, why }) => this.users.get(recipient)?.autoAcked(TYPE_OF_KIND[kind], why));
    this.fanIn.on("releaseFailed", ({ kind, error }) =>
      o.warn(`could not answer NSO's ${TYPE_OF_KIND[kind]} after the last node's share was answered: ${error.message}`),
    );
    this.handover = new Handover<NsoDelivery>({
      expired: (h) => {
        this.mux.delete(this.holders.get(h.id)!);
        this.holders.delete(h.id);
        for (const d of h.events) this.answerShare(d);
        this.resubscribeIfChanged("an nso-events node was removed");
      },
    });
    this.inherited = takeHandoff(o.owner, o.endpoint, Date.now()) ?? new Map<string, number>();

    client.lifecycle.on("state", (c) => {
      if (c.state !== "connected") this.fanIn.end();
      if (c.state === "connecting") this.heardAt ??= Date.now();
      if (c.previous === "connected" && c.state !== "connected" && c.state !== "closed") {
        // Lost with the socket: whatever NSO sent after reading last caught up (unread in the buffers, or in transit).
        this.lost = {
          at: new Date(client.heardUpTo),
          reason: c.reason?.message ?? "connection lost",
          users: new Set([...this.users.keys(), ...this.holders.keys()]),
        };
      } else if (c.state === "closed") {
        this.lost = undefined;
      }
    });
    client.on("notification", (ev: NsoDelivery) => this.onNotification(ev));
    client.on("drop", (err: ProtocolError, first: boolean) => {
      if (!first) return;
      for (const u of this.users.values()) u.dropped(err);
      if (this.users.size === 0) o.warn(err.message);
    });
    // The client's own bound on open acks (its auto-ack is off): every user of the type hears of it.
    client.on("autoAck", ({ kind, why }: { kind: string; why: string }) => {
      const typeName = TYPE_OF_KIND[kind as AckKind];
      for (const u of this.mux.recipients(typeName)) u.autoAcked(typeName, why);
    });
    client.on("subscribed", (s: { reconnect: boolean; resumedFrom?: string; replayUnsupported?: boolean }) => this.onSubscribed(s));
  }

  /** The subscription the socket should have now, or an error when no user selects a type. */
  request(): SubscriptionRequest {
    const r = this.mux.request();
    if (!r) throw new RangeError("no nso-events node selects a notification type");
    return r;
  }

  /**
   * A user joins. `joined` is called once it is in the subscription and before it gets what was
   * held for it (the owner registers it for status there: the first user opens the connection).
   */
  register(user: NsoHubUser, joined: () => void): void {
    const held = this.handover.take(user.id);
    const holder = this.holders.get(user.id);
    if (holder) this.mux.delete(holder);
    this.holders.delete(user.id);
    this.mux.set(user, user.wish);
    this.users.set(user.id, user);
    joined();
    if (held) {
      // Its predecessor's deliveries, in order; what it no longer selects is let go.
      const wanted = new Set(held.events.filter((d) => this.mux.recipients(d.notification.type).includes(user)));
      for (const d of held.events) {
        if (wanted.has(d)) this.deliverTo(user, d);
        else this.answerShare(d);
      }
      if (held.missed) {
        const o = held.missed;
        user.gap({
          server: this.o.endpoint,
          since: new Date(o.first).toISOString(),
          reconnectedAt: new Date().toISOString(),
          streamResumed: false,
          reason: `redeploy: ${o.count} notifications arrived while the node was being replaced and could not be kept for it`,
        });
      }
    }
    const connected = this.client.lifecycle.state === "connected";
    if (this.subscribedOnce && connected && !this.mux.changed()) this.announceInherited(user);
    if (connected && this.mux.changed()) this.client.resubscribe("an nso-events node was added");
  }

  /**
   * A user leaves. `removed` false: it is only restarting, so what it would have received is held
   * for its successor. `left` is called when the user is out (the owner deregisters it for
   * status there: the last user closes the connection).
   */
  deregister(user: NsoHubUser, removed: boolean | undefined, left: () => void): void {
    this.mux.delete(user);
    this.users.delete(user.id);
    // A leaving user no longer holds the others back (its window is closed with it).
    this.client.gate.release(user.id);
    if (!removed && !this.o.closing()) {
      // Only restarted: hold what it would have received for its successor, with its wish
      // standing in the mux so the subscription does not change meanwhile.
      const h = this.handover.open(user.id);
      const holder: NsoHubUser = {
        id: user.id,
        wish: user.wish,
        diff: user.diff,
        deliver: (d) => (this.holdFor(h.id, d), true),
        dropped: () => undefined,
        autoAcked: () => undefined,
        warn: () => undefined,
        gap: () => undefined,
      };
      this.holders.set(user.id, holder);
      this.mux.set(holder, user.wish);
      this.handover.arm(user.id);
    } else {
      const h = this.handover.take(user.id);
      for (const d of h?.events ?? []) this.answerShare(d);
    }
    left();
    this.resubscribeIfChanged("an nso-events node was removed");
  }

  /** Answer one user's share of a blocking notification (`released`: NSO got its ack). */
  ack(token: unknown): Promise<ShareAnswer> {
    return this.fanIn.ack(token);
  }

  /** A closing user could not pass on a notification it had taken (read at `at`): its successor hears of the gap. */
  unsent(userId: string, at?: number): void {
    this.handover.open(userId).miss(at ?? Date.now());
  }

  /** The owner stops: leave the successor a note of who was receiving and since when they miss events. */
  close(): void {
    this.leaveNote(this.handover.drain());
  }

  private onNotification(ev: NsoDelivery): void {
    const client = this.client;
    // Not when it was read: with reading held back it was sent earlier, after the last moment
    // reading had caught up with NSO. A gap that starts here covers it.
    ev.at = client.heardUpTo;
    this.heardAt = Math.max(this.heardAt ?? ev.at, ev.at);
    const type = ev.notification.type;
    // Label and hash caches live on the MAAPI socket: after a package reload or upgrade
    // the schema may have changed, so the next read dials afresh.
    if (type === "NOTIF_PACKAGE_RELOAD" || type === "NOTIF_UPGRADE_EVENT") this.o.maapiIfOpen()?.discard();
    const rs = this.mux.recipients(type);
    if (!ev.ack) {
      for (const u of rs) this.deliverTo(u, ev);
      return;
    }
    // One share each; with nobody left to want it (a user left since we subscribed) it is answered at once.
    const { tokens, released } = this.fanIn.split(
      ev.ack,
      rs.map((u) => ({ id: u.id, autoAckMs: u.wish.autoAckMs ?? 0 })),
    );
    released?.catch((e: Error) => this.o.warn(`could not ack an unwanted ${type}: ${e.message}`));
    const share = type === "NOTIF_COMMIT_DIFF" ? this.diffShare(ev, rs) : undefined;
    for (const u of rs)
      this.deliverTo(u, {
        ...ev,
        ack: tokens.get(u.id),
        diff: share && u.diff ? { read: (signal) => share.view(u.id, signal), leave: () => share.leave(u.id) } : undefined,
      });
  }

  /** The one MAAPI read of a commit for every user that reads it, or undefined when none does. */
  private diffShare(ev: NsoEvent, rs: readonly NsoHubUser[]): SharedCommitDiff | undefined {
    const readers = rs.filter((u) => u.diff);
    if (readers.length === 0) return undefined;
    const p = ev.notification.payload as { tctx?: { th?: number }; uinfo?: { usid?: number } };
    const usid = p.uinfo?.usid;
    return new SharedCommitDiff(
      (req) => readCommitDiff(this.o.maapi(), req),
      { thandle: p.tctx?.th ?? -1, usid: usid && usid > 0 ? usid : undefined },
      new Map(readers.map((u) => [u.id, u.diff!])),
    );
  }

  private onSubscribed({ reconnect, resumedFrom, replayUnsupported }: { reconnect: boolean; resumedFrom?: string; replayUnsupported?: boolean }): void {
    this.subscribedOnce = true;
    this.heardAt = Date.now();
    const lost = this.lost;
    if (reconnect && lost) {
      const info: NsoGapInfo = {
        server: this.o.endpoint,
        since: lost.at.toISOString(),
        reconnectedAt: new Date().toISOString(),
        streamResumed: resumedFrom !== undefined,
        reason: lost.reason,
      };
      for (const id of lost.users) this.users.get(id)?.gap(info);
      this.lost = undefined;
    }
    for (const id of [...this.inherited.keys()]) if (this.users.has(id)) this.announceInherited(this.users.get(id)!);
    if (this.mux.changed()) this.client.resubscribe("the nso-events nodes changed what they subscribe to");
    for (const u of this.mux.streamConflicts())
      u.warn(
        `another nso-events node on ${this.o.endpoint} already subscribed to a different stream; NSO allows one stream per connection, use a second nso-server node`,
      );
    if (reconnect && resumedFrom) this.o.log(`stream subscription resumed from ${resumedFrom}`);
    if (reconnect && replayUnsupported) for (const u of this.users.values()) u.warn("the stream has no replay: events sent while disconnected are lost");
  }

  private resubscribeIfChanged(why: string): void {
    if (!this.o.closing() && this.mux.size > 0 && this.client.lifecycle.state === "connected" && this.mux.changed()) this.client.resubscribe(why);
  }

  /** Answer a share nobody will see; a share already answered or void needs nothing more. */
  private answerShare(d: NsoDelivery): void {
    d.diff?.leave();
    if (d.ack) {
      this.fanIn.ack(d.ack).catch((e: Error) => {
        if (!(e instanceof AckError)) this.o.warn(`could not answer NSO's ${d.notification.type}: ${e.message}`);
      });
    }
  }

  private holdFor(id: string, d: NsoDelivery): void {
    if (!this.handover.open(id).add(d, d.at ?? Date.now())) this.answerShare(d);
  }

  private deliverTo(u: NsoHubUser, d: NsoDelivery): void {
    if (!u.deliver(d)) this.holdFor(u.id, d);
  }

  private announceInherited(u: NsoHubUser): void {
    const since = this.inherited.get(u.id);
    if (since === undefined) return;
    this.inherited.delete(u.id);
    u.gap({
      server: this.o.endpoint,
      since: new Date(since).toISOString(),
      reconnectedAt: new Date().toISOString(),
      streamResumed: false,
      reason: "redeploy: the nso-server node was replaced and its connection with it; NSO keeps no backlog of what it sent meanwhile",
    });
  }

  private leaveNote(holds: ReadonlyArray<Hold<NsoDelivery>>): void {
    const client = this.client;
    // Never subscribed nor subscribing: NSO sent this connection nothing.
    if (this.heardAt === undefined || (!this.subscribedOnce && client.lifecycle.state !== "connecting")) return;
    // Reading may have caught up since the last notification (heartbeats, or a drained buffer).
    const base = this.subscribedOnce ? Math.max(this.heardAt, client.heardUpTo) : this.heardAt;
    const since = new Map<string, number>();
    for (const id of [...this.users.keys(), ...this.holders.keys()]) since.set(id, base);
    for (const h of holds) since.set(h.id, Math.min(h.since, base));
    if (this.lost) for (const id of this.lost.users) since.set(id, Math.min(since.get(id) ?? base, this.lost.at.getTime()));
    // What this hub had inherited and not yet told is still owed.
    for (const [id, t] of this.inherited) since.set(id, Math.min(since.get(id) ?? base, t));
    if (since.size > 0) leaveHandoff(this.o.owner, { endpoint: this.o.endpoint, at: Date.now(), since });
  }
}
