import { asError } from "../../core/errors";
import { DEFAULT_EVENT_REPLY_TIMEOUT_MS } from "../constants";
import type { TagValue } from "../notifications/values";
import type { DiffWish } from "./diff-share";
import type { HashDb } from "./hash-db";
import { parseSubtree } from "./keypath";
import { CommitDiffResult, DEFAULT_BUDGET_MS, DEFAULT_MAX_CHANGES } from "./read-diff";
import { NamedTagValue, nameTagValues, needsSchema, renderNotificationXml } from "./stream-names";
import type { YangSchema } from "./yang-schema";

/*
 * What a notification gains over MAAPI before a flow sees it (nso-events): a commit diff's
 * payload carries what the commit changed, a stream event's values their names and the XML
 * NETCONF subscribers know.
 */

/**
 * Diff-reading settings as a user gives them (seconds, a count, a subtree; blank: the default),
 * checked: a bad one is refused with a RangeError saying why, never a commit held too long.
 */
export function diffWish(given: { budgetSeconds?: string | number; maxChanges?: string | number; subtree?: string }, autoAckSec: number): DiffWish {
  const budgetMs = given.budgetSeconds === undefined || given.budgetSeconds === "" ? DEFAULT_BUDGET_MS : Math.round(Number(given.budgetSeconds) * 1000);
  if (!(budgetMs > 0)) throw new RangeError(`the diff budget must be a positive number of seconds, got ${JSON.stringify(given.budgetSeconds)}`);
  // Every commit in NSO waits while we read: the read must end before anything else answers.
  if (autoAckSec > 0 && budgetMs >= autoAckSec * 1000)
    throw new RangeError(`the diff budget (${budgetMs / 1000} s) must be shorter than the auto-ack delay (${autoAckSec} s)`);
  if (budgetMs >= DEFAULT_EVENT_REPLY_TIMEOUT_MS)
    throw new RangeError(
      `the diff budget (${budgetMs / 1000} s) must be shorter than NSO's event-reply-timeout (${DEFAULT_EVENT_REPLY_TIMEOUT_MS / 1000} s by default)`,
    );
  const maxChanges = given.maxChanges === undefined || given.maxChanges === "" ? DEFAULT_MAX_CHANGES : Number(given.maxChanges);
  if (!Number.isInteger(maxChanges) || maxChanges <= 0)
    throw new RangeError(`the change cap must be a positive whole number, got ${JSON.stringify(given.maxChanges)}`);
  const subtree = given.subtree?.trim() || undefined;
  if (subtree) parseSubtree(subtree); // throws RangeError with the reason
  return { budgetMs, maxChanges, subtree };
}

/** Stands in for the read when none was set up for a user: the message says truncated, and why. */
export function missingDiffRead(thandle: number | undefined): CommitDiffResult {
  return {
    thandle: thandle ?? -1,
    changes: [],
    truncated: true,
    reason: "error",
    error: { code: "internal", message: "no diff read was set up for this node" },
    stats: { items: 0, dropped: 0, labelled: 0, unlabelled: 0, detached: false, durationMs: 0 },
  };
}

/** A commit diff's payload with what the read found: `changes`, `truncated`, and when cut short `truncatedReason` (and `diffError`). */
export function withChanges(payload: Record<string, unknown>, r: CommitDiffResult): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload, changes: r.changes, truncated: r.truncated };
  if (r.truncated) {
    out.truncatedReason = r.reason;
    if (r.error) out.diffError = r.error;
  }
  return out;
}

/** Where the schema is read from (a MaapiClient: once per MAAPI connection). */
export interface SchemaSource {
  hashDb(opts: { signal?: AbortSignal }): Promise<HashDb>;
  yangSchema(opts: { signal?: AbortSignal }): Promise<YangSchema>;
}

/**
 * Names a stream event's tag values and renders the notification as XML. With UseIKP the tags
 * already are names; otherwise the schema's hash table names them. One warning while the hash
 * table (or the schema) cannot be had, not one per event; a success re-arms it.
 */
export class StreamValueNamer {
  private namesWarned = false;
  private schemaWarned = false;

  constructor(
    private readonly source: () => SchemaSource,
    private readonly warn: (text: string) => void,
  ) {}

  /**
   * The values named, and the XML; undefined when they stay unnamed (no hash table), or when
   * `closed` says the user went away meanwhile (then nothing more is read and nothing warned).
   */
  async name(values: TagValue[], signal: AbortSignal, closed: () => boolean): Promise<{ values: NamedTagValue[]; xml: string } | undefined> {
    const needsDb = values.some((v) => typeof v.tag === "number" || typeof v.ns === "number");
    let db;
    let named = true;
    if (needsDb) {
      try {
        db = await this.source().hashDb({ signal });
        this.namesWarned = false;
      } catch (e) {
        named = false;
        if (!closed() && !this.namesWarned) this.warn(`stream values left unnamed: the schema hash table could not be read over MAAPI (${asError(e).message})`);
        this.namesWarned = true;
      }
    }
    // Enumeration labels, list key names and module prefixes are only in the full schema,
    // read once per MAAPI connection and only when a value needs it.
    let schema;
    if (named && !closed() && values.some(needsSchema)) {
      try {
        schema = await this.source().yangSchema({ signal });
        this.schemaWarned = false;
      } catch (e) {
        if (!closed() && !this.schemaWarned)
          this.warn(`stream enumerations and list keys left unnamed in msg.payload.xml: the schema could not be read over MAAPI (${asError(e).message})`);
        this.schemaWarned = true;
      }
    }
    if (!named || closed()) return undefined;
    const withNames = nameTagValues(values, db, schema);
    return { values: withNames, xml: renderNotificationXml(withNames) };
  }
}
