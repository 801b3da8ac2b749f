/** What the client hands on for a fast-decoded notification, without building its term. */
import * as notificationTypes from "../notifications/types";
import type { NsoNotification } from "../notifications/types";
import * as decode from "../term/decode";
import type { DecodeOptions } from "../term/decode";
import type { Term } from "../term/types";

const { decodeTerm } = decode;
const { TAG_TYPES } = notificationTypes;

/**
 * The client's event (NsoEvent) for a fast-decoded frame of a notification that needs no ack:
 * `raw` is decoded the generic way, from a copy of the frame (a view would pin the socket chunk),
 * only if something reads it. (A blocking one gets its term as an own property: nso-server copies
 * such an event per recipient, `{...ev, ack}`, and a copy keeps own properties only.)
 */
export function lazyRawEvent(
  notification: NsoNotification,
  frame: Uint8Array,
  opts?: DecodeOptions,
): { notification: NsoNotification; raw: Term; ack: undefined } {
  return new LazyRawEvent(notification, frame, opts);
}

class LazyRawEvent {
  ack: undefined = undefined;
  readonly #bytes: Buffer;
  readonly #opts: DecodeOptions | undefined;
  #raw: Term | undefined;

  constructor(
    public notification: NsoNotification,
    frame: Uint8Array,
    opts: DecodeOptions | undefined,
  ) {
    this.#bytes = Buffer.allocUnsafe(frame.length);
    this.#bytes.set(frame);
    this.#opts = opts;
  }

  get raw(): Term {
    return (this.#raw ??= decodeTerm(this.#bytes, this.#opts));
  }
}

const TYPE_TAGS: ReadonlyMap<string, number> = new Map([...TAG_TYPES].map(([tag, type]) => [type, tag]));

/**
 * The notification's type tag (msg.nso.type) without reading the term: the tag of its type, or
 * for NOTIF_UNKNOWN the tag it carries when that is a number; null otherwise (as reading
 * `raw.get(0)` gave).
 */
export function notificationTag(n: NsoNotification): number | null {
  const tag = TYPE_TAGS.get(n.type);
  if (tag !== undefined) return tag;
  return typeof n.payload.tag === "number" ? n.payload.tag : null;
}
