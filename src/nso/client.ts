import { EventEmitter } from "node:events";
import type * as net from "node:net";
import type { AckRegistry, AckToken } from "../core/ack-registry";
import { Backoff } from "../core/backoff";
import { Clock, systemClock } from "../core/clock";
import { DropCounter } from "../core/drops";
import { TypeCounts } from "../core/type-counts";
import { asError, InfraError, ProtocolError } from "../core/errors";
import { Attempt, ConnectionLifecycle } from "../core/lifecycle";
import { PauseGate } from "../core/pause-gate";
import { decodeTerm, encodeTerm } from "./term";
import { type Term, Tuple } from "./term/types";
import { decodeNotification } from "./notifications";
import { fastNotification, lazyRawEvent } from "./fast-decode";
import type { NsoNotification } from "./notifications";
import { AckHandle, ackFor } from "./acks";
import { CLIENT_ID_EVENT_MGR, DEFAULT_HOST, DEFAULT_LIB_PROTO_VSN, DEFAULT_LIB_VSN, DEFAULT_NSO_PORT, hasBit, VSN_PROTO_INCOMPATIBLE } from "./constants";
import { ByteReader, DEFAULT_MAX_FRAME_SIZE, encodeFrame } from "./framing";
import { AutoAck, LiveAck, LiveAcks } from "./live-acks";
import { PacedReading } from "./paced-reading";
import { VersionRejected, type VersionReply } from "./handshake";
import { ClientHandshake, dialNso, NsoEndpointOptions } from "./client-handshake";
import { readDatetime } from "./datetime";
import { resumeKey, startTerm, StreamResume } from "./stream-resume";
import { Watchdog } from "../core/watchdog";
import { checkSubscriptionReply, SubscriptionRejected, SubscriptionRequest, subscriptionTerm } from "./subscription";

/**
 * One NSO notification subscription kept alive: dial, header, access check, version reply,
 * subscription (in the same breath, §15), then framed notifications. Reconnects through the
 * core ConnectionLifecycle (backoff, handshake timeout, heartbeat watchdog), resumes stream
 * subscriptions from the last event time (before any event: from their own start), and keeps
 * the live ack handles in an AckRegistry so messages only ever carry plain tokens.
 *
 * Flow control: `gate` (a PauseGate the users hold while their flows are behind) pauses the
 * socket, so the kernel buffers fill and NSO's writer blocks (real backpressure). Frames already
 * read into our buffer are not handed out while paused either (one read can hold thousands), and
 * at most FRAMES_PER_TURN are handed out before yielding to the event loop, so a user's window
 * can close the gate between two slices. Resuming continues with the next frame.
 */
export interface NsoClientOptions extends Partial<NsoEndpointOptions> {
  /** LIB_PROTO_VSN to announce; "auto" = 82, retrying once with the server's on a code-1 reply. */
  protoVsn?: number | "auto";
  /** The IPC access secret (file bytes); asked for at each dial so a changed file is picked up. */
  secret?: () => Buffer | undefined;
  /** The subscription, computed at each dial (users may have changed in between). */
  subscription: () => SubscriptionRequest;
  /**
   * Liveness watchdog: with HEARTBEAT subscribed, no frame within this → reconnect. It does not
   * count while the gate is paused, while frames wait unread, or on a check the blocked event
   * loop made late (src/core/watchdog.ts).
   */
  livenessTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  backoff?: Backoff;
  clock?: Clock;
  /** Name of the owner (config node id) that goes into ack tokens. */
  owner?: string;
  /** Auto-ack delay for a blocking notification of this type; 0 = never. */
  autoAckMs?: (n: NsoNotification) => number;
  /** Upper bound of open ack handles (oldest are auto-acked beyond it). */
  maxOpenAcks?: number;
}

export interface NsoEvent {
  notification: NsoNotification;
  raw: Term;
  /** Present on blocking notifications: hand it to `ack()`. */
  ack?: AckToken;
}

