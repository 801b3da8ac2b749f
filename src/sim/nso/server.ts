import { EventEmitter } from "node:events";
import * as net from "node:net";
import { decodeTerm, encodeTerm } from "../../nso/term";
import { atom, Term, tuple } from "../../nso/term/types";
import { AckHandle, AckKind, parseAck } from "../../nso/acks";
import { CLIENT_ID_EVENT_MGR, DEFAULT_EVENT_REPLY_TIMEOUT_MS, MIN_INTERVAL_MS, NOTIF_BITS, SUBSCRIPTION_DEADLINE_MS } from "../../nso/constants";
import { datetimeTerm } from "../../nso/datetime";
import { ByteReader, encodeFrame } from "../../nso/framing";
import { ParsedHeader } from "../../nso/handshake";
import { buildNotification, deliveryBit, Spec, streamValues } from "./builders";
import { CLIENT_ID_MAAPI } from "../../nso/maapi/constants";
import { DiffSpecItem, MaapiSimServer, trackCommit } from "./maapi";
import { handshakeSettings, ServerHandshake } from "./server-handshake";
import { listenOn } from "../listen";
import { StreamStore } from "./streams";
import { blockingKey, Subscriber } from "./subscriber";
import { readSubscription } from "./subscription";
import { AckOutcome, FloodResult, InjectResult, NsoSimEvents, NsoSimOptions, SubscriberInfo } from "./types";
import { asText } from "../../core/describe";

export type { AckOutcome, FloodResult, InjectResult, NsoSimEvents, NsoSimOptions, SubscriberInfo } from "./types";

/**
 * A notification server that behaves like NSO 6.2.5's event manager on the wire
 * (docs/nso.md; captured bytes in test/fixtures/nso/nso-real-frames.txt): header + compatibility rule, optional IPC
 * access check, 5 s subscription deadline, per-subscriber formats by LIB_VSN, blocking
 * acks with an event-reply timeout that closes the socket, heartbeats, health checks,
 * stream replay from a log, and "illegal message -> close".
 */
export class NsoSimServer extends EventEmitter<NsoSimEvents> {
  private server: net.Server | undefined;
  private readonly subs = new Map<number, Subscriber>();
  private readonly sockets = new Set<net.Socket>();
  private nextId = 1;
  private nextTh = 100;
  private hung = false;
  private drainWaits = 0;
  readonly streams: StreamStore;
  /** MAAPI (client id 7) on the same port: attach/diff/XPath/hash DB against blocked commits. */
  readonly maapi: MaapiSimServer | undefined;
  readonly opts: Required<Omit<NsoSimOptions, "secret" | "streams" | "knownUsids" | "maapi">> & { secret?: Buffer; knownUsids: Set<number> };

  constructor(opts: NsoSimOptions = {}) {
    super();
    this.opts = {
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 4569,
      ...handshakeSettings(opts),
      eventReplyTimeoutMs: opts.eventReplyTimeoutMs ?? DEFAULT_EVENT_REPLY_TIMEOUT_MS,
      subscriptionDeadlineMs: opts.subscriptionDeadlineMs ?? SUBSCRIPTION_DEADLINE_MS,
      minIntervalMs: opts.minIntervalMs ?? MIN_INTERVAL_MS,
      knownUsids: new Set(opts.knownUsids ?? [59, 83]),
      phase0: opts.phase0 ?? false,
      healthFailing: opts.healthFailing ?? false,
    };
    this.maapi =
      opts.maapi === false
        ? undefined
        : new MaapiSimServer({
            protoVsn: this.opts.protoVsn,
            libVsn: this.opts.libVsn,
            compatProtoVsns: this.opts.compatProtoVsns,
            maxDepth: this.opts.maxDepth,
            maxKeyLen: this.opts.maxKeyLen,
            secret: opts.secret,
            ...opts.maapi,
          });
    this.streams = new StreamStore(
      opts.streams ?? [
        { name: "NETCONF", replay: true },
        { name: "ncs-events", replay: true },
        { name: "ncs-alarms", replay: false },
      ],
    );
  }

  async listen(): Promise<{ host: string; port: number }> {
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    await listenOn(server, this.opts.port, this.opts.host);
    return this.address;
  }

