import { strict as assert } from "node:assert";
import { NOTIF_BITS } from "../../../src/nso/constants";
import { datetimeTerm } from "../../../src/nso/datetime";
import { encodeTerm } from "../../../src/nso/term";
import { atom, Term, tuple } from "../../../src/nso/term/types";
import { StreamResume } from "../../../src/nso/stream-resume";

/**
 * StreamResume decides which stream frames reach the flow across reconnects. The flow sees one
 * replay_complete (and one notification_complete) per replay it asked for; those that end a
 * resume the client started on its own are kept from it.
 */
const S = NOTIF_BITS.NOTIF_STREAM_EVENT;
const replayComplete = tuple(S, atom("replay_complete"));
const notificationComplete = tuple(S, atom("notification_complete"));
const event = (iso: string, v: string): Term => tuple(S, tuple(datetimeTerm(iso), [tuple(1, Buffer.from(v))]));

/** Feed `frames` in order; returns the verdicts. */
function feed(r: StreamResume, userAskedReplay: boolean, ...frames: Term[]): string[] {
  return frames.map((t) => r.classify(t, encodeTerm(t), userAskedReplay));
}

describe("nso stream resume: which completions reach the flow", () => {
  it("with a user start time, the first replay_complete is delivered and each resume's own is not", () => {
    const r = new StreamResume();
    r.subscribed(false);
    assert.deepEqual(feed(r, true, event("2026-01-01T00:00:00Z", "a"), replayComplete), ["deliver", "deliver"]);
    for (let reconnect = 0; reconnect < 2; reconnect++) {
      r.subscribed(true);
      const resumingBefore = r.resuming;
      assert.deepEqual(feed(r, true, event("2026-01-01T00:00:00Z", "a"), replayComplete), ["duplicate", "resume-complete"], `reconnect ${reconnect + 1}`);
      assert.deepEqual([resumingBefore, r.resuming], [true, false], "the resume ends with its replay_complete");
    }
  });

  it("a connection lost during the user's own replay: the resume's replay_complete is the user's, delivered once", () => {
    const r = new StreamResume();
    r.subscribed(false);
    assert.deepEqual(feed(r, true, event("2026-01-01T00:00:00Z", "a")), ["deliver"]);
    r.subscribed(true);
    assert.deepEqual(feed(r, true, event("2026-01-01T00:00:00Z", "a"), event("2026-01-01T00:00:01Z", "b"), replayComplete), [
      "duplicate",
      "deliver",
      "deliver",
    ]);
    const resumingAfter = r.resuming;
    r.subscribed(true);
    assert.deepEqual(feed(r, true, replayComplete), ["resume-complete"]);
    assert.equal(resumingAfter, false, "that replay_complete also ended the resume");
  });

  it("with a stop time, notification_complete reaches the flow once, not again after each resume", () => {
    const r = new StreamResume();
    r.subscribed(false);
    assert.deepEqual(feed(r, true, event("2026-01-01T00:00:00Z", "a"), replayComplete, notificationComplete), ["deliver", "deliver", "deliver"]);
    r.subscribed(true);
    assert.deepEqual(feed(r, true, event("2026-01-01T00:00:00Z", "a"), replayComplete, notificationComplete), ["duplicate", "resume-complete", "duplicate"]);
  });

  it("without a user start time every replay_complete ends a resume and none is delivered", () => {
    const r = new StreamResume();
    r.subscribed(false);
    r.subscribed(true);
    assert.deepEqual(feed(r, false, replayComplete), ["resume-complete"]);
  });

  it("new stream settings start over: the next replay the user asked for is announced again", () => {
    const r = new StreamResume();
    r.subscribed(false);
    assert.deepEqual(feed(r, true, replayComplete, notificationComplete), ["deliver", "deliver"]);
    r.reset();
    r.subscribed(false);
    assert.deepEqual(feed(r, true, replayComplete, notificationComplete), ["deliver", "deliver"]);
  });
});
