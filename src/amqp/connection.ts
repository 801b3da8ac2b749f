import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { Connection, ConnectionOptions, create_container, EventContext } from "rhea";
import { AckRegistry } from "../core/ack-registry";
import { DropCounter } from "../core/drops";
import { TypeCounts } from "../core/type-counts";
import { Backoff } from "../core/backoff";
import { Clock, systemClock } from "../core/clock";
import { asError, InfraError } from "../core/errors";
import { Attempt, ConnectionLifecycle } from "../core/lifecycle";
import { BrokerUrl, formatBrokerUrl } from "./broker-url";
import { AckError } from "../core/ack-registry";
import { applyOutcome, HeldDelivery, Outcome, SettleRequest } from "./settlement";
import { parseSaslMechanism, SaslMechanism } from "./sasl";

export interface AmqpConnectionOptions {
  /** Who owns this connection (the config node id): ack tokens carry it. */
  id: string;
  /** Failover list, tried in turn. */
  urls: BrokerUrl[];
  sasl?: SaslMechanism;
  username?: string;
  password?: string;
  /** RabbitMQ reads the vhost from the open frame's hostname as `vhost:<name>`. */
  vhost?: string;
  /** Passed to tls.connect (ca, cert, key, servername, rejectUnauthorized, …). */
  tls?: Record<string, unknown>;
  /** Our idle timeout: rhea drops the connection after twice this much silence. */
  idleTimeoutMs?: number;
  containerId?: string;
  handshakeTimeoutMs?: number;
  backoff?: Backoff;
  clock?: Clock;
  /** At most this many deliveries held for manual settlement across the connection. */
  maxHeldDeliveries?: number;
  /** How long a graceful close may take before the socket is destroyed. */
  closeGraceMs?: number;
}

export interface BrokerInfo {
  url: string;
  product?: string;
  version?: string;
}

export interface ConnectionEvents {
  up: [Connection, BrokerInfo];
  down: [Error];
}

/**
 * One rhea connection per config node, driven by the core ConnectionLifecycle: rhea's own
 * reconnect is off, so backoff, handshake timeout, failover order and "closing" are ours and
 * identical to the other channels. Each attempt dials the next URL of the list. Links
 * (ManagedLink) listen to `up`/`down` and re-attach themselves, each in its own session.
 */
export class AmqpConnection extends EventEmitter<ConnectionEvents> {
  readonly lifecycle: ConnectionLifecycle;
  /** Live deliveries behind the plain ack tokens that manual-mode messages carry. */
  readonly acks: AckRegistry<HeldDelivery>;
  /**
   * For the health view, counted here rather than on the links: a link goes with its node on a
   * partial deploy, the connection stays. The links that are open (ManagedLink), events by name,
   * drops by kind.
   */
  readonly links = new Set<object>();
  readonly types = new TypeCounts();
  readonly drops = new DropCounter();
  private current: Connection | undefined;
  private info: BrokerInfo | undefined;
  private readonly closing = new Set<Promise<void>>();
  private readonly clock: Clock;

  constructor(readonly opts: AmqpConnectionOptions) {
    super();
    if (opts.urls.length === 0) throw new InfraError("broker-url", "no broker URL");
    this.clock = opts.clock ?? systemClock;
    this.acks = new AckRegistry<HeldDelivery>(opts.id, { maxOpen: opts.maxHeldDeliveries ?? 10000, onDrop: (_k, h, why) => (h as HeldDelivery).dropped(why) });
    this.lifecycle = new ConnectionLifecycle({
      open: (a) => this.dial(a),
      backoff: opts.backoff,
      clock: this.clock,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 15000,
    });
  }

  /** The open rhea connection, if connected. */
  get connection(): Connection | undefined {
    return this.current;
  }

  get broker(): BrokerInfo | undefined {
    return this.info;
  }

  /** RabbitMQ 3.x ends the session on a `modified` outcome: settlement maps it (see settlement.ts). */
  get isRabbitMq(): boolean {
    return /rabbitmq/i.test(this.info?.product ?? "");
  }

  /**
   * Settle a manual-mode delivery from its plain token (msg.ack). Returns the outcome that
   * went on the wire (see applyOutcome for the RabbitMQ mapping of modified).
   */
  settle(token: unknown, req: SettleRequest): Outcome {
    const { handle } = this.acks.take(token, "amqp1-delivery");
    if (!handle.linkAlive()) {
      handle.dropped("connection-gone");
      throw new AckError("ack-link-gone", "the link this message arrived on is gone; the broker has taken the message back and will redeliver it");
    }
    const applied = applyOutcome(handle.delivery, req, this.isRabbitMq);
    handle.settled(applied);
    return applied;
  }

  start(): void {
    this.lifecycle.start();
  }

  /** Stop for good and wait until every socket of this connection is closed. */
  async stop(): Promise<void> {
    this.lifecycle.stop();
    await Promise.all([...this.closing]);
  }