  get address(): { host: string; port: number } {
    const a = this.server?.address();
    if (!a || typeof a === "string") throw new Error("simulator is not listening");
    return { host: a.address, port: a.port };
  }

  /** Live subscribers (handshaken and subscribed). */
  subscribers(): SubscriberInfo[] {
    return [...this.subs.values()].flatMap((s) => (s.info ? [s.info] : []));
  }

  /** Resolves once at least `n` subscribers are subscribed. */
  waitForSubscribers(n = 1): Promise<SubscriberInfo[]> {
    if (this.subscribers().length >= n) return Promise.resolve(this.subscribers());
    return new Promise((resolve) => {
      const on = (): void => {
        if (this.subscribers().length >= n) {
          this.off("subscribed", on);
          resolve(this.subscribers());
        }
      };
      this.on("subscribed", on);
    });
  }

  /** Resolves on the next ack of `kind` (optionally for `id`). */
  waitForAck(kind?: AckKind, id?: number): Promise<AckHandle> {
    return new Promise((resolve) => {
      const on = (_s: SubscriberInfo, h: AckHandle): void => {
        if ((kind === undefined || h.kind === kind) && (id === undefined || h.id === id)) {
          this.off("ack", on);
          resolve(h);
        }
      };
      this.on("ack", on);
    });
  }

  /** True while a flood waits for a subscriber's socket to drain (the subscriber holds NSO back). */
  get waitingForDrain(): boolean {
    return this.drainWaits > 0;
  }

  /** A hung NSO: no heartbeats, health checks or notifications until set back. */
  setHung(hung: boolean): void {
    this.hung = hung;
  }

  /** Close every client socket (the server keeps listening). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Next commit thandle (for scenario commit diffs without an explicit th). */
  nextThandle(): number {
    return this.nextTh++;
  }

  /**
   * Deliver a notification to every subscriber whose mask selects it. Blocking deliveries
   * (commit diff; audit/audit-network/HA with their sync flag) wait for the ack, for the
   * event-reply timeout at most, after which that subscriber's socket is closed (§8).
   */
  inject(spec: Spec): InjectResult {
    const { delivered, done } = this.send(spec);
    return { delivered, done };
  }

  /**
   * A flood: `count` notifications made by `make(i)` (i from 0), written as fast as the
   * subscribers read them, and no faster: as NSO's writer does, it waits for a socket's 'drain'
   * when the socket's buffers are full (a subscriber that stopped reading holds it back). Says how
   * often it had to wait and how much it had buffered at most: backpressure, seen from NSO's side.
   * Blocking notifications wait for their acks as with `inject` (`done`).
   */
  async flood(make: (i: number) => Spec, count: number): Promise<FloodResult> {
    const r: FloodResult = { written: 0, delivered: 0, drainWaits: 0, maxBuffered: 0, done: Promise.resolve([]) };
    const waits: Array<Promise<AckOutcome[]>> = [];
    for (let i = 0; i < count; i++) {
      const sent = this.send(make(i));
      r.written++;
      r.delivered += sent.delivered;
      waits.push(sent.done);
      for (const sub of sent.subs) r.maxBuffered = Math.max(r.maxBuffered, sub.socket.writableLength);
      const full = sent.subs.filter((sub) => sub.socket.writableNeedDrain && !sub.socket.destroyed);
      if (full.length === 0) continue;
      r.drainWaits++;
      for (const sub of full) this.emit("backpressure", { id: sub.id, buffered: sub.socket.writableLength });
      this.drainWaits++;
      try {
        await Promise.all(full.map((sub) => drained(sub.socket)));
      } finally {
        this.drainWaits--;
      }
    }
    r.done = Promise.all(waits).then((all) => all.flat());
    return r;
  }

