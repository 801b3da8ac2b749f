import { ProtocolError } from "../core/errors";
import { atom, Atom, isAtom, isTuple, Term, tuple } from "./term/types";
import { hasBit, NOTIF_BITS } from "./constants";

/**
 * The four answers NSO waits for (§8), and which notifications need them given the mask the
 * connection subscribed with. The ack id (thandle or usid) is read from the raw term, not
 * from the decoded payload, so acking never depends on how a payload is rendered.
 */
export type AckKind = "diff" | "audit" | "audit_network" | "ha";

export const ACK_KINDS: readonly AckKind[] = ["diff", "audit", "audit_network", "ha"];

export interface AckHandle {
  kind: AckKind;
  /** Thandle for diff, usid for audit/audit_network; 0 for ha (the ack carries no id). */
  id: number;
}

/** `{Th, done}`, `{Usid, synced}`, `{Usid, audit_network_sync}`, `ha_synced`. */
export function ackTerm(h: AckHandle): Term {
  switch (h.kind) {
    case "diff":
      return tuple(h.id, atom("done"));
    case "audit":
      return tuple(h.id, atom("synced"));
    case "audit_network":
      return tuple(h.id, atom("audit_network_sync"));
    case "ha":
      return atom("ha_synced");
  }
}

/**
 * The ack a raw notification needs on a connection subscribed with `mask`, or undefined.
 * COMMIT_DIFF always blocks; AUDIT, AUDIT_NETWORK and HA_INFO block only with their sync flag.
 */
export function ackFor(raw: Term, mask: number): AckHandle | undefined {
  if (!isTuple(raw) || raw.arity < 1) return undefined;
  const tag = raw.get(0);
  const needInt = (v: Term, what: string): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new ProtocolError("nso-bad-ack-id", `${what} is not an integer`);
    return v;
  };
  if (tag === NOTIF_BITS.NOTIF_COMMIT_DIFF) {
    if (raw.arity < 5) throw new ProtocolError("nso-bad-commit-diff", `commit diff tuple has ${raw.arity} elements, need at least 5`);
    return { kind: "diff", id: needInt(raw.get(3), "commit diff thandle") };
  }
  if (tag === NOTIF_BITS.NOTIF_AUDIT && hasBit(mask, "NOTIF_AUDIT_SYNC")) {
    if (raw.arity !== 5) throw new ProtocolError("nso-bad-audit", `audit tuple has ${raw.arity} elements, need 5`);
    return { kind: "audit", id: needInt(raw.get(3), "audit usid") };
  }
  if (tag === NOTIF_BITS.NOTIF_AUDIT_NETWORK && hasBit(mask, "NOTIF_AUDIT_NETWORK_SYNC")) {
    const inner = raw.get(1);
    if (raw.arity !== 2 || !isTuple(inner) || inner.arity < 1)
      throw new ProtocolError("nso-bad-audit-network", "audit-network term is not {268435456, {Usid, ...}}");
    return { kind: "audit_network", id: needInt(inner.get(0), "audit-network usid") };
  }
  if (tag === NOTIF_BITS.NOTIF_HA_INFO && hasBit(mask, "NOTIF_HA_INFO_SYNC")) return { kind: "ha", id: 0 };
  return undefined;
}

/** Server side: which pending wait an ack term releases, or undefined for an illegal message. */
export function parseAck(t: Term): AckHandle | undefined {
  if (isAtom(t, "ha_synced")) return { kind: "ha", id: 0 };
  if (isTuple(t, 2) && typeof t.get(0) === "number") {
    const what = t.get(1);
    const n = what instanceof Atom ? what.name : undefined;
    if (n === "done") return { kind: "diff", id: t.get(0) as number };
    if (n === "synced") return { kind: "audit", id: t.get(0) as number };
    if (n === "audit_network_sync") return { kind: "audit_network", id: t.get(0) as number };
  }
  return undefined;
}

/** Message types NSO blocks on until they are answered, given the sync flags selected. */
export function blockingTypes(types: readonly string[]): string[] {
  const out: string[] = [];
  if (types.includes("NOTIF_COMMIT_DIFF")) out.push("NOTIF_COMMIT_DIFF");
  for (const [t, sync] of [
    ["NOTIF_AUDIT", "NOTIF_AUDIT_SYNC"],
    ["NOTIF_AUDIT_NETWORK", "NOTIF_AUDIT_NETWORK_SYNC"],
    ["NOTIF_HA_INFO", "NOTIF_HA_INFO_SYNC"],
  ]) {
    if (types.includes(t) && types.includes(sync)) out.push(t);
  }
  return out;
}
