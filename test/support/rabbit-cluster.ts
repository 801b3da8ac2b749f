/**
 * A real RabbitMQ cluster on loopback for one test (issue 16): `size` rabbitmq-server nodes, each
 * with its own node name (ie-bus-<n>-<tag>@localhost), AMQP and distribution ports (free ones below
 * the ephemeral range, never 5672/25672), data and log dirs in a temp dir, one Erlang cookie (a
 * HOME of their own), the AMQP 1.0 plugin, joined with rabbitmqctl -n <node>
 * stop_app/join_cluster/start_app. Every rabbitmqctl call names its node: the machine's own broker
 * is never touched. Each node runs in its own process group, killed on stop() and at exit.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const BIN = "/usr/lib/rabbitmq/bin";

export interface ClusterNode {
  name: string;
  port: number;
  distPort: number;
  proc: ChildProcess;
}

export interface RabbitCluster {
  dir: string;
  nodes: ClusterNode[];
  /** rabbitmqctl -n <node i> … (bounded). */
  ctl(i: number, args: string[], timeoutMs?: number): Promise<string>;
  /** amqp://127.0.0.1:<port> of each node, starting with node `first`: a failover list. */
  urls(first: number): string;
  /** Stop a node for good (rabbitmqctl stop), as a crashed broker host would go. */
  stopNode(i: number): Promise<void>;
  /** Kill every node's process group and remove the temp dir. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killGroup(p: ChildProcess): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** Distinct free ports in 20000–32000 (below Linux's ephemeral range, so no client socket takes one meanwhile). */
async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < 500; tries++) {
    const p = 20000 + Math.floor(Math.random() * 12000);
    if (p === 25672 || out.includes(p)) continue;
    if (await isFree(p)) out.push(p);
  }
  if (out.length < n) throw new Error("no free ports for the RabbitMQ cluster");
  return out;
}

export async function startCluster(size = 3, startTimeoutMs = 90000): Promise<RabbitCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ie-bus-cluster-"));
  const home = path.join(dir, "home");
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(home, ".erlang.cookie"), `IEBUS${Math.random().toString(36).slice(2)}`, { mode: 0o400 });
  fs.writeFileSync(path.join(dir, "enabled_plugins"), "[rabbitmq_amqp1_0].\n");
  const tag = path
    .basename(dir)
    .replace(/[^a-zA-Z0-9]/g, "")
    .slice(-6);
  const ports = await freePorts(size * 2);
  const nodes: ClusterNode[] = [];
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const p of live) killGroup(p);
    });
  }
  for (let i = 0; i < size; i++) {
    const nd = path.join(dir, `n${i + 1}`);
    fs.mkdirSync(nd);
    const name = `ie-bus-${i + 1}-${tag}@localhost`;
    const env = {
      ...process.env,
      HOME: home,
      RABBITMQ_NODENAME: name,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(ports[2 * i]),
      RABBITMQ_DIST_PORT: String(ports[2 * i + 1]),
      RABBITMQ_MNESIA_BASE: path.join(nd, "mnesia"),
      RABBITMQ_LOG_BASE: path.join(nd, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
      RABBITMQ_PID_FILE: path.join(nd, "pid"),
      // Files that do not exist: no configuration from /etc/rabbitmq.
      RABBITMQ_CONFIG_FILE: path.join(nd, "rabbitmq"),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(nd, "advanced.config"),
      RABBITMQ_CONF_ENV_FILE: path.join(nd, "rabbitmq-env.conf"),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    };
    const out = fs.openSync(path.join(nd, "out.log"), "w");
    const proc = spawn(path.join(BIN, "rabbitmq-server"), [], { env, detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    live.add(proc);
    nodes.push({ name, port: ports[2 * i], distPort: ports[2 * i + 1], proc });
  }
  const ctl = async (i: number, args: string[], timeoutMs = 60000): Promise<string> => {
    const r = await run(path.join(BIN, "rabbitmqctl"), ["-n", nodes[i].name, ...args], { env: { ...process.env, HOME: home }, timeout: timeoutMs });
    return r.stdout;
  };
  const cluster: RabbitCluster = {
    dir,
    nodes,
    ctl,
    urls: (first) => nodes.map((_, k) => `amqp://127.0.0.1:${nodes[(first + k) % nodes.length].port}`).join(", "),
    async stopNode(i) {
      await ctl(i, ["stop"], 60000);
    },
    async stop() {
      for (const n of nodes) killGroup(n.proc);
      const running = nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
      await Promise.all(running.map((n) => new Promise((r) => n.proc.once("exit", r))));
      for (const n of nodes) live.delete(n.proc);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // await_startup gives up at once while the node has not registered with epmd yet: retried.
    const deadline = Date.now() + startTimeoutMs;
    await Promise.all(
      nodes.map(async (n, i) => {
        for (;;) {
          const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
          try {
            return await ctl(i, ["await_startup", "--timeout", String(left)], left * 1000 + 5000);
          } catch (e) {
            if (Date.now() >= deadline || n.proc.exitCode !== null) throw e;
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }),
    );
    for (let i = 1; i < size; i++) {
      await ctl(i, ["stop_app"]);
      await ctl(i, ["join_cluster", nodes[0].name]);
      await ctl(i, ["start_app"]);
    }
    const status = JSON.parse(await ctl(0, ["cluster_status", "--formatter", "json"])) as { running_nodes: string[] };
    if (status.running_nodes.length !== size) throw new Error(`cluster has ${status.running_nodes.length} running nodes, not ${size}`);
    return cluster;
  } catch (e) {
    const logs = nodes.map((n, i) => `--- ${n.name}\n${fs.readFileSync(path.join(dir, `n${i + 1}`, "out.log"), "utf8").slice(-2000)}`).join("\n");
    await cluster.stop();
    throw new Error(`the RabbitMQ cluster did not start: ${(e as Error).message}\n${logs}`, { cause: e });
  }
}

/** Declare a durable quorum queue through node `i` (its leader starts there), with queue arguments. */
export async function declareQuorumQueue(c: RabbitCluster, i: number, name: string, singleActiveConsumer = false): Promise<void> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`queue name ${name} needs quoting`);
  const sac = singleActiveConsumer ? `, {<<"x-single-active-consumer">>, bool, true}` : "";
  const out = await c.ctl(i, [
    "eval",
    `rabbit_amqqueue:declare(rabbit_misc:r(<<"/">>, queue, <<"${name}">>), true, false, [{<<"x-queue-type">>, longstr, <<"quorum">>}${sac}], none, <<"ie-bus-test">>).`,
  ]);
  if (!/^\{(new|existing),/.test(out.trim())) throw new Error(`declaring ${name}: ${out}`);
}

/** Messages ready and unacknowledged in each queue, as node `i` sees them. */
export async function queueDepths(c: RabbitCluster, i: number): Promise<Record<string, { ready: number; unacked: number }>> {
  const rows = JSON.parse(await c.ctl(i, ["list_queues", "name", "messages_ready", "messages_unacknowledged", "--formatter", "json"], 20000)) as Array<{
    name: string;
    messages_ready: number;
    messages_unacknowledged: number;
  }>;
  return Object.fromEntries(rows.map((r) => [r.name, { ready: r.messages_ready, unacked: r.messages_unacknowledged }]));
}
