/**
 * One cell of bench/flow-control.ts, run in a child process of its own (started with a heap cap
 * and --expose-gc): an embedded Node-RED 4.1 with the channel's input node -> a delay node in
 * rate-limit mode or a busy function node -> fc-sink. The parent runs the sender (simulator or
 * RabbitMQ queue); this process measures itself and reports a sample every 200 ms over IPC.
 */
import { createHistogram, performance } from "node:perf_hooks";
import { join } from "node:path";
import { startEmbeddedRed, EmbeddedRed } from "./embedded-red";
import type { CellSample, CellSpec, FromCell, SinkProbe, ToCell } from "./flow-protocol";
import { HealthRegistry } from "../../src/nodes/lib/health";
import type { NodeMessage } from "../../src/nodes/lib/red";

const SAMPLE_MS = 200;
const GC_EVERY = 25; // samples: a forced full GC every 5 s
const RESOLUTION_MS = 10;

const send = (m: FromCell): void => void process.send?.(m);
const gc = (globalThis as { gc?: () => void }).gc;

/** The sequence number each channel's events carry (set by the parent's sender). */
function seqOf(channel: CellSpec["channel"]): (m: NodeMessage) => number | undefined {
  const num = (v: unknown): number | undefined => {
    const n = Number(v);
    return Number.isInteger(n) ? n : undefined;
  };
  switch (channel) {
    case "nso":
      return (m) => {
        const text = (m.payload as { msg?: unknown }).msg;
        return typeof text === "string" ? num(text.split(" ")[0]) : undefined;
      };
    case "apic":
      return (m) => {
        const d = (m.payload as { descr?: unknown }).descr;
        return typeof d === "string" && d.startsWith("change ") ? num(d.slice(7)) : undefined;
      };
    case "sysadm":
      return (m) => {
        const p = (m.payload as { process_id?: unknown }).process_id;
        return typeof p === "string" && p.startsWith("p") ? num(p.slice(1)) : undefined;
      };
    case "amqp":
      return (m) => num((m.payload as { CallerId?: unknown }).CallerId);
  }
}

const at = { z: "t1", x: 0, y: 0 };

/** The flow: config node, input node (window per mode), the slow part, the sink. */
function flows(s: CellSpec): { flows: unknown[]; credentials: Record<string, Record<string, string>>; types: string[] } {
  const window = s.mode === "off" ? 0 : s.window;
  const overflow = s.mode === "drop-oldest" ? "drop-oldest" : "hold";
  const slow =
    s.flow === "delay"
      ? { id: "slow", type: "delay", pauseType: "rate", rate: String(s.rate), nbRateUnits: "1", rateUnits: "second", drop: false }
      : {
          id: "slow",
          type: "function",
          // 1 ms of synchronous work per message (a sub-millisecond clock: Date.now() would make it 0-1 ms).
          func: "const p = global.get('performance'); const end = p.now() + 1; while (p.now() < end) {} return msg;",
          outputs: 1,
        };
  const tail = [
    { ...slow, ...at, wires: [["sink"]] },
    { id: "sink", type: "fc-sink", ...at, wires: [] },
  ];
  const input = { id: "ev", ...at, routing: "single", outputs: 1, wires: [["slow"]] };
  switch (s.channel) {
    case "nso":
      return {
        types: ["nso-server", "nso-events"],
        credentials: {},
        flows: [
          { id: "t1", type: "tab" },
          { id: "cfg", type: "nso-server", host: "127.0.0.1", port: s.peer.port, heartbeat: 10, overflow },
          { ...input, type: "nso-events", server: "cfg", notifications: ["NOTIF_AUDIT"], window },
          ...tail,
        ],
      };
    case "apic":
      return {
        types: ["apic-controller", "apic-events"],
        credentials: { cfg: { username: "admin", password: "demo-password" } },
        flows: [
          { id: "t1", type: "tab" },
          { id: "cfg", type: "apic-controller", hosts: s.peer.url, domain: "", tls: "", refreshTimeout: "", pingInterval: 30, maxFrameSize: 4096, overflow },
          { ...input, type: "apic-events", controller: "cfg", classes: "", window, subscriptions: [{ kind: "dn", target: "uni/tn-flood", options: "" }] },
          ...tail,
        ],
      };
    case "sysadm":
      return {
        types: ["sysadm-server", "sysadm-events"],
        credentials: { cfg: { username: "demo", password: "demo-password" } },
        flows: [
          { id: "t1", type: "tab" },
          { id: "cfg", type: "sysadm-server", url: s.peer.url, keepalive: 90, maxFrameKB: 1024, overflow },
          { ...input, type: "sysadm-events", server: "cfg", events: "dispatcher", window },
          ...tail,
        ],
      };
    case "amqp": {
      const address = `/queue/${s.peer.queue!}`;
      const node =
        s.mode === "off"
          ? { ...input, type: "fc-amqp-old", broker: "cfg", address, credit: s.window }
          : { ...input, type: "amqp1-events", broker: "cfg", address, format: "xml-event", events: "", ack: "auto", credit: s.window };
      return {
        types: ["amqp1-broker", "amqp1-events"],
        credentials: { cfg: { username: "guest", password: "guest" } },
        flows: [
          { id: "t1", type: "tab" },
          { id: "cfg", type: "amqp1-broker", urls: "amqp://127.0.0.1:5672", vhost: "/", sasl: "plain", tls: "", containerId: "", idleTimeout: 60 },
          node,
          ...tail,
        ],
      };
    }
  }
}

