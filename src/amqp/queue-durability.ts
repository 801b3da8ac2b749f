import { InfraError } from "../core/errors";

/**
 * What a source or target address makes RabbitMQ do, and the terminus we ask for.
 *
 * Measured on RabbitMQ 3.10.8's AMQP 1.0 plugin (test/integration/amqp-durable-queues.test.ts):
 * - `/queue/<q>` and a bare `<q>`: the attach declares queue `q`, durable exactly when the
 *   terminus is durable (1 or 2), never exclusive or auto-delete. The expiry policy is echoed
 *   back and otherwise ignored (`link-detach` deletes nothing). If `q` exists with the other
 *   durability, the broker ends the session with `amqp:precondition-failed` ("inequivalent arg
 *   'durable'"), for receivers and senders alike.
 * - `/amq/queue/<q>`: an existing queue, not declared; any terminus attaches.
 * - `/exchange/<x>/<key>`, `/topic/<key>`: a server-named `amq.gen-…` queue per attach, durable
 *   when the terminus is, and never deleted. A durable one would pile up on disk at every
 *   re-attach and still lose what was published between two attaches: these stay transient.
 * - anything else (`topic://…`, `queue://…`): another broker's form; the terminus stays as it was.
 */
export type SourceKind = "temporary" | "declared" | "existing" | "other";

/** How a queue the node declares (`/queue/<q>`, bare name) is declared: durable survives a broker restart. */
export type QueueDurability = "durable" | "transient";

export function sourceKind(address: string): SourceKind {
  if (/^\/(exchange|topic)\//.test(address)) return "temporary";
  if (address.startsWith("/amq/queue/")) return "existing";
  if (address.startsWith("/queue/")) return "declared";
  // A bare name (no leading slash, no scheme): RabbitMQ declares it like /queue/<name>.
  if (!address.startsWith("/") && !/^[a-z][a-z0-9+.-]*:/i.test(address)) return "declared";
  return "other";
}

export interface Terminus {
  address: string;
  /** terminus-durability: 0 none, 2 unsettled-state (what JMS clients ask for a durable subscription). */
  durable: number;
  expiry_policy?: "never";
}

/**
 * The terminus for `address`: durable with expiry `never` (the queue outlives the link) for
 * queue addresses when `durable`, else non-durable. Temporary sources are never durable (see above).
 */
export function terminusFor(address: string, durable: boolean): Terminus {
  const kind = sourceKind(address);
  if (durable && (kind === "declared" || kind === "existing")) return { address, durable: 2, expiry_policy: "never" };
  return { address, durable: 0 };
}

/** RabbitMQ's answer to declaring a queue that exists with the other durability. */
const MISMATCH = /inequivalent arg 'durable' for queue '([^']*)' in vhost '([^']*)': received '(true|false)' but current is '(true|false)'/;

/** The queue behind a durability mismatch, or undefined for any other error. */
export function durabilityMismatch(err: Error): { queue: string; vhost: string; existing: QueueDurability } | undefined {
  const m = MISMATCH.exec(err.message);
  if (!m) return undefined;
  return { queue: m[1], vhost: m[2], existing: m[4] === "true" ? "durable" : "transient" };
}

/**
 * A durability mismatch said so that the user knows what to do; other errors unchanged.
 * `setting` names the node option that chooses the durability (amqp1-events has one).
 */
export function explainDurabilityMismatch(err: Error, opts: { setting?: string }): Error {
  const mm = durabilityMismatch(err);
  if (!mm) return err;
  const { queue, vhost, existing } = mm;
  const setting = opts.setting;
  const p = vhost === "/" ? "" : ` -p ${vhost}`;
  let text: string;
  if (existing === "transient") {
    text =
      `queue '${queue}' is transient (it loses its messages when the broker restarts) but is declared durable here` +
      (setting ? ` (${setting}: durable, the default)` : "") +
      `. Delete it once it is drained (rabbitmqctl delete_queue${p} ${queue}) and it is declared durable on the next attach` +
      `, or use the address /amq/queue/${queue} (takes the queue as it is, no declaration)` +
      (setting ? `, or set ${setting} to transient to keep the old behaviour` : "") +
      ".";
  } else {
    text =
      `queue '${queue}' is durable but is declared transient here` +
      (setting ? ` (${setting}: transient). Set ${setting} to durable,` : ".") +
      ` or use the address /amq/queue/${queue} (takes the queue as it is, no declaration).`;
  }
  return new InfraError("queue-durability-mismatch", `${text} [${err.message}]`, { queue, vhost, existing });
}
