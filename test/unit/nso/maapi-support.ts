/**
 * Test helpers for the MAAPI tests: the reader of nso-maapi-frames.txt (7 fields per line:
 * STEP | DIR | CONN | CLIENT | PHASE | T_MS | HEX, then an optional '#    ' line), and a
 * replay server that plays NSO's side of one captured MAAPI conversation and records what
 * the client sends, so our client's bytes can be compared with the real ones.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export const MAAPI_FRAMES_FILE = path.resolve(__dirname, "../../fixtures/nso/nso-maapi-frames.txt");

export interface MaapiFrame {
  line: number;
  step: string;
  dir: "in" | "out";
  conn: string;
  client: string;
  phase: string;
  /** Exact bytes; null for a socket close ('-'). */
  bytes: Buffer | null;
  /** True when the file cut the payload (> 512 bytes). */
  truncated: boolean;
  comment: string | null;
}

export function readMaapiFrames(file = MAAPI_FRAMES_FILE): MaapiFrame[] {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const out: MaapiFrame[] = [];
  for (let n = 0; n < lines.length; n++) {
    const l = lines[n];
    if (l === "" || l.startsWith("#")) continue;
    const parts = l.split(" | ");
    if (parts.length !== 7) throw new Error(`maapi frames line ${n + 1}: expected 7 fields, got ${parts.length}`);
    const [step, dir, conn, client, phase, , hexField] = parts;
    if (dir !== "in" && dir !== "out") throw new Error(`line ${n + 1}: bad direction`);
    const truncated = hexField.includes("...(truncated");
    const hex = truncated ? hexField.slice(0, hexField.indexOf("...")) : hexField;
    if (hex !== "-" && !/^([0-9a-f]{2})+$/.test(hex)) throw new Error(`line ${n + 1}: bad hex`);
    const next = lines[n + 1] ?? "";
    out.push({
      line: n + 1,
      step,
      dir,
      conn,
      client,
      phase,
      bytes: hex === "-" ? null : Buffer.from(hex, "hex"),
      truncated,
      comment: next.startsWith("#    ") ? next.slice(5) : null,
    });
  }
  return out;
}

/** The frames of one phase and MAAPI connection, in capture order, socket closes dropped. */
export function conversation(frames: MaapiFrame[], phase: string, conn: string): MaapiFrame[] {
  return frames.filter((f) => f.phase === phase && f.conn === conn && f.bytes !== null);
}

/**
 * Serves one captured conversation: waits for each client message (9-byte header first, then
 * length-framed), records it, and answers with the captured server frames that followed it.
 * `received` holds what our client sent, to compare with the capture.
 */
export class ReplayServer {
  readonly received: Buffer[] = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly conv: MaapiFrame[]) {}

  async listen(): Promise<number> {
    this.server = net.createServer((s) => this.serve(s));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    return (this.server.address() as net.AddressInfo).port;
  }

  private serve(s: net.Socket): void {
    this.sockets.add(s);
    // NSO answers with several small frames in a row; Nagle would add delayed-ACK stalls.
    s.setNoDelay(true);
    s.on("error", () => s.destroy());
    let buf = Buffer.alloc(0);
    let i = 0;
    const answer = (): void => {
      while (i < this.conv.length && this.conv[i].dir === "in") s.write(this.conv[i++].bytes!);
    };
    s.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (i >= this.conv.length) return;
        const want = this.conv[i];
        let len: number;
        if (want.step === "HANDSHAKE_HEADER") len = 9;
        else if (buf.length >= 4) len = 4 + buf.readUInt32BE(0);
        else return;
        if (buf.length < len) return;
        this.received.push(buf.subarray(0, len));
        buf = buf.subarray(len);
        i++;
        answer();
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
  }
}
