import type { AddressInfo, Server, Socket } from "node:net";
import { create_container, EventContext, Sender } from "rhea";

/**
 * A second AMQP 1.0 peer in-process (a rhea server on 127.0.0.1, port 0) for the faults a real
 * broker will not produce on demand: refused attaches, a cut connection, SASL rejection.
 */
export class RheaPeer {
  readonly server: Server;
  readonly sockets = new Set<Socket>();
  readonly senders = new Set<Sender>();
  readonly received: Array<{ address: string; body: unknown; subject?: string }> = [];
  /** Addresses whose attach is refused with amqp:not-found (the link closes, the session stays). */
  refuse = new Set<string>();
  /** When set, the whole session is ended on attach of this address (RabbitMQ's behaviour). */
  endSessionOn = new Set<string>();
  connections = 0;
  /** While true, received messages are left unsettled (no outcome goes back to the sender). */
  hold = false;
  private readonly container = create_container({ id: "rhea-peer" });

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(opts: { users?: Record<string, string> } = {}): Promise<RheaPeer> {
    const c = create_container({ id: "rhea-peer" });
    if (opts.users) {
      c.sasl_server_mechanisms.enable_plain((u: string, p: string) => opts.users![u] === p);
    }
    const server = c.listen({ port: 0, host: "127.0.0.1", require_sasl: !!opts.users, autoaccept: false } as never) as unknown as Server;
    const peer = new RheaPeer(server);
    (peer as unknown as { container: unknown }).container = c;
    server.on("connection", (s: Socket) => {
      peer.sockets.add(s);
      s.on("close", () => peer.sockets.delete(s));
    });
    c.on("connection_open", () => peer.connections++);
    c.on("sender_open", (ctx: EventContext) => {
      const s = ctx.sender!;
      const addr = (s.source as { address?: string })?.address ?? "";
      if (peer.endSessionOn.has(addr)) {
        ctx.session!.close({ condition: "amqp:not-found", description: `no such node ${addr}` });
        return;
      }
      if (peer.refuse.has(addr)) {
        s.close({ condition: "amqp:not-found", description: `no such node ${addr}` });
        return;
      }
      peer.senders.add(s);
      s.on("sender_close", () => peer.senders.delete(s));
    });
    c.on("receiver_open", (ctx: EventContext) => {
      const addr = (ctx.receiver!.target as { address?: string })?.address ?? "";
      if (peer.refuse.has(addr)) ctx.receiver!.close({ condition: "amqp:not-found", description: `no such node ${addr}` });
    });
    c.on("message", (ctx: EventContext) => {
      if (!peer.hold) ctx.delivery!.accept();
      peer.received.push({ address: (ctx.receiver!.target as { address?: string })?.address ?? "", body: ctx.message!.body, subject: ctx.message!.subject });
    });
    c.on("error", () => {});
    c.on("connection_error", () => {});
    c.on("disconnected", () => {});
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
    return peer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `amqp://127.0.0.1:${this.port}`;
  }

  /** Attached senders (our receivers) for `address`. */
  sendersFor(address: string): Sender[] {
    return [...this.senders].filter((s) => (s.source as { address?: string })?.address === address && s.is_open());
  }

  /** Cut every connection, as a broker crash or network fault would. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Resolve when `pred()` holds, checking on every macrotask turn, at most `ms` long. */
export async function until(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
