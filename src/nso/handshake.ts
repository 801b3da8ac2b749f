import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { InfraError, ProtocolError } from "../core/errors";
import {
  ACCESS_FLAG_MD5,
  ACCESS_FLAG_SHA256,
  ACCESS_RESPONSE_TAG,
  CLIENT_ID_EVENT_MGR,
  DEFAULT_LIB_PROTO_VSN,
  DEFAULT_LIB_VSN,
  VSN_MODEL_TOO_SMALL,
  VSN_OK,
  VSN_PROTO_INCOMPATIBLE,
} from "./constants";

/**
 * The unframed part of the connection (docs/nso.md): a 9-byte client
 * header, an optional challenge/response access check, and a 9-byte version reply. Pure
 * functions; the client drives them from its socket reader.
 */
export type AccessCheck = "none" | "md5" | "sha256";

export interface HeaderOptions {
  protoVsn?: number;
  libVsn?: number;
  accessCheck?: AccessCheck;
  /**
   * The service the socket is for (low 6 bits of byte 0): 11 = event manager (default),
   * 7 = MAAPI. NSO serves every client id on the one IPC port and dispatches on this byte.
   */
  clientId?: number;
}

/**
 * `<<Id, ProtoVsn:16, LibVsn:32, MaxDepth, MaxKeyLen>>`. MaxDepth/MaxKeyLen are always 0/0:
 * that skips the server's model-size check, which a client without C hkeypath buffers
 * does not need (§1.2).
 */
export function encodeHeader(opts: HeaderOptions = {}): Buffer {
  const proto = opts.protoVsn ?? DEFAULT_LIB_PROTO_VSN;
  const lib = opts.libVsn ?? DEFAULT_LIB_VSN;
  if (!Number.isInteger(proto) || proto < 0 || proto > 0xffff) throw new RangeError(`LIB_PROTO_VSN must be 0..65535, got ${proto}`);
  if (!Number.isInteger(lib) || lib < 0 || lib > 0xffffffff) throw new RangeError(`LIB_VSN must be 0..0xffffffff, got ${lib}`);
  const id = opts.clientId ?? CLIENT_ID_EVENT_MGR;
  // The top two bits carry the access-check flags: an id above 63 would silently turn one on.
  if (!Number.isInteger(id) || id < 0 || id > 0x3f) throw new RangeError(`client id must be 0..63, got ${id}`);
  const b = Buffer.alloc(9);
  const flag = opts.accessCheck === "md5" ? ACCESS_FLAG_MD5 : opts.accessCheck === "sha256" ? ACCESS_FLAG_SHA256 : 0;
  b[0] = id | flag;
  b.writeUInt16BE(proto, 1);
  b.writeUInt32BE(lib, 3);
  return b;
}

export interface ParsedHeader {
  clientId: number;
  accessCheck: AccessCheck;
  protoVsn: number;
  libVsn: number;
  maxDepth: number;
  maxKeyLen: number;
}

/** Server side of `encodeHeader` (used by the simulator). */
export function parseHeader(b: Uint8Array): ParsedHeader {
  if (b.length !== 9) throw new ProtocolError("nso-bad-header", `client header must be 9 bytes, got ${b.length}`);
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const flags = buf[0] & 0xc0;
  return {
    clientId: buf[0] & 0x3f,
    accessCheck: flags === ACCESS_FLAG_SHA256 ? "sha256" : flags === ACCESS_FLAG_MD5 ? "md5" : flags === 0 ? "none" : "md5",
    protoVsn: buf.readUInt16BE(1),
    libVsn: buf.readUInt32BE(3),
    maxDepth: buf[7],
    maxKeyLen: buf[8],
  };
}

export interface VersionReply {
  code: number;
  protoVsn: number;
  libVsn: number;
  maxDepth: number;
  maxKeyLen: number;
}

