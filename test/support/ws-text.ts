import type WebSocket from "ws";

/** A ws "message" payload as text: a Buffer, fragments, or an ArrayBuffer, decoded as UTF-8. */
export function wsText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