  private send(spec: Spec): InjectResult & { subs: Subscriber[] } {
    if (spec.type === "NOTIF_STREAM_EVENT") return this.injectStream(spec);
    if (spec.type === "NOTIF_COMMIT_DIFF" && spec.th === undefined) spec = { ...spec, th: this.nextThandle() };
    const bit = deliveryBit(spec.type);
    const waits: Array<Promise<AckOutcome>> = [];
    const subs: Subscriber[] = [];
    let delivered = 0;
    for (const sub of this.subs.values()) {
      const info = sub.info;
      if (!info || this.hung) continue;
      const progress = spec.type === "NOTIF_PROGRESS" || spec.type === "NOTIF_COMMIT_PROGRESS";
      const wants = progress
        ? (info.mask & (NOTIF_BITS.NOTIF_PROGRESS | (spec.type === "NOTIF_COMMIT_PROGRESS" ? NOTIF_BITS.NOTIF_COMMIT_PROGRESS : 0))) !== 0
        : (info.mask & bit) !== 0;
      if (!wants) continue;
      if (progress && Number(spec.verbosity ?? 0) > info.verbosity) continue;
      const term = buildNotification(spec, { libVsn: info.libVsn, mask: info.mask });
      const key = blockingKey(spec, term, info.mask);
      if (key) {
        // NSO: "... reply" daemon log, then the subscriber's socket is closed (§8).
        const timedOut = (): void => this.endSubscriber(sub, `no ${key.split(":")[0]} reply within ${this.opts.eventReplyTimeoutMs} ms`);
        waits.push(sub.awaitAck(key, this.opts.eventReplyTimeoutMs, timedOut));
      }
      sub.write(term);
      subs.push(sub);
      delivered++;
    }
    const done = Promise.all(waits);
    // The commit stays attachable over MAAPI until every diff subscriber acked (or timed out).
    if (spec.type === "NOTIF_COMMIT_DIFF" && this.maapi) {
      const usid = Number((spec.uinfo as Record<string, unknown> | undefined)?.usid ?? 59);
      trackCommit(this.maapi.store, { th: spec.th as number, usid, diff: spec.diff as DiffSpecItem[] | undefined }, done);
    }
    return { delivered, done, subs };
  }

  /** Write raw bytes to every subscribed socket (garbage, truncated or oversize frames for tests). */
  injectBytes(bytes: Buffer): number {
    let n = 0;
    for (const sub of this.subs.values()) {
      if (sub.info) {
        sub.socket.write(bytes);
        n++;
      }
    }
    return n;
  }

  /** Write one framed raw term to every subscriber (unknown types, odd shapes). */
  injectTerm(t: Term): number {
    return this.injectBytes(encodeFrame(encodeTerm(t)));
  }

  async close(): Promise<void> {
    for (const s of this.subs.values()) this.endSubscriber(s, "simulator closed");
    for (const s of this.sockets) s.destroy();
    await this.maapi?.close();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private injectStream(spec: Spec): InjectResult & { subs: Subscriber[] } {
    const name = asText(spec.stream ?? "NETCONF");
    if (!this.streams.has(name)) throw new RangeError(`unknown stream ${name}`);
    const time = datetimeTerm(spec.event_time ? asText(spec.event_time) : new Date());
    const values = streamValues(spec.values ?? []);
    const e = this.streams.record(name, time, values);
    let delivered = 0;
    const subs: Subscriber[] = [];
    for (const sub of this.subs.values()) {
      const st = sub.info?.stream;
      if (!st || this.hung || st.name !== name || sub.streamDone) continue;
      if (st.start !== undefined && e.micros < st.start) continue;
      if (st.stop !== undefined && e.micros > st.stop) {
        sub.write(tuple(NOTIF_BITS.NOTIF_STREAM_EVENT, atom("notification_complete")));
        sub.streamDone = true;
        continue;
      }
      sub.write(tuple(NOTIF_BITS.NOTIF_STREAM_EVENT, tuple(time, values)));
      subs.push(sub);
      delivered++;
    }
    return { delivered, done: Promise.resolve([]), subs };
  }

  private endSubscriber(sub: Subscriber, reason: string): void {
    if (!this.subs.has(sub.id)) return;
    this.subs.delete(sub.id);
    sub.end();
    this.emit("closed", { id: sub.id, reason });
  }

  private reject(socket: net.Socket, reason: string, bytes?: Buffer): void {
    this.emit("rejected", { reason });
    if (bytes) socket.end(bytes);
    else socket.destroy();
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy()); // a reset by the client just ends it
    if (this.opts.phase0) {
      this.reject(socket, "phase0");
      return;
    }
    const reader = new ByteReader(1024 * 1024);
    let phase: "handshake" | "subscribe" | "events" = "handshake";
    let sub: Subscriber | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const handshake = new ServerHandshake(socket, reader, {
      clientId: CLIENT_ID_EVENT_MGR,
      ...handshakeSettings(this.opts),
      handOver: (header, raw) => {
        if (header.clientId !== CLIENT_ID_MAAPI || !this.maapi) return false;
        // One IPC port serves both services, as on NSO: hand the socket over, header included.
        socket.removeAllListeners("data");
        this.sockets.delete(socket);
        this.maapi.adopt(socket, Buffer.concat([raw, reader.take(reader.pending) ?? Buffer.alloc(0)]));
        return true;
      },
    });

    const afterHandshake = (h: ParsedHeader): void => {
      phase = "subscribe";
      sub = new Subscriber(this.nextId++, socket, h);
      deadline = setTimeout(() => this.reject(socket, "Timeout waiting for subscription on event socket - closing"), this.opts.subscriptionDeadlineMs);
      deadline.unref?.();
    };

    const step = (): void => {
      for (;;) {
        if (socket.destroyed) return;
        if (phase === "handshake") {
          const r = handshake.step();
          if (r.kind === "pending" || r.kind === "handed-over") return;
          if (r.kind === "rejected") return this.reject(socket, r.reason, r.bytes);
          afterHandshake(r.header);
          continue;
        }
        const f = reader.nextFrame();
        if (!f) return;
        if (phase === "subscribe") {
          clearTimeout(deadline);
          this.subscribe(sub!, f);
          if (!socket.destroyed) phase = "events";
          continue;
        }
        this.onClientMessage(sub!, f);
      }
    };

    socket.on("data", (chunk: Buffer) => {
      reader.push(chunk);
      try {
        step();
      } catch (e) {
        // Anything unparsable from a client is an illegal message: NSO closes the socket.
        this.reject(socket, `illegal message: ${(e as Error).message}`);
        if (sub) this.endSubscriber(sub, "illegal message");
      }
    });
    socket.on("close", () => {
      clearTimeout(deadline);
      if (sub) this.endSubscriber(sub, "client closed");
    });
  }