export function encodeVersionReply(r: VersionReply): Buffer {
  const b = Buffer.alloc(9);
  b[0] = r.code;
  b.writeUInt16BE(r.protoVsn, 1);
  b.writeUInt32BE(r.libVsn >>> 0, 3);
  b[7] = r.maxDepth;
  b[8] = r.maxKeyLen;
  return b;
}

export function parseVersionReply(b: Uint8Array): VersionReply {
  if (b.length !== 9) throw new ProtocolError("nso-bad-version-reply", `version reply must be 9 bytes, got ${b.length}`);
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return { code: buf[0], protoVsn: buf.readUInt16BE(1), libVsn: buf.readUInt32BE(3), maxDepth: buf[7], maxKeyLen: buf[8] };
}

/** Why the server refused us, as an error a user can act on. */
export class VersionRejected extends InfraError {
  constructor(
    readonly reply: VersionReply,
    sentProtoVsn: number,
  ) {
    super(
      reply.code === VSN_PROTO_INCOMPATIBLE
        ? "nso-version-rejected"
        : reply.code === VSN_MODEL_TOO_SMALL
          ? "nso-model-size-rejected"
          : "nso-version-reply-unknown",
      reply.code === VSN_PROTO_INCOMPATIBLE
        ? `protocol version ${sentProtoVsn} rejected: NSO speaks ${reply.protoVsn} (version ${fmtVsn(reply.libVsn)}); set the protocol version to ${reply.protoVsn} or "auto"`
        : reply.code === VSN_MODEL_TOO_SMALL
          ? `NSO rejected the MAXDEPTH/MAXKEYLEN of the header: server needs ${reply.maxDepth}/${reply.maxKeyLen}`
          : `NSO sent unknown version reply code ${reply.code}`,
      { code: reply.code, serverProtoVsn: reply.protoVsn, serverLibVsn: reply.libVsn },
    );
    this.name = "VersionRejected";
  }
}

/** Throws VersionRejected unless the code is 0. */
export function checkVersionReply(r: VersionReply, sentProtoVsn: number): void {
  if (r.code !== VSN_OK) throw new VersionRejected(r, sentProtoVsn);
}

/** 0x08020500 -> "8.2.5" (the ConfD core version the LIB_VSN stands for). */
export function fmtVsn(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}`;
}

/** `<<12, H(Secret ++ Challenge)>>` with H = MD5 (16-byte challenge) or SHA-256 (32). */
export function accessResponse(kind: Exclude<AccessCheck, "none">, secret: Uint8Array, challenge: Uint8Array): Buffer {
  const h = createHash(kind === "md5" ? "md5" : "sha256");
  h.update(secret);
  h.update(challenge);
  return Buffer.concat([Buffer.from([ACCESS_RESPONSE_TAG]), h.digest()]);
}

export function challengeLength(kind: Exclude<AccessCheck, "none">): number {
  return kind === "md5" ? 16 : 32;
}

/**
 * The secret is the exact bytes of the access file, trailing newline included (the server
 * reads it with `file:read_file`, §2). A missing/unreadable file is a configuration error.
 */
export function readSecretFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InfraError("nso-secret-file", `cannot read the IPC access secret file ${path}: ${(e as Error).message}`);
  }
}

/** Secret from explicit text, else from a file path, else from NCS_IPC_ACCESS_FILE/CONFD_IPC_ACCESS_FILE. */
export function resolveSecret(opts: { secret?: string | Uint8Array; secretFile?: string; env?: NodeJS.ProcessEnv }): Buffer | undefined {
  if (opts.secret !== undefined && opts.secret.length > 0) return Buffer.from(opts.secret as Uint8Array);
  if (opts.secretFile) return readSecretFile(opts.secretFile);
  const env = opts.env ?? process.env;
  const f = env.NCS_IPC_ACCESS_FILE || env.CONFD_IPC_ACCESS_FILE;
  return f ? readSecretFile(f) : undefined;
}
