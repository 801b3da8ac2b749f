import { EventEmitter } from "node:events";
import * as net from "node:net";
import type { ConnectionLifecycle, StateChange } from "../core/lifecycle";
import type { BrokerUrl } from "./broker-url";

/**
 * What answers on a broker port:
 * - `amqp1`: an AMQP 1.0 peer (it echoes the 1.0 SASL header, or the plain 1.0 header);
 * - `amqp091-only`: a broker that speaks only AMQP 0-9-1 (RabbitMQ without its AMQP 1.0 plugin
 *   answers any other protocol header with its own, `AMQP 0 0 9 1`, and closes);
 * - `unreachable`: nothing accepts a TCP connection there (refused, unknown host, timeout);
 * - `other`: something accepted the connection but did not answer as AMQP.
 */
export type ProbeResult = "amqp1" | "amqp091-only" | "unreachable" | "other";

/** What to tell a user whose broker speaks only 0-9-1. */
export const AMQP091_ONLY_HINT = "the broker speaks only AMQP 0-9-1: enable its AMQP 1.0 plugin (rabbitmq-plugins enable rabbitmq_amqp1_0)";
/** The same for a node status (a status line shows about 48 characters). */
export const AMQP091_ONLY_STATUS = "AMQP 0-9-1 only: enable rabbitmq_amqp1_0";

/** AMQP 1.0 protocol header for SASL (protocol id 3, version 1.0.0). */
const SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);

/** Classify the 8 bytes a peer answered a protocol header with. */
export function classifyHeader(answer: Buffer): ProbeResult {
  if (answer.length < 8 || answer.toString("latin1", 0, 4) !== "AMQP") return "other";
  const [id, major, minor, revision] = [answer[4], answer[5], answer[6], answer[7]];
  if (id === 0 && major === 0 && minor === 9 && revision === 1) return "amqp091-only";
  // A 1.0 peer answers with the header it supports: SASL (3) or, without SASL, plain AMQP (0).
  if ((id === 3 || id === 0) && major === 1 && minor === 0) return "amqp1";
  return "other";
}

/**
 * Ask `host:port` which AMQP it speaks: send the AMQP 1.0 SASL header and read the 8-byte
 * answer. Plain TCP only (an amqps:// port answers TLS, not a header). Never rejects.
 */
export function probeAmqp(host: string, port: number, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let connected = false;
    let got = Buffer.alloc(0);
    const socket = net.connect({ host, port });
    const done = (r: ProbeResult) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => done(connected ? classifyHeader(got) : "unreachable"), timeoutMs);
    socket.once("connect", () => {
      connected = true;
      socket.write(SASL_HEADER);
    });
    socket.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 8) done(classifyHeader(got.subarray(0, 8)));
    });
    // A 0-9-1 broker closes right after its header, and a reset may follow: what arrived
    // decides. Refused, unknown host, unreachable network: no connection, so "unreachable".
    const end = () => done(connected ? classifyHeader(got) : "unreachable");
    socket.once("close", end);
    socket.once("error", end);
  });
}

export interface ProtocolCheckEvents {
  /**
   * A broker of the list speaks only 0-9-1: when the probe found it (`first`), then again after
   * each failed retry of the same streak (so a status the retry overwrote can be set again).
   */
  amqp091: [BrokerUrl, boolean];
}

/**
 * Follows a connection's lifecycle and, after the first failed connect of a streak (a dial that
 * never got connected; the streak ends when one does, or the connection is stopped), probes the
 * plain-TCP URLs of the broker list once. A broker that speaks only 0-9-1 makes rhea fail with
 * "Unsupported AMQP version: 0-9-1" (or just a closed socket), which does not say what to do;
 * the probe tells it apart and the node can say "enable the plugin". Probing once per streak,
 * not per retry, keeps a broker that is down for an hour from seeing two connects per retry.
 */
export class ProtocolCheck extends EventEmitter<ProtocolCheckEvents> {
  private streak = 0;
  private probed = false;
  /** Set while the current streak's probe found a 0-9-1-only broker. */
  amqp091Url: BrokerUrl | undefined;

  constructor(
    lifecycle: ConnectionLifecycle,
    private readonly urls: readonly BrokerUrl[],
    private readonly probe: (host: string, port: number, timeoutMs: number) => Promise<ProbeResult> = probeAmqp,
    private readonly timeoutMs = 2000,
  ) {
    super();
    lifecycle.on("state", (c) => this.onState(c));
  }

  private onState(c: StateChange): void {
    if (c.state === "connected" || c.state === "closed") {
      this.streak++;
      this.probed = false;
      this.amqp091Url = undefined;
    } else if (c.state === "waiting-to-retry" && c.previous === "connecting") {
      if (this.amqp091Url) this.emit("amqp091", this.amqp091Url, false);
      if (this.probed) return;
      this.probed = true;
      void this.run(this.streak);
    }
  }

  private async run(streak: number): Promise<void> {
    const plain = this.urls.filter((u) => u.transport !== "tls");
    const results = await Promise.all(plain.map((u) => this.probe(u.host, u.port, this.timeoutMs)));
    // The streak may have ended while probing (connected after all, or stopped).
    if (streak !== this.streak) return;
    const i = results.indexOf("amqp091-only");
    if (i < 0) return;
    this.amqp091Url = plain[i];
    this.emit("amqp091", plain[i], true);
  }
}
