import * as net from "node:net";
import { InfraError, ProtocolError } from "../core/errors";
import { ACCESS_CHALLENGE_TAG, ACCESS_OK, ACCESS_WRONG_SECRET } from "./constants";
import type { ByteReader } from "./framing";
import { AccessCheck, accessResponse, challengeLength, checkVersionReply, encodeHeader, parseVersionReply, VersionReply } from "./handshake";

/**
 * The client side of NSO's IPC handshake (docs/nso.md §1–§2), one for both sockets we open:
 * the notification socket (client id 11) and MAAPI (client id 7). NSO serves every client id
 * on one IPC port with the same rules, so the only difference is the id byte. What happens
 * after the version reply belongs to each client. The server side is src/sim/nso/server-handshake.ts.
 */

/** Where NSO's IPC port is and how to talk to it: the settings both sockets share. */
export interface NsoEndpointOptions {
  host: string;
  port: number;
  /** LIB_VSN to announce: selects the term formats the server sends us (§10.1). */
  libVsn?: number;
  /** The IPC access check (challenge/response with the shared secret), if NSO has it on. */
  accessCheck?: AccessCheck;
  /** Frames above this are skipped and reported, not buffered. */
  maxFrameSize?: number;
}

/** A TCP socket to NSO's IPC port, with Nagle off: the handshake and acks are small writes. */
export function dialNso(endpoint: Pick<NsoEndpointOptions, "host" | "port">): net.Socket {
  const socket = net.connect({ host: endpoint.host, port: endpoint.port });
  socket.setNoDelay(true);
  return socket;
}

export interface ClientHandshakeOptions {
  /** The service the socket is for (see HeaderOptions.clientId). */
  clientId: number;
  protoVsn: number;
  libVsn: number;
  accessCheck: AccessCheck;
  /** The secret's bytes; required when the access check is on. */
  secret?: Buffer;
}

/** Where the handshake is: a close before "done" is reported with it. */
export type ClientHandshakePhase = "header" | "challenge" | "access-result" | "version" | "done";

/**
 * One handshake: `header()` once the socket is connected, then `step()` with every read until
 * it returns the version reply. Refusals throw: VersionRejected (version reply code 1 or 2),
 * InfraError "nso-wrong-secret", ProtocolError for bytes that are not the protocol.
 */
export class ClientHandshake {
  private current: ClientHandshakePhase = "header";

  /** Throws "nso-no-secret" when the access check is on without a secret (before any dial). */
  constructor(private readonly opts: ClientHandshakeOptions) {
    if (opts.accessCheck !== "none" && (!opts.secret || opts.secret.length === 0)) {
      throw new InfraError("nso-no-secret", "the IPC access check is on but no secret (or secret file) is configured");
    }
  }

  get phase(): ClientHandshakePhase {
    return this.current;
  }

  /** The 9-byte header to write first; the header goes out at once, challenge or not (§2). */
  header(): Buffer {
    const { clientId, protoVsn, libVsn, accessCheck } = this.opts;
    this.current = accessCheck === "none" ? "version" : "challenge";
    return encodeHeader({ protoVsn, libVsn, accessCheck, clientId });
  }

  /**
   * Advance with what `reader` holds; `write` sends the access-check response. Returns the
   * accepted version reply once it is read, undefined while bytes are missing. Bytes behind
   * the version reply stay in the reader: they are the first frames.
   */
  step(reader: ByteReader, write: (b: Buffer) => void): VersionReply | undefined {
    for (;;) {
      switch (this.current) {
        case "header":
          return undefined;
        case "challenge": {
          const kind = this.opts.accessCheck as "md5" | "sha256";
          const b = reader.take(1 + challengeLength(kind));
          if (!b) return undefined;
          if (b[0] !== ACCESS_CHALLENGE_TAG) throw new ProtocolError("nso-bad-challenge", `expected access-check challenge (byte 11), got ${b[0]}`);
          write(accessResponse(kind, this.opts.secret!, b.subarray(1)));
          this.current = "access-result";
          break;
        }
        case "access-result": {
          const b = reader.take(1);
          if (!b) return undefined;
          if (b[0] === ACCESS_WRONG_SECRET) throw new InfraError("nso-wrong-secret", "wrong secret: NSO refused the IPC access check");
          if (b[0] !== ACCESS_OK) throw new ProtocolError("nso-bad-access-result", `unexpected access-check result byte ${b[0]}`);
          this.current = "version";
          break;
        }
        case "version": {
          const b = reader.take(9);
          if (!b) return undefined;
          const r = parseVersionReply(b);
          checkVersionReply(r, this.opts.protoVsn);
          this.current = "done";
          return r;
        }
        case "done":
          throw new Error("the NSO handshake is already done");
      }
    }
  }
}
