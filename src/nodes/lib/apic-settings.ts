import { OutputRouter, parseKeyList } from "./routing";
import { normaliseSpec, QueryError } from "../../apic";
import type { SubscriptionSpec } from "../../apic";

/**
 * Turning what a user typed into the editor into library settings. Kept here (not in the
 * Node-RED glue) so it is testable without a runtime and shared by both APIC nodes.
 */

/** Controller addresses: one per line or separated by commas/spaces; no scheme = https. */
export function parseHosts(text: string | undefined): string[] {
  return String(text ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim().replace(/\/+$/, ""))
    .filter((s) => s.length > 0)
    .map((s) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`));
}

/** The addresses among `hosts` that are not http(s) URLs. */
export function badHosts(hosts: string[]): string[] {
  return hosts.filter((h) => {
    try {
      const u = new URL(h);
      return u.protocol !== "https:" && u.protocol !== "http:";
    } catch {
      return true;
    }
  });
}

export const STATUS_OUTPUTS = ["created", "modified", "deleted", "sync"] as const;

/** The router for a routing mode; the editor derives ports and labels from the same lists. */
export function routerFor(routing: string, classes: string | string[] | undefined): OutputRouter {
  if (routing === "status") return new OutputRouter(STATUS_OUTPUTS, { other: false });
  if (routing === "class") return new OutputRouter(parseKeyList(classes), { other: true });
  return new OutputRouter([], { other: true, otherLabel: "changes" });
}

/** Configured subscriptions: the editable list's array (or a JSON string of one). */
export function configuredSpecs(v: unknown): SubscriptionSpec[] {
  let list: unknown = v ?? [];
  if (typeof v === "string") {
    try {
      list = v.trim() === "" ? [] : JSON.parse(v);
    } catch {
      throw new QueryError("subscriptions must be a JSON list");
    }
  }
  if (!Array.isArray(list)) throw new QueryError("subscriptions must be a list");
  return list.map((s) => normaliseSpec(s));
}
