/** What a flow subscribes to: a class query or a DN query, with APIC query options. */
export interface SubscriptionSpec {
  kind: "class" | "dn";
  /** Class name (`fvTenant`) or DN (`uni/tn-demo`). */
  target: string;
  /**
   * Query options exactly as APIC takes them (`query-target=subtree&target-subtree-class=fvAEPg`),
   * either as one query string or as name/value pairs. Values are sent as written; only
   * characters that cannot appear in a URL are escaped (see query.ts).
   */
  options?: string | Record<string, string>;
}

/** APIC `status` of a change; `sync` marks objects re-read after a (re)subscribe. */
export type ChangeStatus = "created" | "modified" | "deleted" | "sync";

/** One managed-object change, as delivered to one local subscription. */
export interface ApicEvent {
  class: string;
  dn: string;
  status: ChangeStatus;
  /** The attributes as APIC sent them (all strings); partial for `modified`, minimal for `deleted`. */
  attributes: Record<string, string>;
  /** Every subscription id the frame listed (strings: they exceed Number.MAX_SAFE_INTEGER). */
  subscriptionIds: string[];
  /**
   * The object's subtree as APIC returned it (`[{<class>: {attributes, children?}}]`), when the
   * query asked for one (`rsp-subtree=children|full`): on `sync` objects, read with the query.
   */
  children?: unknown[];
}

/** A possible loss of changes: the flow should reconcile from the `sync` objects that follow. */
export interface ApicGap {
  reason: string;
  /** When the previous connection (or subscription) was last known good, ms since epoch. */
  since: number | undefined;
  /** When delivery resumed, ms since epoch. */
  until: number;
  /** The affected queries (paths), all of the owner's when the whole session was replaced. */
  queries: string[];
}
