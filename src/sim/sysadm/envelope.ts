/**
 * The server's wire format (§2): compact JSON with keys in alphabetical order (Qt's
 * QJsonDocument), replies named "response" unless the request id was empty, errors with
 * `namespace` and `name` both "error" and a string code.
 */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = (v as Record<string, unknown>)[k];
      return out;
    }
    return v;
  });
}

export const ERROR_MESSAGES: Record<string, string> = {
  "400": "Bad Request",
  "401": "Unauthorized",
  "403": "Forbidden",
  "404": "Not Found",
};

export function replyFrame(namespace: string, requestName: string, id: string, args: unknown): string {
  return sortedJson({ args, id, name: id === "" ? requestName : "response", namespace });
}

export function errorFrame(id: string, code: "400" | "401" | "403" | "404"): string {
  return sortedJson({ args: { code, message: ERROR_MESSAGES[code] }, id, name: "error", namespace: "error" });
}

export function eventFrame(name: string, args: unknown): string {
  return sortedJson({ args, id: "", name, namespace: "events" });
}
