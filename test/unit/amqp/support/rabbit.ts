import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The RabbitMQ 3.10 the setup provides (AMQP 1.0 plugin enabled). */
export const RABBIT = { host: "127.0.0.1", port: 5672, username: "guest", password: "guest" };
export const RABBIT_URL = `amqp://${RABBIT.host}:${RABBIT.port}`;

/** A unique name part per test run, so parallel runs and leftovers never collide. */
export function uniq(prefix = "ietest"): string {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}

async function ctl(...args: string[]): Promise<string> {
  const { stdout } = await run("rabbitmqctl", ["-q", ...args], { timeout: 30000 });
  return stdout;
}

export async function listQueues(): Promise<Array<{ name: string; consumers: number; messages: number }>> {
  const out = await ctl("list_queues", "--no-table-headers", "name", "consumers", "messages");
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 3)
    .map(([name, c, m]) => ({ name, consumers: Number(c), messages: Number(m) }));
}

export async function deleteQueue(name: string): Promise<void> {
  await ctl("delete_queue", name).catch(() => undefined);
}

/** Delete queues of vhost "/" in one rabbitmqctl call (each call costs ~0.4 s of Erlang start-up). */
export async function deleteQueues(names: string[]): Promise<void> {
  const safe = names.filter((n) => /^[\w.-]+$/.test(n));
  if (safe.length === 0) return;
  const list = safe.map((n) => `<<"${n}">>`).join(",");
  await ctl(
    "eval",
    `[case rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, N)) of {ok, Q} -> rabbit_amqqueue:delete(Q, false, false, <<"infra-events tests">>); _ -> missing end || N <- [${list}]].`,
  );
}

/**
 * RabbitMQ 3.10 leaves the server-named queue behind every `/exchange/…` subscription (it is
 * neither exclusive nor auto-delete). Tests snapshot the queues first and delete the new
 * `amq.gen-` ones without consumers afterwards, plus the named queues they declared.
 */
export async function cleanupNewQueues(before: Set<string>, also: string[] = []): Promise<void> {
  const now = await listQueues();
  const doomed = now.filter((q) => (q.name.startsWith("amq.gen-") && !before.has(q.name) && q.consumers === 0) || also.includes(q.name)).map((q) => q.name);
  await deleteQueues(doomed);
}

export async function queueNames(): Promise<Set<string>> {
  return new Set((await listQueues()).map((q) => q.name));
}

/** Stop and start the broker application (the node stays up): ~2 s here. */
export async function restartBroker(): Promise<void> {
  await ctl("stop_app");
  await ctl("start_app");
}

/**
 * A TCP relay in front of the broker on port 0, so a test can cut the connection the way a
 * network fault or `rabbitmqctl close_connection` would (3.10's list_connections does not show
 * AMQP 1.0 connections, so there is no connection id to close them by).
 */
export class CuttableRelay {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  readonly server: net.Server;
  accepted = 0;
  /** While true, new connections are closed at once (the broker is "down"). */
  refusing = false;

  private constructor(server: net.Server) {
    this.server = server;
  }

  static async start(target = RABBIT): Promise<CuttableRelay> {
    const server = net.createServer();
    const relay = new CuttableRelay(server);
    server.on("connection", (client) => {
      if (relay.refusing) {
        client.destroy();
        return;
      }
      relay.accepted++;
      const upstream = net.connect(target.port, target.host);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      relay.pairs.add(pair);
      const end = () => {
        client.destroy();
        upstream.destroy();
        relay.pairs.delete(pair);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return relay;
  }

  get url(): string {
    return `amqp://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  get open(): number {
    return this.pairs.size;
  }

  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
