import type { Receiver, Session } from "rhea";

/** The parts of rhea's session and receiver the guard relies on (not in rhea's typings). */
interface RheaTransferFrame {
  performative: { handle: number; more?: boolean };
}
interface RheaSessionInternals {
  on_transfer: (this: RheaSessionInternals, frame: RheaTransferFrame) => void;
  remote: { handles: Record<number, unknown> };
}

/**
 * A delivery that arrives when the receiver has no credit left is processed by rhea anyway, but
 * rhea first prints "Received transfer when credit was 0" with console.error: a bare line in
 * Node-RED's log, with no time and no node. RabbitMQ 3.x's AMQP 1.0 plugin does send beyond the
 * credit (a flow frame that reaches it while deliveries are on their way inside the broker
 * resets the queue's credit without counting them). EventSubscription no longer sends flows
 * that way (see its topUp), but a broker may still overrun; the delivery is then ours to count
 * and report, not rhea's to print.
 *
 * guardCredit wraps `session`'s transfer handler (each of our links has its own session): for
 * the last frame of a delivery on `receiver` that finds no credit, it lends the receiver the
 * one credit rhea takes back at once, so rhea's check passes, then calls `onOverrun`. Nothing
 * goes on the wire (the broker is granted nothing), and rhea's credit and delivery count end
 * as they would have. Throws if rhea's internals are not what this relies on, rather than
 * letting the line come back unnoticed after a rhea upgrade.
 */
export function guardCredit(session: Session, receiver: Receiver, onOverrun: () => void): void {
  const s = session as unknown as RheaSessionInternals;
  const r = receiver as unknown as { credit: number };
  const original = s.on_transfer;
  if (typeof original !== "function" || typeof s.remote?.handles !== "object" || typeof r.credit !== "number") {
    throw new Error("rhea internals changed: cannot guard the receiver's credit (see credit-guard.ts)");
  }
  s.on_transfer = function (this: RheaSessionInternals, frame: RheaTransferFrame) {
    const p = frame.performative;
    // rhea takes the credit when a delivery is complete, i.e. on its last frame.
    const overrun = !p.more && this.remote.handles[p.handle] === receiver && r.credit <= 0 && receiver.is_remote_open();
    if (overrun) r.credit = 1;
    original.call(this, frame);
    // Reported after rhea has handed the delivery on (it is then in the flow, not lost).
    if (overrun) onOverrun();
  };
}
