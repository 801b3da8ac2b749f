import { ProtocolError } from "../core/errors";

/**
 * `<<Length:32/big, Payload:Length/bytes>>` framing after the handshake (§3). The reader
 * accumulates socket chunks and hands out whole payloads. A frame above `maxFrameSize` is
 * reported once and then skipped byte by byte as it streams in, never buffered: the
 * length prefix still tells us where the next frame starts, so the connection survives.
 */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

export function encodeFrame(payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(4 + payload.length);
  b.writeUInt32BE(payload.length, 0);
  b.set(payload, 4);
  return b;
}

export class FrameTooLarge extends ProtocolError {
  constructor(length: number, max: number) {
    super("nso-frame-too-large", `frame of ${length} bytes exceeds the maximum frame size of ${max} bytes; skipped`, { length, max });
    this.name = "FrameTooLarge";
  }
}

/** Reads exact-length prefixes (the handshake) and then length-prefixed frames. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private skipRemaining = 0;

  constructor(readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {
    if (!(maxFrameSize > 0)) throw new RangeError("maxFrameSize must be positive");
  }

  /** Bytes buffered and not yet handed out. */
  get pending(): number {
    return this.buffered;
  }

  /** True while the rest of an oversize frame is being discarded. */
  get skipping(): boolean {
    return this.skipRemaining > 0;
  }

  push(chunk: Buffer): void {
    if (this.skipRemaining > 0) {
      const n = Math.min(this.skipRemaining, chunk.length);
      this.skipRemaining -= n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Take exactly n bytes if available. */
  take(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }

  private peekLength(): number | undefined {
    if (this.buffered < 4) return undefined;
    const first = this.chunks[0];
    if (first.length >= 4) return first.readUInt32BE(0);
    return Buffer.concat(this.chunks, this.buffered).readUInt32BE(0);
  }

  /**
   * True when `nextFrame()` would hand out (or report) a frame without more bytes: frames
   * already read from the socket but not yet handed out (flow control stops between frames).
   */
  hasFrame(): boolean {
    if (this.skipRemaining > 0) return false;
    const len = this.peekLength();
    if (len === undefined) return false;
    return len > this.maxFrameSize || this.buffered >= 4 + len;
  }

  /**
   * The next whole frame's payload, or undefined when incomplete. Throws FrameTooLarge
   * once per oversize frame, after arranging for its bytes to be discarded.
   */
  nextFrame(): Buffer | undefined {
    if (this.skipRemaining > 0) return undefined;
    const len = this.peekLength();
    if (len === undefined) return undefined;
    if (len > this.maxFrameSize) {
      this.take(4);
      const now = Math.min(len, this.buffered);
      this.take(now);
      this.skipRemaining = len - now;
      throw new FrameTooLarge(len, this.maxFrameSize);
    }
    if (this.buffered < 4 + len) return undefined;
    this.take(4);
    return this.take(len);
  }
}