export interface NsoClientEvents {
  notification: [NsoEvent];
  /** A frame was dropped; `first` = the first of its reason (report it). */
  drop: [ProtocolError, boolean];
  /** Subscribed; `resumedFrom` is the replay start we used to close a reconnect gap. */
  subscribed: [{ reconnect: boolean; resumedFrom?: string; replayUnsupported: boolean }];
  /** An auto-ack fired (the flow did not ack in time), or an ack was evicted. */
  autoAck: [AutoAck];
  /** The stream replay we started ourselves is complete: the gap is closed. */
  resumed: [];
}

export { FRAMES_PER_TURN } from "./paced-reading";

type Phase = "handshake" | "sub-reply" | "events";

export class NsoClient extends EventEmitter<NsoClientEvents> {
  readonly lifecycle: ConnectionLifecycle;
  readonly drops = new DropCounter();
  /** Notifications delivered, by type (for the health view). */
  readonly types = new TypeCounts();
  readonly acks: AckRegistry<LiveAck>;
  private readonly liveAcks: LiveAcks;
  private readonly clock: Clock;
  private negotiatedProto: number | undefined;
  private readonly stream = new StreamResume();
  private streamKey: string | undefined;
  private replayUnsupported = false;
  private subscribedMask = 0;
  private everSubscribed = false;
  private received = 0;
  /** The reading side of the current connection, for the gate to stop and restart. */
  private reading: PacedReading | undefined;
  private heardUpToValue: number;
  /** Times the gate paused the socket (for the health view). */
  readPauses = 0;
  /** Paused while any user holds it (an nso-events node whose flow is a window behind). */
  readonly gate: PauseGate;

  constructor(private readonly opts: NsoClientOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.heardUpToValue = this.clock.now();
    this.gate = new PauseGate(
      (paused) => {
        if (paused) this.readPauses++;
        this.reading?.sync();
        if (!paused) this.reading?.continue();
      },
      () => this.clock.now(),
    );
    this.liveAcks = new LiveAcks(opts.owner ?? "nso", opts.maxOpenAcks ?? 10000, this.clock, (a) => this.emit("autoAck", a));
    this.acks = this.liveAcks.registry;
    this.lifecycle = new ConnectionLifecycle({
      open: (a) => this.open(a),
      backoff: opts.backoff,
      clock: opts.clock,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 15000,
      // Our own watchdog (core/watchdog): the lifecycle's would not know about paused reading.
      livenessTimeoutMs: 0,
    });
    this.lifecycle.on("state", (c) => {
      if (c.state !== "connected") this.acks.endConnection();
    });
  }

  get host(): string {
    return this.opts.host ?? DEFAULT_HOST;
  }

  get port(): number {
    return this.opts.port ?? DEFAULT_NSO_PORT;
  }

  /** Notifications delivered since creation (for status lines). */
  get count(): number {
    return this.received;
  }

  /**
   * The last moment up to which everything NSO sent is known to have been handed out. While
   * reading is held back, frames read later were sent earlier: this stays at when reading last
   * caught up (a read that emptied the kernel buffer, nothing left unread), so a gap that starts
   * here covers whatever is lost with the buffers.
   */
  get heardUpTo(): number {
    return this.heardUpToValue;
  }

  /** Frames from NSO wait unread in our buffers (held back, or between two slices). */
  get unread(): boolean {
    return this.reading?.unread() ?? false;
  }

  /** The mask of the live subscription (0 when not subscribed). */
  get mask(): number {
    return this.subscribedMask;
  }

  start(): void {
    this.lifecycle.start();
  }

  stop(): void {
    this.lifecycle.stop();
  }

  /** Drop the connection and subscribe again (after the wanted subscription changed). */
  resubscribe(why: string): void {
    if (this.lifecycle.state === "connected" || this.lifecycle.state === "connecting") {
      this.lifecycle.reconnectNow(new InfraError("nso-resubscribe", why));
    }
  }

  /**
   * Answer a blocking notification. Resolves once the ack is written to the socket; rejects
   * with an AckError when the token's connection is gone or it was already used/auto-sent.
   */
  ack(token: unknown): Promise<AckHandle> {
    return this.liveAcks.ack(token);
  }

