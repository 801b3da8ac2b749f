import { EventEmitter } from "node:events";
import { ApicClient, ApicClientOptions } from "../../../src/apic/client";
import type { LocalSubscription, SubscriptionListener } from "../../../src/apic/subscription";
import type { ApicEvent, ApicGap } from "../../../src/apic/types";
import type { StateChange } from "../../../src/core/lifecycle";
import { startApicSimulator, StartedApicSimulator } from "../../../src/sim/apic";
import type { ApicSimOptions } from "../../../src/sim/apic";
import { waitOn } from "../../support/wait";

// Re-exported for the apic unit and integration tests that import it from here.
export { waitOn };

/** A listener that records what it is given and says so, so tests await instead of sleeping. */
export class Collector extends EventEmitter implements SubscriptionListener {
  events: Array<ApicEvent & { sub: number }> = [];
  gaps: ApicGap[] = [];
  errors: Error[] = [];
  liveCount = 0;
  onEvent(ev: ApicEvent, sub: LocalSubscription): void {
    this.events.push({ ...ev, sub: sub.key });
    if (ev.status !== "sync") this.liveCount++;
    this.emit("update");
  }
  onGap(gap: ApicGap): void {
    this.gaps.push(gap);
    this.emit("update");
  }
  onError(err: Error): void {
    this.errors.push(err);
    this.emit("update");
  }
  until(check: (c: this) => boolean, what: string, ms = 5000): Promise<void> {
    return waitOn(this, "update", () => check(this), what, ms);
  }
  live(): Array<ApicEvent & { sub: number }> {
    return this.events.filter((e) => e.status !== "sync");
  }
}

export function states(client: ApicClient): StateChange[] {
  const list: StateChange[] = [];
  client.on("state", (c) => list.push(c));
  return list;
}

export function untilState(client: ApicClient, check: (c: StateChange) => boolean, what: string, ms = 5000): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      client.removeListener("state", on);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const on = (c: StateChange): void => {
      if (!check(c)) return;
      clearTimeout(t);
      client.removeListener("state", on);
      resolve(c);
    };
    client.on("state", on);
  });
}

export const CREDS = { username: "admin", password: "demo-password" };

/** Fast timings so recovery paths run in well under a second. */
export const FAST: Partial<ApicClientOptions> = {
  requestTimeoutMs: 1000,
  handshakeTimeoutMs: 2000,
  // Only tests about liveness ping faster; a loaded CI machine must not see false half-opens.
  pingIntervalMs: 1000,
};

export class Rig {
  sims: StartedApicSimulator[] = [];
  clients: ApicClient[] = [];

  async sim(o: ApicSimOptions = {}): Promise<StartedApicSimulator> {
    const s = await startApicSimulator(o);
    this.sims.push(s);
    return s;
  }

  client(o: Partial<ApicClientOptions> & { hosts: string[] }): ApicClient {
    const c = new ApicClient({ credentials: CREDS, ...FAST, backoff: undefined, ...o });
    this.clients.push(c);
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all(this.sims.map((s) => s.close()));
    this.clients = [];
    this.sims = [];
  }
}
