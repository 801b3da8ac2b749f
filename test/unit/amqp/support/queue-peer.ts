import type { AddressInfo, Server, Socket } from "node:net";
import { create_container, EventContext } from "rhea";

export interface SeenTerminus {
  role: "source" | "target";
  address: string;
  durable: number;
  expiry_policy: string | undefined;
}

export interface SeenMessage {
  address: string;
  durable: boolean;
  body: unknown;
}

/**
 * An in-process AMQP 1.0 peer (127.0.0.1, port 0) that declares queues the way RabbitMQ 3.10's
 * plugin does for `/queue/<q>`: it records every terminus it is asked for, and a queue that
 * exists with the other durability ends the session with RabbitMQ's own precondition-failed
 * text — after `refuseDelayMs`, so a test can watch what a node shows while an attach is under way.
 */
export class QueuePeer {
  readonly seen: SeenTerminus[] = [];
  readonly messages: SeenMessage[] = [];
  /** Queue name → durable, as if declared earlier. */
  readonly queues = new Map<string, boolean>();
  refuseDelayMs = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(readonly server: Server) {}

  static async start(): Promise<QueuePeer> {
    const c = create_container({ id: "queue-peer" });
    const server = c.listen({ port: 0, host: "127.0.0.1", autoaccept: false } as never) as unknown as Server;
    const peer = new QueuePeer(server);
    server.on("connection", (s: Socket) => {
      peer.sockets.add(s);
      s.on("close", () => peer.sockets.delete(s));
    });
    // The peer's sender serves our receiver (source), its receiver our sender (target).
    c.on("sender_open", (ctx: EventContext) => peer.attached(ctx, "source", (ctx.sender!.source ?? {}) as unknown as Record<string, unknown>));
    c.on("receiver_open", (ctx: EventContext) => {
      const target = (ctx.receiver!.target ?? {}) as unknown as Record<string, unknown>;
      if (peer.attached(ctx, "target", target)) ctx.receiver!.add_credit(100);
    });
    c.on("message", (ctx: EventContext) => {
      const address = String(((ctx.receiver!.target ?? {}) as { address?: string }).address ?? "");
      peer.messages.push({ address, durable: ctx.message!.durable === true, body: ctx.message!.body });
      ctx.delivery!.accept();
    });
    for (const e of ["error", "connection_error", "disconnected", "session_error", "session_close"]) c.on(e, () => {});
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
    return peer;
  }

  get url(): string {
    return `amqp://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Record the terminus; declare or refuse like RabbitMQ. True when the link may stay. */
  private attached(ctx: EventContext, role: "source" | "target", t: Record<string, unknown>): boolean {
    const address = typeof t.address === "string" ? t.address : "";
    const durable = Number(t.durable ?? 0);
    this.seen.push({
      role,
      address,
      durable,
      expiry_policy: t.expiry_policy === undefined ? undefined : typeof t.expiry_policy === "string" ? t.expiry_policy : JSON.stringify(t.expiry_policy),
    });
    const m = /^\/queue\/(.+)$/.exec(address);
    if (!m) return true;
    const want = durable > 0;
    const have = this.queues.get(m[1]);
    if (have === undefined) {
      this.queues.set(m[1], want);
      return true;
    }
    if (have === want) return true;
    const description = `PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${m[1]}' in vhost '/': received '${want}' but current is '${have}'`;
    // RabbitMQ never answers such an attach; it ends the session. rhea would answer it on its
    // own, so the link's pending open is taken back and the attach stays unanswered meanwhile.
    const link = (ctx.sender ?? ctx.receiver) as unknown as { state: { local_open: boolean; open_requests: number } };
    link.state.local_open = false;
    link.state.open_requests = 0;
    const session = ctx.session!;
    setTimeout(() => {
      if (session.is_open()) session.close({ condition: "amqp:precondition-failed", description });
    }, this.refuseDelayMs);
    return false;
  }

  /** Cut every connection, as a network fault would (declared queues stay). */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
