import { randomBytes, timingSafeEqual } from "node:crypto";
import type * as net from "node:net";
import {
  ACCESS_CHALLENGE_TAG,
  ACCESS_OK,
  ACCESS_RESPONSE_TAG,
  ACCESS_WRONG_SECRET,
  DEFAULT_LIB_PROTO_VSN,
  DEFAULT_LIB_VSN,
  VSN_MODEL_TOO_SMALL,
  VSN_OK,
  VSN_PROTO_INCOMPATIBLE,
} from "../../nso/constants";
import { ByteReader } from "../../nso/framing";
import { accessResponse, challengeLength, encodeVersionReply, parseHeader, ParsedHeader } from "../../nso/handshake";

/**
 * The server side of the NSO IPC handshake (docs/nso.md), shared by
 * the notification simulator and its MAAPI side because NSO applies the same rules to every
 * client id on its IPC port: 9-byte header, optional IPC access check (challenge/response
 * with the shared secret), then a version reply after the compatibility-list and model-size
 * checks. What happens after a successful handshake belongs to each server.
 */
export interface SimHandshakeOptions {
  protoVsn?: number;
  libVsn?: number;
  /** Proto versions accepted besides our own (6.2.5: [81]). */
  compatProtoVsns?: number[];
  /** Model sizes the server needs (6.2.5 demo: 14/5); 0/0 from the client skips the check. */
  maxDepth?: number;
  maxKeyLen?: number;
  /** IPC access check: configured when a secret is given. */
  secret?: Buffer;
}

/** The options with NSO 6.2.5's defaults filled in. */
export function handshakeSettings(o: SimHandshakeOptions): Required<Omit<SimHandshakeOptions, "secret">> & { secret?: Buffer } {
  return {
    protoVsn: o.protoVsn ?? DEFAULT_LIB_PROTO_VSN,
    libVsn: o.libVsn ?? DEFAULT_LIB_VSN,
    compatProtoVsns: o.compatProtoVsns ?? [81],
    maxDepth: o.maxDepth ?? 14,
    maxKeyLen: o.maxKeyLen ?? 5,
    secret: o.secret,
  };
}

export interface ServerHandshakeConfig extends ReturnType<typeof handshakeSettings> {
  /** The client id this server serves. */
  clientId: number;
  /**
   * Called with a header of another client id and its raw 9 bytes; returns true when the
   * socket was handed to another server. Otherwise the client id is refused.
   */
  handOver?: (header: ParsedHeader, raw: Buffer) => boolean;
}

export type ServerHandshakeResult =
  /** More bytes are needed. */
  | { kind: "pending" }
  /** The socket now belongs to another server (see `handOver`). */
  | { kind: "handed-over" }
  /** Refuse the client: end the socket with `bytes`, or destroy it when there are none. */
  | { kind: "rejected"; reason: string; bytes?: Buffer }
  /** The version reply VSN_OK has been written; frames follow. */
  | { kind: "done"; header: ParsedHeader };

export class ServerHandshake {
  private phase: "header" | "access" | "done" = "header";
  private header: ParsedHeader | undefined;
  private challenge: Buffer | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly reader: ByteReader,
    private readonly cfg: ServerHandshakeConfig,
  ) {}

  get done(): boolean {
    return this.phase === "done";
  }

  /** Advance with what the reader holds. Throws on bytes that are not a header. */
  step(): ServerHandshakeResult {
    if (this.phase === "header") {
      const b = this.reader.take(9);
      if (!b) return { kind: "pending" };
      const header = parseHeader(b);
      this.header = header;
      if (header.clientId !== this.cfg.clientId) {
        if (this.cfg.handOver?.(header, b)) return { kind: "handed-over" };
        return { kind: "rejected", reason: `unknown client id ${header.clientId}` };
      }
      const wants = (b[0] & 0x80) !== 0;
      if (wants && !this.cfg.secret) return { kind: "rejected", reason: "Access check was requested but is not configured" };
      if (!wants && this.cfg.secret) return { kind: "rejected", reason: "Access check is configured but was not requested" };
      if (!wants) return this.versionCheck(header);
      this.challenge = randomBytes(challengeLength(accessKind(header)));
      this.socket.write(Buffer.concat([Buffer.from([ACCESS_CHALLENGE_TAG]), this.challenge]));
      this.phase = "access";
    }
    if (this.phase === "access") {
      const header = this.header!;
      const kind = accessKind(header);
      const b = this.reader.take(1 + challengeLength(kind));
      if (!b) return { kind: "pending" };
      const expect = accessResponse(kind, this.cfg.secret!, this.challenge!);
      if (b[0] !== ACCESS_RESPONSE_TAG || !timingSafeEqual(b, expect))
        return { kind: "rejected", reason: "Wrong secret used", bytes: Buffer.from([ACCESS_WRONG_SECRET]) };
      this.socket.write(Buffer.from([ACCESS_OK]));
      return this.versionCheck(header);
    }
    throw new Error("handshake already done");
  }

  private versionCheck(h: ParsedHeader): ServerHandshakeResult {
    const c = this.cfg;
    const reply = (code: number): Buffer => encodeVersionReply({ code, protoVsn: c.protoVsn, libVsn: c.libVsn, maxDepth: c.maxDepth, maxKeyLen: c.maxKeyLen });
    const compat = h.protoVsn === c.protoVsn || c.compatProtoVsns.includes(h.protoVsn);
    if (!compat) return { kind: "rejected", reason: `proto ${h.protoVsn} incompatible`, bytes: reply(VSN_PROTO_INCOMPATIBLE) };
    // 0/0 from the client skips the model-size check.
    const sizesOk = (h.maxDepth === 0 && h.maxKeyLen === 0) || (h.maxDepth >= c.maxDepth && h.maxKeyLen >= c.maxKeyLen);
    if (!sizesOk) return { kind: "rejected", reason: "model sizes too small", bytes: reply(VSN_MODEL_TOO_SMALL) };
    this.socket.write(reply(VSN_OK));
    this.phase = "done";
    return { kind: "done", header: h };
  }
}

/** Only asked when the header requests a check: anything but sha256 means md5 (as parseHeader reads the flags). */
function accessKind(h: ParsedHeader): "md5" | "sha256" {
  return h.accessCheck === "sha256" ? "sha256" : "md5";
}
