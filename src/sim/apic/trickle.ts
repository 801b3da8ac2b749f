import type { ApicSimulator } from "./server";

/**
 * A steady trickle of realistic changes so a newcomer sees live events: port faults that are
 * raised and later cleared (faultInst soaking -> raised -> retaining -> deleted, with an
 * eventRecord per transition), and tenants/EPGs created, modified and deleted (with the
 * aaaModLR audit record APIC writes for every config change).
 */
export class Trickle {
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private tenantSeq = 0;
  private epgSeq = 0;
  private readonly openFaults: string[] = [];
  private readonly devTenants: string[] = [];
  private readonly devEpgs: string[] = [];

  constructor(
    private readonly sim: ApicSimulator,
    private readonly random: () => number = Math.random,
  ) {}

  start(everyMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.step(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One change (public so tests and the bench can drive it without timers). */
  step(): void {
    const actions = [() => this.faultStep(), () => this.tenantStep(), () => this.epgStep(), () => this.faultStep()];
    actions[this.tick++ % actions.length]();
    for (const cls of ["eventRecord", "aaaModLR"]) this.sim.store.pruneRecords(cls, 500);
  }

  private now(): string {
    return new Date().toISOString().replace("Z", "+00:00");
  }

  private event(affected: string, code: string, descr: string, cause: string): void {
    const id = this.sim.store.nextRecordId();
    this.sim.create("eventRecord", `subj-[${affected}]/rec-${id}`, { affected, cause, code, created: this.now(), descr, id, txId: id });
  }

  private faultStep(): void {
    const s = this.sim.store;
    // Advance an open fault one lifecycle step half the time, otherwise raise a new one.
    if (this.openFaults.length > 0 && (this.openFaults.length >= 4 || this.random() < 0.5)) {
      const dn = this.openFaults[0];
      const f = s.get(dn);
      const port = dn.replace(/\/fault-F0546$/, "");
      if (!f) {
        this.openFaults.shift();
        return;
      }
      const lc = f.attrs.lc;
      if (lc === "soaking") this.sim.modify(dn, { lc: "raised", lastTransition: this.now() });
      else if (lc === "raised") {
        this.sim.modify(dn, { lc: "retaining", severity: "cleared", prevSeverity: "minor", lastTransition: this.now() });
        this.event(port, "E4208220", "Port is up", "port-up");
      } else {
        this.openFaults.shift();
        this.sim.delete(dn);
      }
      return;
    }
    const port = `topology/pod-1/node-${101 + Math.floor(this.random() * 2)}/sys/phys-[eth1/${1 + Math.floor(this.random() * 48)}]/phys`;
    const dn = `${port}/fault-F0546`;
    if (s.get(dn)) return;
    this.openFaults.push(dn);
    this.sim.create("faultInst", dn, {
      cause: "port-down",
      changeSet: "operSt:down",
      code: "F0546",
      created: this.now(),
      descr: "Port is down, reason:link-failure",
      lastTransition: this.now(),
      lc: "soaking",
      rule: "ethpm-if-port-down-infra",
      subject: "port-down",
    });
    this.event(port, "E4208219", "Port is down", "port-down");
  }

  private tenantStep(): void {
    const r = this.random();
    if (this.devTenants.length > 0 && (this.devTenants.length >= 3 || r < 0.3)) {
      const dn = this.devTenants.shift()!;
      this.sim.delete(dn);
      this.sim.recordAudit(dn, `Tenant ${dn} deleted`);
    } else if (this.devTenants.length > 0 && r < 0.6) {
      const dn = this.devTenants[this.devTenants.length - 1];
      const descr = `changed at ${this.now()}`;
      this.sim.modify(dn, { descr });
      this.sim.recordAudit(dn, `Tenant ${dn} modified`);
    } else {
      const name = `dev${++this.tenantSeq}`;
      const dn = `uni/tn-${name}`;
      this.devTenants.push(dn);
      this.sim.create("fvTenant", dn, { name, descr: "created by the simulator" });
      this.sim.recordAudit(dn, `Tenant ${dn} created`);
    }
  }

  private epgStep(): void {
    const r = this.random();
    if (this.devEpgs.length > 0 && (this.devEpgs.length >= 3 || r < 0.3)) {
      const dn = this.devEpgs.shift()!;
      this.sim.delete(dn);
      this.sim.recordAudit(dn, `EPG ${dn} deleted`);
    } else if (this.devEpgs.length > 0 && r < 0.6) {
      const dn = this.devEpgs[0];
      this.sim.modify(dn, { descr: `changed at ${this.now()}`, configIssues: "" });
      this.sim.recordAudit(dn, `EPG ${dn} modified`);
    } else {
      const name = `app${++this.epgSeq}`;
      const dn = `uni/tn-demo/ap-web/epg-${name}`;
      this.devEpgs.push(dn);
      this.sim.create("fvAEPg", dn, { name });
      this.sim.recordAudit(dn, `EPG ${dn} created`);
    }
  }
}
