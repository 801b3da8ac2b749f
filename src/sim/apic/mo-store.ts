/**
 * The simulator's management information tree: a flat map DN -> MO. Parents are implied by
 * the DN (`uni/tn-a/ap-b` is a child of `uni/tn-a`); brackets protect slashes inside a name
 * (`phys-[eth1/12]`). Every change is returned in the notification shape APIC uses:
 * created = full object, modified = changed properties + dn/status/childAction/modTs/rn,
 * deleted = minimal (or with childAction/modTs/rn, as a policy).
 */
export interface Mo {
  cls: string;
  attrs: Record<string, string>;
}

export interface MoChange {
  cls: string;
  dn: string;
  status: "created" | "modified" | "deleted";
  /** What goes on the wire. */
  attrs: Record<string, string>;
  /** The whole object (after a create/modify, before a delete): what filters see. */
  full: Record<string, string>;
}

/** The parent DN, ignoring slashes inside [brackets]. */
export function parentDn(dn: string): string {
  let depth = 0;
  for (let i = dn.length - 1; i >= 0; i--) {
    const c = dn[i];
    if (c === "]") depth++;
    else if (c === "[") depth--;
    else if (c === "/" && depth === 0) return dn.slice(0, i);
  }
  return "";
}

function ts(now: number): string {
  return new Date(now).toISOString().replace("Z", "+00:00");
}

/** Properties APIC returns for classes the simulator knows; others get just the basics. */
const CLASS_DEFAULTS: Record<string, Record<string, string>> = {
  fvTenant: {
    annotation: "",
    descr: "",
    extMngdBy: "",
    lcOwn: "local",
    monPolDn: "uni/tn-common/monepg-default",
    name: "",
    nameAlias: "",
    ownerKey: "",
    ownerTag: "",
    uid: "15374",
    userdom: ":all:",
  },
  fvAp: {
    annotation: "",
    descr: "",
    extMngdBy: "",
    lcOwn: "local",
    monPolDn: "uni/tn-common/monepg-default",
    name: "",
    nameAlias: "",
    ownerKey: "",
    ownerTag: "",
    prio: "unspecified",
    uid: "15374",
    userdom: ":all:",
  },
  fvAEPg: {
    annotation: "",
    configIssues: "",
    configSt: "applied",
    descr: "",
    exceptionTag: "",
    extMngdBy: "",
    floodOnEncap: "disabled",
    fwdCtrl: "",
    hasMcastSource: "no",
    isAttrBasedEPg: "no",
    isSharedSrvMsiteEPg: "no",
    lcOwn: "local",
    matchT: "AtleastOne",
    name: "",
    nameAlias: "",
    pcEnfPref: "unenforced",
    pcTag: "49153",
    prefGrMemb: "exclude",
    prio: "unspecified",
    scope: "2752513",
    shutdown: "no",
    triggerSt: "triggerable",
    txId: "",
    uid: "15374",
    userdom: ":all:",
  },
  fvBD: {
    arpFlood: "no",
    descr: "",
    ipLearning: "yes",
    limitIpLearnToSubnets: "yes",
    mac: "00:22:BD:F8:19:FF",
    name: "",
    unicastRoute: "yes",
    unkMacUcastAct: "proxy",
    uid: "15374",
  },
  faultInst: {
    ack: "no",
    alert: "no",
    cause: "",
    changeSet: "",
    code: "",
    created: "",
    delegated: "no",
    descr: "",
    domain: "access",
    highestSeverity: "minor",
    lastTransition: "",
    lc: "soaking",
    occur: "1",
    origSeverity: "minor",
    prevSeverity: "minor",
    rule: "",
    severity: "minor",
    subject: "",
    type: "communications",
  },
  eventRecord: {
    affected: "",
    cause: "",
    changeSet: "",
    code: "",
    created: "",
    descr: "",
    id: "",
    ind: "state-transition",
    severity: "info",
    trig: "oper",
    txId: "",
    user: "internal",
  },
  aaaModLR: {
    affected: "",
    cause: "transition",
    changeSet: "",
    clientTag: "",
    code: "E4206326",
    created: "",
    descr: "",
    id: "",
    ind: "modification",
    sessionId: "",
    severity: "info",
    trig: "config",
    txId: "",
    user: "admin",
  },
};