  private subscribe(sub: Subscriber, f: Buffer): void {
    const v = readSubscription(f, sub.id, sub.header, { minIntervalMs: this.opts.minIntervalMs, streams: this.streams, knownUsids: this.opts.knownUsids });
    if (v.kind === "refused") return this.refuse(sub, v.reply);
    if (v.kind === "closed") return this.reject(sub.socket, v.reason);
    const info = v.info;
    sub.info = info;
    this.subs.set(sub.id, sub);
    sub.write(atom("ok"));
    if (info.heartbeatMs > 0) sub.every(info.heartbeatMs, () => !this.hung && sub.write(tuple(NOTIF_BITS.NOTIF_HEARTBEAT)));
    if (info.healthCheckMs > 0) sub.every(info.healthCheckMs, () => !this.hung && !this.opts.healthFailing && sub.write(tuple(NOTIF_BITS.NOTIF_HEALTH_CHECK)));
    const st = info.stream;
    if (st && st.start !== undefined) {
      for (const e of this.streams.replay(st.name, st.start, st.stop)) sub.write(tuple(NOTIF_BITS.NOTIF_STREAM_EVENT, tuple(e.time, e.values)));
      sub.write(tuple(NOTIF_BITS.NOTIF_STREAM_EVENT, atom("replay_complete")));
      if (st.stop !== undefined && st.stop <= Date.now() * 1000) {
        sub.write(tuple(NOTIF_BITS.NOTIF_STREAM_EVENT, atom("notification_complete")));
        sub.streamDone = true;
      }
    }
    this.emit("subscribed", info);
  }

  private refuse(sub: Subscriber, reply: Term): void {
    this.emit("rejected", { reason: "subscription refused" });
    sub.socket.end(encodeFrame(encodeTerm(reply)));
  }

  private onClientMessage(sub: Subscriber, f: Buffer): void {
    const ack = parseAck(decodeTerm(f));
    if (!ack) throw new Error("Got illegal message on event socket - closing");
    const p = sub.takeAck(`${ack.kind}:${ack.id}`);
    // An ack with no matching wait is silently ignored (§8, §15).
    if (!p) return;
    this.emit("ack", sub.info!, ack);
    p.resolve("acked");
  }
}

/** Resolves when the socket can take more (or is gone). */
function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}
