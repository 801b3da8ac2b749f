import type { Session } from "rhea";

/** The parts of rhea's session the guard relies on (not in rhea's typings). */
interface RheaDelivery {
  settled: boolean;
  state?: { descriptor?: { value?: unknown } };
}
interface RheaIncoming {
  /** Deliveries settled or updated since the last write, in order. */
  updated: RheaDelivery[];
  process: (this: RheaIncoming, session: unknown) => void;
}

/** The accepted outcome's descriptor code: the only outcome rhea means to batch. */
const ACCEPTED = 0x24;

/**
 * rhea (3.0.5) writes the dispositions of consecutive deliveries as one frame (`first`..`last`,
 * one outcome), and means to batch only accepts. But it does not compare outcomes for the
 * second delivery of a batch: settle delivery n as accepted and n+1 as released in the same
 * tick, and both go out as accepted. So a message handed back when a flow stops was accepted
 * and lost, and a rejected bad message followed by a good one dead-lettered the good one too
 * (measured on RabbitMQ 3.10 and against a rhea peer).
 *
 * guardDispositions makes `session`'s incoming side write each run of deliveries that may share
 * a frame (consecutive accepts, settled alike) in a pass of its own, so rhea never merges two
 * different outcomes. Runs of accepts still go out as one frame. Throws if rhea's internals are
 * not what this relies on, rather than letting the merge come back unnoticed after an upgrade.
 */
export function guardDispositions(session: Session): void {
  const incoming = (session as unknown as { incoming?: RheaIncoming }).incoming;
  if (!incoming || !Array.isArray(incoming.updated) || typeof incoming.process !== "function") {
    throw new Error("rhea internals changed: cannot guard the session's dispositions (see disposition-guard.ts)");
  }
  const original = incoming.process;
  incoming.process = function (this: RheaIncoming, s: unknown) {
    const all = this.updated;
    let start = 0;
    for (let i = 1; i < all.length; i++) {
      if (sameFrame(all[i - 1], all[i])) continue;
      this.updated = all.slice(start, i);
      original.call(this, s);
      start = i;
    }
    this.updated = start === 0 ? all : all.slice(start);
    original.call(this, s);
  };
}

function sameFrame(a: RheaDelivery, b: RheaDelivery): boolean {
  return a.settled === b.settled && a.state?.descriptor?.value === ACCEPTED && b.state?.descriptor?.value === ACCEPTED;
}
