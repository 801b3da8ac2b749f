import { ProtocolError } from "../core/errors";

/**
 * One inbound frame, classified. The server sends exactly one JSON object per text frame;
 * a frame that does not start with "{" carries a first line (a bridge connection id, or the
 * echo of a non-JSON request) before the JSON (§2.1).
 */
export type Inbound =
  | { kind: "event"; name: string; args: unknown; bridge?: string; text: string }
  | { kind: "reply"; id: string; namespace: string; name: string; args: unknown; bridge?: string }
  | { kind: "error"; id: string; status: string; message: string; bridge?: string };

export interface FrameLimits {
  /** Frames above this many bytes are refused (dropped, connection kept). */
  maxFrameBytes: number;
  /** Nesting deeper than this is refused: Node-RED deep-clones messages recursively. */
  maxDepth: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = { maxFrameBytes: 1024 * 1024, maxDepth: 64 };

// A bridge id is a short connection name; a long "first line" is garbage, not an id.
const MAX_BRIDGE_ID = 256;

export function decodeFrame(data: Buffer | string, limits: FrameLimits = DEFAULT_FRAME_LIMITS): Inbound {
  const size = typeof data === "string" ? Buffer.byteLength(data) : data.length;
  if (size > limits.maxFrameBytes) {
    throw new ProtocolError("frame-too-large", `frame of ${size} bytes exceeds the ${limits.maxFrameBytes}-byte limit`, { size });
  }
  let text = typeof data === "string" ? data : data.toString("utf8");
  let bridge: string | undefined;
  if (!text.startsWith("{")) {
    const nl = text.indexOf("\n");
    if (nl < 0 || nl > MAX_BRIDGE_ID) {
      throw new ProtocolError("not-json", `frame is not a JSON object: ${preview(text)}`);
    }
    bridge = text.slice(0, nl);
    text = text.slice(nl + 1);
    if (!text.startsWith("{")) {
      // Bridge relays carry base64 payloads after the id line; a direct client has no key for them.
      throw new ProtocolError("not-json", `frame after line "${preview(bridge)}" is not a JSON object: ${preview(text)}`);
    }
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError("bad-json", `frame is not valid JSON (${(e as Error).message}): ${preview(text)}`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new ProtocolError("bad-envelope", "frame is not a JSON object");
  }
  const env = obj as Record<string, unknown>;
  const { namespace, name, id, args } = env;
  if (typeof namespace !== "string" || typeof name !== "string" || typeof id !== "string") {
    throw new ProtocolError("bad-envelope", `frame lacks string namespace/name/id: ${preview(text)}`);
  }
  if (depthExceeds(args, limits.maxDepth)) {
    throw new ProtocolError("too-deep", `frame ${namespace}/${name} nests deeper than ${limits.maxDepth} levels`);
  }
  if (namespace === "error" || name === "error") {
    const a = (typeof args === "object" && args !== null ? args : {}) as Record<string, unknown>;
    // The docs promised numeric codes; the server sends strings. Accept both, keep strings.
    const status = typeof a.code === "string" || typeof a.code === "number" ? String(a.code) : "unknown";
    const message = typeof a.message === "string" ? a.message : "";
    return { kind: "error", id, status, message, bridge };
  }
  if (namespace === "events" && id === "") return { kind: "event", name, args, bridge, text };
  if (id === "") {
    throw new ProtocolError("uncorrelated", `reply ${namespace}/${name} has an empty id and cannot be matched to a request`);
  }
  return { kind: "reply", id, namespace, name, args, bridge };
}

/**
 * Recursion stops one level past `max`, so hostile nesting cannot overflow our stack.
 * Object.values (not for..in + indexing) so an own "__proto__" key is checked as data.
 */
function depthExceeds(v: unknown, max: number, depth = 1): boolean {
  if (typeof v !== "object" || v === null) return false;
  if (depth > max) return true;
  const children = Array.isArray(v) ? v : Object.values(v);
  for (let i = 0; i < children.length; i++) {
    const c: unknown = children[i];
    if (typeof c === "object" && c !== null && depthExceeds(c, max, depth + 1)) return true;
  }
  return false;
}

function preview(s: string): string {
  const t = s.length > 60 ? `${s.slice(0, 60)}…` : s;
  return JSON.stringify(t);
}
