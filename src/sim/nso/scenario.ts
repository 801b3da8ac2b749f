import { readFileSync } from "node:fs";
import type { Spec } from "./builders";
import type { NsoSimServer } from "./server";
import { DEMO_DIFF } from "./maapi";

/**
 * A scenario: notifications played in order, `delayMs` after the previous one, looping.
 * Steps marked `wait` (default for commit diffs) hold the scenario until every subscriber
 * acked or the event-reply timeout closed it, as a real commit blocks on its diff ack.
 */
export interface ScenarioStep extends Spec {
  delayMs?: number;
  wait?: boolean;
}

export interface Scenario {
  loop?: boolean;
  steps: ScenarioStep[];
}

const admin = { usid: 59, username: "admin", context: "cli", proto: 2, ip: "192.0.2.10", port: 52344 };
const webui = { usid: 60, username: "oper", context: "webui", proto: 7, ip: "192.0.2.20", port: 443 };

// The NETCONF config-change event as a real 6.2.5 sent it (hashes of ietf-netconf-notifications).
const NS = 1244620176;
const configChange = (who: string, sid: number): unknown[] => [
  [NS, 2103098691, "start"],
  [NS, 737643097, "start"],
  [NS, 870658415, who],
  [NS, 372565948, { vtype: 12, value: sid }],
  [NS, 1399987302, { ip: "192.0.2.10" }],
  [NS, 737643097, "stop"],
  [NS, 449538578, { vtype: 28, value: 0 }],
  [NS, 1716487530, "start"],
  [NS, 1037011282, { vtype: 28, value: 1 }],
  [NS, 1716487530, "stop"],
  [NS, 2103098691, "stop"],
];

/** The built-in demo: a CLI and a web session, commits with diffs, audit, HA and NETCONF stream events. */
export const DEMO_SCENARIO: Scenario = {
  loop: true,
  steps: [
    { type: "NOTIF_USER_SESSION", session_type: 1, uinfo: admin, database: 0, delayMs: 1000 },
    { type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: "assigned to groups: admin", delayMs: 500 },
    { type: "NOTIF_COMMIT_DIFF", database: 2, uinfo: admin, comment: "demo commit", label: "demo", diff: DEMO_DIFF, delayMs: 1500, wait: true },
    { type: "NOTIF_COMMIT_SIMPLE", database: 2, uinfo: admin, diff_available: 1, delayMs: 100 },
    { type: "NOTIF_STREAM_EVENT", stream: "NETCONF", values: configChange("admin", 59), delayMs: 100 },
    { type: "NOTIF_AUDIT", logno: 111, user: "admin", usid: 59, msg: "terminated session (reason: normal)", delayMs: 1500 },
    { type: "NOTIF_USER_SESSION", session_type: 2, uinfo: admin, database: 0, delayMs: 100 },
    { type: "NOTIF_USER_SESSION", session_type: 1, uinfo: webui, database: 0, delayMs: 1500 },
    { type: "NOTIF_HA_INFO", ha_type: 6, data: 0, delayMs: 1000 },
    { type: "NOTIF_DAEMON", logno: 20, prio: 6, msg: "NCS started vsn: 6.2.5", delayMs: 1000 },
    { type: "NOTIF_AUDIT_NETWORK", usid: 60, tid: 166, user: "oper", device: "ce0", config: "<rpc/>", delayMs: 1000 },
    { type: "NOTIF_USER_SESSION", session_type: 2, uinfo: webui, database: 0, delayMs: 1500 },
  ],
};

export function loadScenario(path: string): Scenario {
  const s = JSON.parse(readFileSync(path, "utf8")) as Scenario;
  if (!s || !Array.isArray(s.steps) || s.steps.some((st) => typeof st?.type !== "string")) {
    throw new Error(`${path}: a scenario is {"loop"?: boolean, "steps": [{"type": "NOTIF_...", ...}]}`);
  }
  return s;
}

/** Plays `scenario` on `sim` until `stop()`; errors of a bad step are reported through `onError`. */
export function runScenario(sim: NsoSimServer, scenario: Scenario, onError: (e: Error) => void = () => undefined): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let i = 0;
  const next = (): void => {
    if (stopped) return;
    if (i >= scenario.steps.length) {
      if (!scenario.loop) return;
      i = 0;
    }
    const step = scenario.steps[i++];
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      const { delayMs: _d, wait, ...spec } = step;
      let done: Promise<unknown> = Promise.resolve();
      try {
        const r = sim.inject(spec);
        if (wait ?? spec.type === "NOTIF_COMMIT_DIFF") done = r.done;
      } catch (e) {
        onError(e as Error);
      }
      done.then(next, next);
    }, step.delayMs ?? 1000);
    timer.unref?.();
  };
  next();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