export class MoStore {
  private readonly mos = new Map<string, Mo>();
  private recordSeq = 4294967296;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.mos.size;
  }

  get(dn: string): Mo | undefined {
    return this.mos.get(dn);
  }

  all(): IterableIterator<[string, Mo]> {
    return this.mos.entries();
  }

  nextRecordId(): string {
    return String(++this.recordSeq);
  }

  /** Create (or replace) an MO; returns the created change. */
  create(cls: string, dn: string, attrs: Record<string, string> = {}): MoChange {
    const now = ts(this.now());
    const full: Record<string, string> = { ...(CLASS_DEFAULTS[cls] ?? {}), ...attrs, childAction: "", dn, modTs: now, rn: "", status: "" };
    if (full.name === "" && CLASS_DEFAULTS[cls]?.name !== undefined) full.name = dn.slice(dn.lastIndexOf("-") + 1);
    this.mos.set(dn, { cls, attrs: full });
    return { cls, dn, status: "created", attrs: sortKeys({ ...full, status: "created" }), full: { ...full } };
  }

  /** Change some properties; returns the modified change, or undefined when the DN does not exist. */
  modify(dn: string, changes: Record<string, string>): MoChange | undefined {
    const mo = this.mos.get(dn);
    if (!mo) return undefined;
    const now = ts(this.now());
    Object.assign(mo.attrs, changes, { modTs: now });
    return {
      cls: mo.cls,
      dn,
      status: "modified",
      attrs: sortKeys({ ...changes, childAction: "", dn, modTs: now, rn: "", status: "modified" }),
      full: { ...mo.attrs },
    };
  }

  /** Delete an MO and its subtree (children first, as APIC reports them). */
  delete(dn: string, minimal: boolean): MoChange[] {
    const mo = this.mos.get(dn);
    if (!mo) return [];
    const out: MoChange[] = [];
    for (const [childDn] of [...this.mos]) {
      if (childDn !== dn && childDn.startsWith(`${dn}/`)) out.push(...this.delete(childDn, minimal));
    }
    this.mos.delete(dn);
    const now = ts(this.now());
    const attrs: Record<string, string> = minimal ? { dn, status: "deleted" } : { childAction: "", dn, modTs: now, rn: "", status: "deleted" };
    out.push({ cls: mo.cls, dn, status: "deleted", attrs, full: { ...mo.attrs } });
    return out;
  }

  /**
   * Keep at most `max` MOs of an append-only record class (eventRecord, aaaModLR), dropping the
   * oldest without notification, the way APIC rolls its records over; a long demo stays small.
   */
  pruneRecords(cls: string, max: number): number {
    let count = 0;
    for (const mo of this.mos.values()) if (mo.cls === cls) count++;
    let removed = 0;
    for (const [dn, mo] of this.mos) {
      if (count - removed <= max) break;
      if (mo.cls === cls) {
        this.mos.delete(dn);
        removed++;
      }
    }
    return removed;
  }

  /** A small fabric: common/infra/mgmt plus two demo tenants with apps, EPGs, a BD and faults. */
  seed(): void {
    for (const t of ["common", "infra", "mgmt"]) this.create("fvTenant", `uni/tn-${t}`, { name: t });
    for (const t of ["demo", "shop"]) {
      this.create("fvTenant", `uni/tn-${t}`, { name: t, descr: `${t} tenant` });
      this.create("fvBD", `uni/tn-${t}/BD-bd1`, { name: "bd1" });
      this.create("fvAp", `uni/tn-${t}/ap-web`, { name: "web" });
      for (const e of ["front", "back"]) this.create("fvAEPg", `uni/tn-${t}/ap-web/epg-${e}`, { name: e });
    }
    this.create("faultInst", "topology/pod-1/node-101/sys/phys-[eth1/12]/phys/fault-F0546", {
      cause: "port-down",
      changeSet: "operSt:down",
      code: "F0546",
      created: ts(this.now()),
      descr: "Port is down, reason:link-failure",
      lastTransition: ts(this.now()),
      lc: "raised",
      rule: "ethpm-if-port-down-infra",
      subject: "port-down",
    });
  }
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
