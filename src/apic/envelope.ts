import { InfraError } from "../core/errors";
import { asText } from "../core/describe";

/**
 * APIC answers every REST call with `{totalCount, imdata: [...]}`; errors use the same envelope
 * with `imdata[0].error.attributes.{code,text}`. ApicError keeps the HTTP status, APIC's code and
 * text, and a `kind` the client branches on (re-login, next controller, resubscribe, give up).
 */
export type ApicErrorKind =
  | "auth" // 401: bad credentials: do not hammer, back off and say "login failed"
  | "token" // 403: token expired/invalid: log in again
  | "no-socket" // 405 "unable to locate opened web socket": the session lost its socket
  | "request" // other 4xx / error envelope: this request is wrong (e.g. a lapsed subscription id)
  | "server" // 5xx: the controller is unwell: try the next one
  | "network" // connect refused/reset/timeout: try the next one
  | "protocol"; // a 200 that is not an APIC answer

export class ApicError extends InfraError {
  constructor(
    readonly kind: ApicErrorKind,
    message: string,
    readonly httpStatus?: number,
    readonly apicCode?: string,
  ) {
    super(`apic-${kind}`, message, { httpStatus, apicCode });
    this.name = "ApicError";
  }
}

export interface ApicReply {
  totalCount?: string;
  subscriptionId?: unknown;
  imdata: unknown[];
  [k: string]: unknown;
}

/** The `{code, text}` of an error envelope, if `body` is one. */
export function envelopeError(body: unknown): { code: string; text: string } | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const imdata = (body as { imdata?: unknown }).imdata;
  if (!Array.isArray(imdata) || imdata.length === 0) return undefined;
  const first = imdata[0] as { error?: { attributes?: { code?: unknown; text?: unknown } } } | null;
  const attrs = first && typeof first === "object" ? first.error?.attributes : undefined;
  if (!attrs) return undefined;
  return { code: asText(attrs.code ?? ""), text: asText(attrs.text ?? "") };
}

function kindFor(status: number, code: string, text: string): ApicErrorKind {
  if (status === 401 || code === "401") return "auth";
  if (status === 403 || code === "403") return "token";
  if (/unable to locate opened web socket/i.test(text) || (status === 405 && code === "405")) return "no-socket";
  if (status >= 500) return "server";
  return "request";
}

/**
 * Turn an HTTP status + raw body into an APIC reply, or throw an ApicError saying what went
 * wrong in APIC's own words (the envelope text) when there is one.
 */
export function decodeReply(status: number, raw: string, what: string): ApicReply {
  let body: unknown;
  let parsed = true;
  try {
    body = raw === "" ? undefined : JSON.parse(raw);
  } catch {
    parsed = false;
  }
  const err = parsed ? envelopeError(body) : undefined;
  if (status < 200 || status >= 300 || err) {
    const code = err?.code ?? String(status);
    const text = err?.text ?? (parsed ? `HTTP ${status}` : `HTTP ${status}: ${raw.slice(0, 120)}`);
    throw new ApicError(kindFor(status, code, text), `${what}: ${text} (HTTP ${status}${err ? `, APIC code ${code}` : ""})`, status, err?.code);
  }
  if (!parsed) throw new ApicError("protocol", `${what}: reply is not JSON: ${raw.slice(0, 80)}`, status);
  if (typeof body !== "object" || body === null || !Array.isArray((body as ApicReply).imdata)) {
    throw new ApicError("protocol", `${what}: reply has no imdata array`, status);
  }
  return body as ApicReply;
}
