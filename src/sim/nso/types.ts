import type { AckHandle } from "../../nso/acks";
import type { MaapiSimOptions } from "./maapi";
import type { SimHandshakeOptions } from "./server-handshake";
import type { StreamConfig } from "./streams";

/** What the NSO notification simulator can be told, and what it reports. */
export interface NsoSimOptions extends SimHandshakeOptions {
  host?: string;
  port?: number;
  eventReplyTimeoutMs?: number;
  subscriptionDeadlineMs?: number;
  /** Heartbeat/health-check clamp; NSO uses 1000 ms (tests may lower it). */
  minIntervalMs?: number;
  streams?: StreamConfig[];
  /** Usids the server knows (a stream subscription with another non-zero usid is refused). */
  knownUsids?: number[];
  /** Behave like NSO in phase 0: accept and close every connection at once. */
  phase0?: boolean;
  /** Health checks fail (nothing is sent), as when an internal check fails. */
  healthFailing?: boolean;
  /** The MAAPI side on the same port (client id 7); `false` = refuse MAAPI clients. */
  maapi?: Omit<MaapiSimOptions, "host" | "port" | "secret"> | false;
}

export type AckOutcome = "acked" | "timeout" | "closed";

export interface SubscriberInfo {
  id: number;
  mask: number;
  libVsn: number;
  protoVsn: number;
  heartbeatMs: number;
  healthCheckMs: number;
  stream?: { name: string; start?: number; stop?: number; xpath?: string; usid: number };
  verbosity: number;
  legacy: boolean;
}

export interface InjectResult {
  /** Subscribers the notification was written to. */
  delivered: number;
  /** Resolves when every blocking subscriber acked, timed out or went away. */
  done: Promise<AckOutcome[]>;
}

export interface FloodResult {
  /** Notifications made and written (to every subscriber that selects them). */
  written: number;
  /** Writes over all subscribers. */
  delivered: number;
  /** Times the flood waited for a subscriber's socket to drain (it read too slowly). */
  drainWaits: number;
  /** The most bytes a subscriber's socket had queued in the simulator (beyond the kernel's buffers). */
  maxBuffered: number;
  /** Every blocking notification's outcome, as `inject(...).done`. */
  done: Promise<AckOutcome[]>;
}

export interface NsoSimEvents {
  subscribed: [SubscriberInfo];
  ack: [SubscriberInfo, AckHandle];
  closed: [{ id: number; reason: string }];
  rejected: [{ reason: string }];
  /** A flood waits for subscriber `id`'s socket to drain: it stopped reading (backpressure). */
  backpressure: [{ id: number; buffered: number }];
}
