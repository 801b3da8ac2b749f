import type { AmqpConnection } from "../../amqp";
import type { ApicClient } from "../../apic";
import type { PauseGate } from "../../core/pause-gate";
import type { MaapiClient, NsoClient, NsoDelivery, NsoGapInfo, NsoHubUser, ShareAnswer } from "../../nso";
import type { HubUser, SysadmHub } from "../../sysadm";
import type { OverflowMode } from "./flow-window";
import type { Node } from "./red";
import type { StatusTarget } from "./users";

/**
 * What each config node offers the nodes that use it, for all four channels in one place: a node
 * file uses `export =` (what Node-RED loads) and so cannot export types of its own, and the
 * libraries must not know Node-RED's users and statuses (their handles used to live there).
 */

// ---- amqp1-broker

/**
 * What an amqp1-broker config node offers the nodes that use it.
 */
export interface BrokerHandle {
  readonly urls: string;
  /** Why this broker cannot connect (bad settings); undefined when it can. */
  readonly configError: Error | undefined;
  readonly amqp: AmqpConnection | undefined;
  register(user: StatusTarget): void;
  /** `removed` false: the user is only restarting (partial deploy); keep the connection a moment. */
  deregister(user: StatusTarget, removed?: boolean): void;
}

// ---- apic-controller

/**
 * What an apic-controller config node offers the apic-events nodes that use it.
 */
export interface ApicControllerHandle {
  /** Undefined when the configuration is broken; register() then shows why. */
  readonly client: ApicClient | undefined;
  /** The controller in use, for messages (`apic.controller`). */
  readonly describe: string;
  /** What a user whose flow is behind does: hold APIC back (default) or drop its oldest changes and say so. */
  readonly overflow: "hold" | "drop-oldest";
  /** Flow control: a user holds it (with its id) while its flow is behind; the sockets stop reading. */
  readonly gate: PauseGate | undefined;
  register(user: StatusTarget): void;
  /** `removed` false: the user is only restarting (partial deploy); keep the session a moment. */
  deregister(user: StatusTarget, removed?: boolean): void;
}

// ---- nso-server

/** A delivery to an nso-events node: the notification, its own ack share, its view of a commit's diff. */
export type Delivery = NsoDelivery;
export type { NsoGapInfo };

/** What an nso-events node registers with the server: a hub user that shows the connection's status. */
export type NsoUser = NsoHubUser & StatusTarget;

export interface NsoServerHandle extends Node {
  readonly endpoint: string;
  readonly client: NsoClient;
  /** What a user's window does when its flow falls behind. */
  readonly overflow: OverflowMode;
  /** Stop reading the socket for this user (its flow is a window behind); it reads again once no user holds it. */
  hold(userId: string): void;
  release(userId: string): void;
  register(user: NsoUser): void;
  deregister(user: NsoUser, removed?: boolean): void;
  /** A closing user could not pass on a notification it had taken (read at `at`): its successor hears of the gap. */
  unsent(userId: string, at?: number): void;
  /** Answer one user's share of a blocking notification (`released`: NSO got its ack). */
  ack(token: unknown): Promise<ShareAnswer>;
  /**
   * The MAAPI client of this NSO (same host, port, access check and secret as the event
   * socket), created the first time a node asks for it; its socket is dialled on demand.
   */
  maapi(): MaapiClient;
}

// ---- sysadm-server

/** A sysadm-events node as the sysadm-server config node sees it. */
export type SysadmUser = HubUser & StatusTarget;

/**
 * What a sysadm-server config node offers the nodes that use it.
 */
export interface SysadmServerHandle {
  readonly url: string;
  /** Why this server cannot connect (bad settings); undefined when it can. */
  readonly configError: Error | undefined;
  readonly hub: SysadmHub | undefined;
  /** Flow control: a user holds it (with its id) while its flow is behind; the socket stops reading. */
  readonly gate: PauseGate | undefined;
  /** What a user whose flow is behind does: hold the server back (default) or drop its oldest events and say so. */
  readonly overflow: "hold" | "drop-oldest";
  register(user: SysadmUser, types: readonly string[]): void;
  deregister(user: SysadmUser, removed?: boolean): void;
}