const BENCH_NODES = {
  name: "fc-bench-nodes",
  js: `module.exports = require(${JSON.stringify(join(__dirname, "flow-nodes.ts"))});\n`,
  html: `<script type="text/javascript">RED.nodes.registerType('fc-sink',{category:'function',defaults:{},inputs:1,outputs:0});RED.nodes.registerType('fc-amqp-old',{category:'function',defaults:{broker:{value:'',type:'amqp1-broker'},address:{value:''},credit:{value:100}},inputs:0,outputs:1});</script>`,
};

class Cell {
  private red: EmbeddedRed | undefined;
  /** Event-loop delay in µs: how late a 10 ms timer fires (what monitorEventLoopDelay measures). */
  private readonly lag = createHistogram();
  private lagTimer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  /** The forced GC below is the bench's, not the flow's: the tick that waited for it is not counted. */
  private skipTick = false;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private ticks = 0;
  private heapPeak = 0;
  private liveHeap = 0;
  private liveHeapPeak = 0;
  private rssPeak = 0;
  private lostConnection = 0;
  private lastState = "";
  private readonly probe: SinkProbe;

  constructor(private readonly spec: CellSpec) {
    this.probe = { seqOf: seqOf(spec.channel), delivered: 0, next: 0, missing: 0, duplicates: 0, gapDropped: 0, gapOther: 0 };
    (globalThis as { __fcProbe?: SinkProbe }).__fcProbe = this.probe;
  }

  async start(): Promise<void> {
    const f = flows(this.spec);
    this.red = await startEmbeddedRed({
      prefix: "fc-bench",
      types: f.types,
      bench: BENCH_NODES,
      flows: f.flows,
      credentials: f.credentials,
      settings: { logging: { console: { level: "error" } }, functionGlobalContext: { performance } },
    });
    send({ ready: true });
  }

  go(): void {
    this.t0 = performance.now();
    this.lastTick = performance.now();
    this.lagTimer = setTimeout(this.tick, RESOLUTION_MS);
    this.timer = setInterval(() => send({ sample: this.sample() }), SAMPLE_MS);
  }

  private readonly tick = (): void => {
    const now = performance.now();
    if (!this.skipTick) this.lag.record(Math.max(1, Math.round((now - this.lastTick - RESOLUTION_MS) * 1000)));
    this.skipTick = false;
    this.lastTick = now;
    this.lagTimer = setTimeout(this.tick, RESOLUTION_MS);
  };

  /** The final figures: after a last full GC, so `liveHeap` is the heap the run left behind. */
  finish(): CellSample {
    if (this.timer) clearInterval(this.timer);
    if (this.lagTimer) clearTimeout(this.lagTimer);
    return this.sample(true);
  }

  async exit(): Promise<void> {
    await Promise.race([this.red?.stop(), new Promise((r) => setTimeout(r, 8000))]);
    process.exit(0);
  }

  private sample(forceGc = false): CellSample {
    this.ticks++;
    let mem = process.memoryUsage();
    this.heapPeak = Math.max(this.heapPeak, mem.heapUsed);
    this.rssPeak = Math.max(this.rssPeak, mem.rss);
    if (gc && (forceGc || this.ticks % GC_EVERY === 0)) {
      gc();
      this.skipTick = true;
      mem = process.memoryUsage();
      this.liveHeap = mem.heapUsed;
      this.liveHeapPeak = Math.max(this.liveHeapPeak, mem.heapUsed);
    }
    const RED = this.red?.RED;
    const card = RED ? HealthRegistry.of(RED).report().connections[0] : undefined;
    const state = card?.state ?? "none";
    if (this.lastState === "connected" && state !== "connected") this.lostConnection++;
    this.lastState = state;
    const ev = RED?.nodes.getNode("ev") as { flowStats?: () => { dropped: number; queued: number; inFlight: number; paused: boolean } } | null;
    const w = ev?.flowStats?.();
    const delay = RED?.nodes.getNode("slow") as { buffer?: unknown[] } | null;
    const ms = (us: number) => us / 1000;
    const p = this.probe;
    return {
      t: (performance.now() - this.t0) / 1000,
      heapUsed: mem.heapUsed,
      heapPeak: this.heapPeak,
      liveHeap: this.liveHeap,
      liveHeapPeak: this.liveHeapPeak,
      rssPeak: this.rssPeak,
      lagP99: this.lag.count > 0 ? ms(this.lag.percentile(99)) : 0,
      lagMax: this.lag.count > 0 ? ms(this.lag.max) : 0,
      delivered: p.delivered,
      missing: p.missing,
      duplicates: p.duplicates,
      gapDropped: p.gapDropped,
      gapOther: p.gapOther,
      windowDropped: w?.dropped ?? 0,
      queued: w?.queued ?? 0,
      inFlight: w?.inFlight ?? 0,
      paused: w?.paused ?? false,
      delayQueue: delay?.buffer?.length ?? 0,
      reconnects: card?.reconnects ?? 0,
      announced: card?.drops.byKind["flow-behind"] ?? 0,
      state,
      lostConnection: this.lostConnection,
    };
  }
}

let cell: Cell | undefined;
process.on("message", (m: ToCell) => {
  void (async () => {
    try {
      if ("spec" in m) {
        cell = new Cell(m.spec);
        await cell.start();
      } else if ("start" in m) cell?.go();
      else if ("stop" in m && cell) send({ final: cell.finish() });
      else if ("exit" in m) await (cell?.exit() ?? process.exit(0));
    } catch (e) {
      send({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  })();
});
// The parent went away: do not linger.
process.on("disconnect", () => process.exit(0));