  private dial(attempt: Attempt): void {
    const url = this.opts.urls[(attempt.number - 1) % this.opts.urls.length];
    const container = create_container({ id: this.opts.containerId || `infra-events-${this.opts.id}` });
    const conn = container.connect(this.connectOptions(url));
    let upAnnounced = false;
    let lastError: Error | undefined;
    // Without listeners rhea re-raises errors as 'error' and, unhandled, that kills the process.
    container.on("error", (e: unknown) => {
      lastError = asError(e);
    });
    conn.on("connection_open", (ctx: EventContext) => {
      const props = (ctx.connection as unknown as { remote?: { open?: { properties?: Record<string, unknown> } } }).remote?.open?.properties ?? {};
      this.info = {
        url: formatBrokerUrl(url),
        product: typeof props.product === "string" ? props.product : undefined,
        version: typeof props.version === "string" ? props.version : undefined,
      };
      this.current = conn;
      this.acks.beginConnection();
      upAnnounced = true;
      attempt.established();
      this.emit("up", conn, this.info);
    });
    conn.on("connection_error", (ctx: EventContext) => {
      lastError = describeError(ctx.error ?? ctx.connection.error, "connection error");
    });
    conn.on("connection_close", (ctx: EventContext) => {
      attempt.fail(lastError ?? describeError(ctx.error ?? ctx.connection.error, "connection closed by the broker"));
    });
    conn.on("protocol_error", (e: unknown) => {
      lastError = asError(e);
    });
    conn.on("error", (e: unknown) => {
      lastError = asError(e);
    });
    conn.on("disconnected", (ctx: EventContext) => {
      attempt.fail(lastError ?? describeError(ctx.error, `disconnected from ${formatBrokerUrl(url)}`));
    });
    attempt.onEnd(() => {
      if (upAnnounced) {
        this.current = undefined;
        this.acks.endConnection();
        this.emit("down", asError(attempt.signal.reason ?? new Error("connection ended")));
      }
      this.finish(conn);
    });
  }

  private connectOptions(url: BrokerUrl): ConnectionOptions {
    const o: Record<string, unknown> = {
      host: url.host,
      port: url.port,
      transport: url.transport,
      reconnect: false,
      idle_time_out: this.opts.idleTimeoutMs ?? 60000,
      // rhea turns Nagle off only in connection.open_receiver/open_sender; our links are opened
      // on their own sessions, which skips that, and Nagle then holds back the small flow and
      // disposition frames (tens of ms stalls under load, a third of the receive rate).
      tcp_no_delay: true,
    };
    if (this.opts.vhost) o.hostname = `vhost:${this.opts.vhost}`;
    // Normalised here too: a caller passing "PLAIN" must not fall through to no SASL at all.
    const mech = parseSaslMechanism(this.opts.sasl) ?? (this.opts.username ? "plain" : "none");
    if (mech === "plain") {
      if (!this.opts.username) throw new InfraError("sasl-config", "SASL PLAIN needs a user name");
      o.username = this.opts.username;
      o.password = this.opts.password ?? "";
    } else if (mech === "anonymous") {
      o.username = this.opts.username || "anonymous";
    } else if (mech === "external") {
      if (url.transport !== "tls" || !this.opts.tls?.cert) {
        throw new InfraError("sasl-config", "SASL EXTERNAL needs amqps:// and a client certificate (tls-config)");
      }
      o.enable_sasl_external = true;
    }
    if (url.transport === "tls") Object.assign(o, this.opts.tls ?? {}, { servername: (this.opts.tls?.servername as string) || url.host });
    return o as unknown as ConnectionOptions;
  }

  /** Close gracefully; destroy the socket if the broker does not answer in time. */
  private finish(conn: Connection): void {
    const socket = (conn as unknown as { socket?: Socket }).socket;
    const done = new Promise<void>((resolve) => {
      if (!socket || socket.destroyed) return resolve();
      const timer = setTimeout(() => socket.destroy(), this.opts.closeGraceMs ?? 2000);
      timer.unref();
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        if (conn.is_open()) conn.close();
        else socket.destroy();
      } catch {
        // A connection that cannot even send its close frame is gone: destroy the socket.
        socket.destroy();
      }
    });
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
  }
}

/** rhea errors are objects with condition/description, sometimes plain Errors or undefined. */
export function describeError(e: unknown, fallback: string): Error {
  if (e instanceof Error) {
    const cond = (e as { condition?: string }).condition;
    return new InfraError(cond ?? "amqp-error", cond && !e.message.includes(cond) ? `${cond}: ${e.message}` : e.message || fallback);
  }
  if (e && typeof e === "object") {
    const { condition, description } = e as { condition?: string; description?: string };
    if (condition || description) return new InfraError(condition ?? "amqp-error", [condition, description].filter(Boolean).join(": "));
  }
  return new InfraError("amqp-error", fallback);
}
