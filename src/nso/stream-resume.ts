import { createHash } from "node:crypto";
import { asText } from "../core/describe";
import { isAtom, isTuple, Term, Tuple } from "./term/types";
import { NOTIF_BITS } from "./constants";
import { datetimeMicros, datetimeTerm, readDatetime } from "./datetime";
import type { StreamSubscription } from "./subscription";

/**
 * What a resume point belongs to: another stream (or other replay settings) makes the old
 * resume point meaningless. Undefined without a stream.
 */
export function resumeKey(stream: StreamSubscription | undefined): string | undefined {
  return stream
    ? JSON.stringify([stream.name, stream.xpathFilter ?? "", asText(stream.startTime ?? ""), asText(stream.stopTime ?? ""), stream.usid ?? 0])
    : undefined;
}

/** A subscription's start time as the datetime term it was (or will be) sent as. */
export function startTerm(t: Date | string | Tuple): Tuple {
  return t instanceof Tuple ? t : datetimeTerm(t);
}

/**
 * Closes the gap a reconnect leaves in a stream subscription: remembers the EventTime of
 * the last stream event delivered, resubscribes with it as the replay start, and drops
 * what the replay sends again. NSO replays from the start time inclusive, so the events
 * carrying exactly the last time come back; those seen before (same bytes) are duplicates.
 * Before the first event the resume starts where the subscription itself started (the user's
 * start time, or when it was first requested): a window with no event yet is still a window.
 */
export class StreamResume {
  private lastTime: Tuple | undefined;
  /** Where the first accepted subscription of this stream started. */
  private origin: Tuple | undefined;
  private lastMicros = Number.NEGATIVE_INFINITY;
  private readonly seenAtLast = new Set<string>();
  /** True from a resumed subscription until its replay_complete. */
  private replaying = false;
  /**
   * The replay_complete / notification_complete of the replay the user asked for has been
   * delivered: a resume's own repeats them, and the flow must see each only once.
   */
  private userReplayCompleted = false;
  private userStreamCompleted = false;

  /** The replay start for the next subscription; undefined until a subscription was accepted. */
  get resumeFrom(): Tuple | undefined {
    return this.lastTime ?? this.origin;
  }

  /** NSO accepted a subscription that started at `from`; only the first one counts. */
  accepted(from: Tuple): void {
    this.origin ??= from;
  }

  /** The next subscription uses `resumeFrom` (or not); resets the replay window. */
  subscribed(resumed: boolean): void {
    this.replaying = resumed;
  }

  /** A resumed subscription's replay is still under way (its replay_complete has not come). */
  get resuming(): boolean {
    return this.replaying;
  }

  /** Forget everything (the user changed the stream settings). */
  reset(): void {
    this.lastTime = undefined;
    this.origin = undefined;
    this.lastMicros = Number.NEGATIVE_INFINITY;
    this.seenAtLast.clear();
    this.replaying = false;
    this.userReplayCompleted = false;
    this.userStreamCompleted = false;
  }

  /**
   * What to do with a raw stream term: "deliver", "duplicate" (already delivered before the
   * reconnect: an event, or the notification_complete of the user's stop time) or
   * "resume-complete" (the replay_complete that ends our own resume replay; the user sees one
   * replay_complete per replay they asked for, and the gap message tells of the resume).
   */
  classify(raw: Term, frame: Uint8Array, userAskedReplay: boolean): "deliver" | "duplicate" | "resume-complete" {
    if (!isTuple(raw, 2) || raw.get(0) !== NOTIF_BITS.NOTIF_STREAM_EVENT) return "deliver";
    const body = raw.get(1);
    if (isAtom(body, "replay_complete")) {
      const resumed = this.replaying;
      this.replaying = false;
      // The first one after a start time the user set is theirs, even when a resume (a
      // connection lost before their replay was over) is what brought it.
      if (userAskedReplay && !this.userReplayCompleted) {
        this.userReplayCompleted = true;
        return "deliver";
      }
      return resumed ? "resume-complete" : "deliver";
    }
    if (isAtom(body, "notification_complete")) {
      // NSO sends it again after each resume that reaches the stop time: the flow had it.
      if (this.userStreamCompleted) return "duplicate";
      this.userStreamCompleted = true;
      return "deliver";
    }
    if (!isTuple(body, 2)) return "deliver";
    const timeTerm = body.get(0);
    if (!isTuple(timeTerm)) return "deliver";
    const micros = datetimeMicros(readDatetime(timeTerm));
    const digest = createHash("sha1").update(frame).digest("base64");
    if (this.replaying && micros < this.lastMicros) return "duplicate";
    if (micros === this.lastMicros) {
      if (this.seenAtLast.has(digest)) return "duplicate";
    } else if (micros > this.lastMicros) {
      this.seenAtLast.clear();
      this.lastMicros = micros;
      this.lastTime = timeTerm;
    }
    // Out-of-order older events outside a replay are delivered but do not move the mark back.
    if (micros === this.lastMicros) {
      this.seenAtLast.add(digest);
      // Bounded: many events in one microsecond are possible but not thousands.
      if (this.seenAtLast.size > 10_000) this.seenAtLast.clear();
    }
    return "deliver";
  }
}
