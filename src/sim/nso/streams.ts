import type { Term, Tuple } from "../../nso/term/types";
import { datetimeMicros, readDatetime } from "../../nso/datetime";

/**
 * The simulator's notification streams: which exist, which keep a replay log, and the log
 * itself (bounded). Replay sends every logged event with start <= time (<= stop), as NSO
 * does for streams with replay support.
 */
export interface StreamConfig {
  name: string;
  replay: boolean;
  /** Most events kept for replay (oldest dropped first). */
  maxLog?: number;
}

export interface LoggedEvent {
  micros: number;
  time: Tuple;
  values: Term[];
}

export class StreamStore {
  private readonly streams = new Map<string, { cfg: StreamConfig; log: LoggedEvent[] }>();

  constructor(configs: StreamConfig[]) {
    for (const c of configs) this.streams.set(c.name, { cfg: c, log: [] });
  }

  has(name: string): boolean {
    return this.streams.has(name);
  }

  hasReplay(name: string): boolean {
    return this.streams.get(name)?.cfg.replay ?? false;
  }

  names(): string[] {
    return [...this.streams.keys()];
  }

  record(name: string, time: Tuple, values: Term[]): LoggedEvent {
    const s = this.streams.get(name);
    if (!s) throw new RangeError(`unknown stream ${name}`);
    const e = { micros: datetimeMicros(readDatetime(time)), time, values };
    if (s.cfg.replay) {
      s.log.push(e);
      const max = s.cfg.maxLog ?? 10000;
      if (s.log.length > max) s.log.splice(0, s.log.length - max);
    }
    return e;
  }

  /** Logged events in [start, stop] (stop optional), oldest first. */
  replay(name: string, startMicros: number, stopMicros?: number): LoggedEvent[] {
    const s = this.streams.get(name);
    if (!s) return [];
    return s.log.filter((e) => e.micros >= startMicros && (stopMicros === undefined || e.micros <= stopMicros));
  }
}
