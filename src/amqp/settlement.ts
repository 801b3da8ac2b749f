import type { Delivery } from "rhea";
import { AckError } from "../core/ack-registry";
import { asText } from "../core/describe";

/** The four AMQP 1.0 outcomes a receiver can settle a delivery with. */
export type Outcome = "accept" | "reject" | "release" | "modified";
export const OUTCOMES: readonly Outcome[] = ["accept", "reject", "release", "modified"];

export interface SettleRequest {
  outcome: Outcome;
  /** modified: count this as a failed delivery attempt. */
  deliveryFailed?: boolean;
  /** modified: do not offer it to this receiver again. */
  undeliverableHere?: boolean;
  /** reject: the error to put in the rejected outcome. */
  error?: { condition?: string; description?: string };
}

/** A manual-mode delivery waiting for its amqp1-ack, as the connection's AckRegistry keeps it. */
export interface HeldDelivery {
  delivery: Delivery;
  /** False once the link it arrived on is gone (settling it then would be meaningless). */
  linkAlive(): boolean;
  /** Give the receiver its credit back once the delivery is settled (with the outcome that went out). */
  settled(outcome?: Outcome): void;
  /** The registry dropped it (evicted, or the connection ended). */
  dropped(why: "evicted" | "connection-gone"): void;
}

export function parseOutcome(v: unknown): Outcome {
  const s = asText(v ?? "")
    .toLowerCase()
    .trim();
  const alias: Record<string, Outcome> = {
    accept: "accept",
    accepted: "accept",
    ack: "accept",
    reject: "reject",
    rejected: "reject",
    release: "release",
    released: "release",
    nack: "release",
    requeue: "release",
    modified: "modified",
    modify: "modified",
  };
  const o = alias[s];
  if (!o) throw new AckError("ack-bad-outcome", `"${String(v)}" is not an outcome (accept, reject, release, modified)`);
  return o;
}

/**
 * Settle with the requested outcome, working around broker quirks. Returns the outcome that
 * actually went on the wire.
 *
 * - rhea's `release(anything)` sends *modified*; plain release must be called with no argument.
 * - RabbitMQ 3.x answers a modified outcome with "Unrecognised state" and ends the session
 *   (taking the link and every other unsettled delivery on it down). So on RabbitMQ,
 *   modified{undeliverable_here} becomes reject (it must not come back here: dead-letter or
 *   drop) and any other modified becomes a plain release (redeliver).
 */
export function applyOutcome(delivery: Delivery, req: SettleRequest, rabbitMq: boolean): Outcome {
  switch (req.outcome) {
    case "accept":
      delivery.accept();
      return "accept";
    case "reject":
      delivery.reject(req.error ? { condition: req.error.condition ?? "amqp:internal-error", description: req.error.description } : undefined);
      return "reject";
    case "release":
      delivery.release();
      return "release";
    case "modified":
      if (rabbitMq) {
        if (req.undeliverableHere) {
          delivery.reject({ condition: "amqp:internal-error", description: "undeliverable here" });
          return "reject";
        }
        delivery.release();
        return "release";
      }
      delivery.modified({ delivery_failed: req.deliveryFailed ?? true, undeliverable_here: req.undeliverableHere ?? false });
      return "modified";
  }
}
