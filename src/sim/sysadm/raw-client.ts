import WebSocket from "ws";

/**
 * A bare `ws` client with no protocol logic of ours: what the simulator's own tests use to
 * check the wire byte by byte, and the baseline the bench compares the node against.
 */
export class RawSysadmClient {
  private readonly queue: string[] = [];
  private waiter: ((s: string) => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  private seq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (d: Buffer) => {
      const s = d.toString("utf8");
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(s);
      } else this.queue.push(s);
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("error", () => undefined);
  }

  static connect(url: string, opts: WebSocket.ClientOptions = {}): Promise<RawSysadmClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { rejectUnauthorized: false, ...opts });
      const c = new RawSysadmClient(ws);
      ws.once("open", () => resolve(c));
      ws.once("error", reject);
      ws.once("close", (code) => reject(new Error(`closed during handshake (${code})`)));
    });
  }

  send(frame: string | object): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame, in arrival order. */
  next(timeoutMs = 3000): Promise<string> {
    const q = this.queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (s) => {
        clearTimeout(t);
        resolve(s);
      };
    });
  }

  async nextJson(timeoutMs?: number): Promise<Record<string, unknown>> {
    return JSON.parse(await this.next(timeoutMs)) as Record<string, unknown>;
  }

  /** Send a request and return its reply; frames in between (events) are returned too. */
  async request(namespace: string, name: string, args: unknown): Promise<{ reply: Record<string, unknown>; before: Array<Record<string, unknown>> }> {
    const id = `raw-${++this.seq}`;
    this.send({ namespace, name, id, args });
    const before: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 10_000; i++) {
      const f = await this.nextJson();
      if (f.id === id) return { reply: f, before };
      before.push(f);
    }
    throw new Error("no reply among 10000 frames");
  }

  async login(username: string, password: string): Promise<string> {
    const { reply } = await this.request("rpc", "auth", { username, password });
    const args = reply.args as unknown[];
    if (!Array.isArray(args)) throw new Error(`login failed: ${JSON.stringify(reply)}`);
    return String(args[0]);
  }

  close(): void {
    this.ws.terminate();
  }
}
