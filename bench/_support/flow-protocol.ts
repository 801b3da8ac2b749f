/**
 * What bench/flow-control.ts and its per-cell child (flow-cell.ts) say to each other over IPC.
 * One cell: one channel, one flow behind the input node, one flow-control setting.
 */
export type Channel = "nso" | "apic" | "sysadm" | "amqp";
/** `delay`: core delay node, rate limit; `busy`: a function node busy 1 ms per message. */
export type FlowKind = "delay" | "busy";
/** `off`: window 0 (no flow control, the behaviour before issue 11). */
export type Mode = "off" | "hold" | "drop-oldest";

export interface CellSpec {
  channel: Channel;
  flow: FlowKind;
  mode: Mode;
  /** The input node's window (credit for AMQP) when flow control is on. */
  window: number;
  /** msg/s of the delay node. */
  rate: number;
  /** Where the sender listens: NSO port, APIC / sysadm URL, AMQP queue name. */
  peer: { port?: number; url?: string; queue?: string };
}

export interface CellSample {
  /** Seconds since the flood started. */
  t: number;
  heapUsed: number;
  /** Peak of heapUsed sampled every 200 ms (garbage not yet collected included). */
  heapPeak: number;
  /** heapUsed right after the last forced full GC (every 5 s), and its peak: the live heap. */
  liveHeap: number;
  liveHeapPeak: number;
  rssPeak: number;
  /** Event-loop delay, ms: how late a 10 ms timer fired (the forced GCs excluded). */
  lagP99: number;
  lagMax: number;
  /** Events (sequence-numbered) that reached the end of the flow. */
  delivered: number;
  /** Sequence numbers skipped at the end of the flow, and ones seen again or out of order. */
  missing: number;
  duplicates: number;
  /** Gap messages that reached the end of the flow: their `dropped` sum, and other gaps (reconnects). */
  gapDropped: number;
  gapOther: number;
  /** The input node's window: events it dropped (drop-oldest), waiting, unfinished in the flow. */
  windowDropped: number;
  queued: number;
  inFlight: number;
  paused: boolean;
  /** Messages the delay node queues. */
  delayQueue: number;
  /** Health view of the config node's connection: reconnects, drops announced by gap messages, state. */
  reconnects: number;
  announced: number;
  state: string;
  /** Times the connection's state left "connected" (sampled). */
  lostConnection: number;
}

/** What fc-sink counts at the end of the flow (globalThis.__fcProbe in the cell). */
export interface SinkProbe {
  seqOf(msg: { topic?: string; payload?: unknown }): number | undefined;
  delivered: number;
  /** The next sequence number expected. */
  next: number;
  missing: number;
  duplicates: number;
  gapDropped: number;
  gapOther: number;
}

export type ToCell = { spec: CellSpec } | { start: true } | { stop: true } | { exit: true };
export type FromCell = { ready: true } | { sample: CellSample } | { final: CellSample } | { error: string };