  private open(attempt: Attempt): void {
    const proto = this.opts.protoVsn === "auto" || this.opts.protoVsn === undefined ? (this.negotiatedProto ?? DEFAULT_LIB_PROTO_VSN) : this.opts.protoVsn;
    const libVsn = this.opts.libVsn ?? DEFAULT_LIB_VSN;
    const accessCheck = this.opts.accessCheck ?? "none";
    const secret = accessCheck === "none" ? undefined : this.opts.secret?.();
    const handshake = new ClientHandshake({ clientId: CLIENT_ID_EVENT_MGR, protoVsn: proto, libVsn, accessCheck, secret });
    const reader = new ByteReader(this.opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    const socket = dialNso({ host: this.host, port: this.port });
    let phase: Phase = "handshake";
    let mask = 0;
    let userAskedReplay = false;
    let liveness: Watchdog | undefined;
    const reading = new PacedReading(
      socket,
      reader,
      this.gate,
      () => phase === "events",
      () => pump(),
    );
    this.reading = reading;
    attempt.onEnd(() => {
      liveness?.stop();
      if (this.reading === reading) this.reading = undefined;
      socket.removeAllListeners("data");
      socket.destroy();
    });

    const subscribe = (): void => {
      const req = this.opts.subscription();
      mask = req.mask;
      const key = resumeKey(req.stream);
      if (key !== this.streamKey) {
        // Another stream (or other replay settings): the old resume point means nothing here.
        this.stream.reset();
        this.streamKey = key;
        this.replayUnsupported = false;
      }
      userAskedReplay = !!req.stream?.startTime;
      // Where this subscription starts if it is the first one NSO accepts: a resume before the
      // first event replays from here. This host's wall clock (NSO compares calendar times), taken
      // before NSO can accept, so the window is never cut short on our side.
      streamStart = req.stream && hasBit(mask, "NOTIF_STREAM_EVENT") ? startTerm(req.stream.startTime || new Date()) : undefined;
      let resumedFrom: Term | undefined;
      if (req.stream && hasBit(mask, "NOTIF_STREAM_EVENT") && !this.replayUnsupported && this.stream.resumeFrom) {
        resumedFrom = this.stream.resumeFrom;
        req.stream = { ...req.stream, startTime: this.stream.resumeFrom };
      }
      this.stream.subscribed(resumedFrom !== undefined);
      // UTF-8 atoms, as libconfd writes them (a 6.2.5 server accepts both encodings, §15).
      socket.write(encodeFrame(encodeTerm(subscriptionTerm(req), { atoms: "utf8" })));
      phase = "sub-reply";
      pendingResume = resumedFrom !== undefined;
    };
    let pendingResume = false;
    let streamStart: Tuple | undefined;

    const step = (): void => {
      for (;;) {
        if (!attempt.active) return;
        switch (phase) {
          case "handshake": {
            let accepted: VersionReply | undefined;
            try {
              accepted = handshake.step(reader, (b) => socket.write(b));
            } catch (e) {
              const r = e instanceof VersionRejected ? e.reply : undefined;
              if (r?.code === VSN_PROTO_INCOMPATIBLE && this.opts.protoVsn === "auto" && r.protoVsn !== proto) {
                // "auto": the reply announces the server's own version; the next attempt uses it.
                // A server that rejects the version it announced itself is not retried with it again.
                this.negotiatedProto = r.protoVsn;
              }
              throw e;
            }
            if (!accepted) return;
            subscribe();
            break;
          }
          case "sub-reply": {
            const f = reader.nextFrame();
            if (!f) return;
            try {
              checkSubscriptionReply(decodeTerm(f));
            } catch (e) {
              if (e instanceof SubscriptionRejected && e.errorCode === 18 && e.text === "" && pendingResume) {
                // The stream has no replay: resume is impossible; subscribe live and say so.
                this.replayUnsupported = true;
              }
              throw e;
            }
            phase = "events";
            if (streamStart) this.stream.accepted(streamStart);
            this.subscribedMask = mask;
            const reconnect = this.everSubscribed;
            this.everSubscribed = true;
            attempt.established();
            const timeoutMs = this.opts.livenessTimeoutMs ?? 0;
            if (timeoutMs > 0) {
              liveness = new Watchdog({
                clock: this.clock,
                timeoutMs,
                reader: this.gate,
                unread: () => reading.unread(),
                fire: (silent) => attempt.fail(new InfraError("liveness-timeout", `peer silent for ${silent} ms`)),
              });
            }
            this.acks.beginConnection();
            const from = pendingResume && this.stream.resumeFrom ? readDatetime(this.stream.resumeFrom).iso : undefined;
            this.emit("subscribed", { reconnect, resumedFrom: from, replayUnsupported: this.replayUnsupported });
            break;
          }
          case "events": {
            // Held back: what is buffered waits; the gate's release continues from here.
            if (this.gate.paused) return;
            if (!reading.mayHandOut()) return;
            let f: Buffer | undefined;
            try {
              f = reader.nextFrame();
            } catch (e) {
              if (e instanceof ProtocolError) {
                reading.handedOut();
                liveness?.alive();
                this.emit("drop", e, this.drops.add(e.code));
                continue;
              }
              throw e;
            }
            if (!f) return;
            reading.handedOut();
            liveness?.alive();
            this.onFrame(f, socket, mask, userAskedReplay);
            break;
          }
        }
      }
    };

    socket.on("connect", () => socket.write(handshake.header()));
    const pump = (): void => {
      try {
        step();
      } catch (e) {
        attempt.fail(asError(e));
        return;
      }
      if (!attempt.active) return;
      reading.sync();
      // Caught up with NSO: everything it sent before now has been handed out.
      if (reading.caughtUp()) this.heardUpToValue = this.clock.now();
    };
    socket.on("data", (chunk: Buffer) => {
      reading.received(chunk);
      pump();
    });
    socket.on("error", (e) => attempt.fail(e));
    socket.on("close", () => {
      if (phase === "events") attempt.fail(new InfraError("nso-closed", "NSO closed the notification socket"));
      else if (phase === "sub-reply")
        attempt.fail(new InfraError("nso-closed-subscribing", "closed before the subscription reply: NSO dropped the subscription"));
      else
        attempt.fail(
          new InfraError(
            "nso-closed-handshake",
            `closed during handshake (${handshake.phase}): NSO may be in phase 0, the service disabled, or the IPC access check set up differently`,
          ),
        );
    });
  }

  private onFrame(frame: Buffer, socket: net.Socket, mask: number, userAskedReplay: boolean): void {
    let raw: Term | undefined;
    let notification: NsoNotification;
    let ack: AckHandle | undefined;
    const maxSize = this.opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    try {
      // The hot types straight from the bytes; the generic path for the rest (src/nso/fast-decode).
      const fast = fastNotification(frame, { maxSize, libVsn: this.opts.libVsn ?? DEFAULT_LIB_VSN, ackMask: mask });
      if (fast === undefined) raw = decodeTerm(frame, { maxSize });
      const wasResuming = this.stream.resuming;
      const verdict = this.stream.classify(fast ? fast.head : raw!, frame, userAskedReplay);
      // Our resume's replay is over (its replay_complete goes to the flow only when it is the
      // first of a replay the user asked for).
      if (wasResuming && !this.stream.resuming) this.emit("resumed");
      if (verdict === "duplicate") {
        this.drops.add("stream-duplicate");
        return;
      }
      if (verdict === "resume-complete") return;
      notification = fast ? fast.notification : decodeNotification(raw!, { libVsn: this.opts.libVsn ?? DEFAULT_LIB_VSN });
      ack = fast ? fast.ack : ackFor(raw!, mask);
      // nso-server copies a blocking event per recipient ({...ev}): its term must be an own property.
      if (ack && raw === undefined) raw = decodeTerm(frame, { maxSize });
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError("nso-decode-failed", asError(e).message);
      this.emit("drop", err, this.drops.add(err.code));
      return;
    }
    this.received++;
    this.types.add(notification.type);
    const token: AckToken | undefined = ack ? this.liveAcks.issue(ack, socket, () => this.opts.autoAckMs?.(notification) ?? 0) : undefined;
    this.emit("notification", raw === undefined ? lazyRawEvent(notification, frame, { maxSize }) : { notification, raw, ack: token });
  }
}
