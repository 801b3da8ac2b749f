import type * as net from "node:net";
import type { PauseGate } from "../core/pause-gate";
import type { ByteReader } from "./framing";

/** Frames handed out per event-loop turn before yielding (the users' windows decide in between). */
export const FRAMES_PER_TURN = 64;
/** What one socket read brings at most (libuv's read buffer): a shorter read emptied the kernel buffer. */
const FULL_READ = 64 * 1024;

/**
 * The flow-control side of reading one notification socket. The socket is paused while the
 * gate is held or frames wait in our buffer (so the kernel buffers fill and NSO's writer
 * blocks); at most FRAMES_PER_TURN frames are handed out per event-loop turn, the rest on the
 * next turn, so a user's window can close the gate between two slices. It also tells when we
 * have caught up with NSO (for NsoClient.heardUpTo).
 */
export class PacedReading {
  /** Frames handed out since the last yield. */
  private turn = 0;
  private continueScheduled = false;
  private socketPaused = false;
  /** The last read was short (the kernel buffer was empty after it): we are not behind NSO. */
  private drained = true;

  constructor(
    private readonly socket: net.Socket,
    private readonly reader: ByteReader,
    private readonly gate: PauseGate,
    /** Notifications flow (the handshake and the subscription reply are never held back). */
    private readonly flowing: () => boolean,
    /** Hand out what waits in the buffer (the client's pump). */
    private readonly pump: () => void,
  ) {}

  /** Pause or resume the socket to match the gate and what waits in our buffer. */
  sync(): void {
    const hold = this.flowing() && (this.gate.paused || this.reader.hasFrame());
    if (hold === this.socketPaused || this.socket.destroyed) return;
    this.socketPaused = hold;
    if (hold) this.socket.pause();
    else this.socket.resume();
  }

  /** Hand out what waits in our buffer (on the next turn). */
  continue(): void {
    if (this.continueScheduled) return;
    this.continueScheduled = true;
    setImmediate(() => {
      this.continueScheduled = false;
      this.turn = 0;
      this.pump();
    });
  }

  /** Frames wait unread: in our buffer, or in the socket's since we paused it. */
  unread(): boolean {
    return this.reader.hasFrame() || this.socket.readableLength > 0;
  }

  /** A chunk read from the socket goes into the buffer (the caller pumps). */
  received(chunk: Buffer): void {
    this.drained = chunk.length < FULL_READ && this.socket.readableLength === 0;
    this.reader.push(chunk);
  }

  /** Whether this turn may hand out one more frame; if not, the rest follows on the next turn. */
  mayHandOut(): boolean {
    if (this.turn < FRAMES_PER_TURN) return true;
    // Yield: the users' windows run first and may close the gate.
    this.continue();
    return false;
  }

  /** A frame (delivered or dropped) was handed out in this turn. */
  handedOut(): void {
    this.turn++;
  }

  /** Caught up with NSO: nothing waits in our buffer or the socket's, and the last read emptied the kernel's. */
  caughtUp(): boolean {
    return this.drained && !this.socketPaused && !this.reader.hasFrame() && this.socket.readableLength === 0;
  }
}
