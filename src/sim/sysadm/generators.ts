import { randomUUID } from "node:crypto";

/**
 * Event payloads in the shapes the real server produces (§4.3–4.5), for the simulator's
 * generators and control API. Field names and string-typed values are the server's own.
 */

const CATEGORY = ["Information", "Information", "Information", "Warning", "Warning", "Warning", "Critical", "Critical", "Critical", "Urgent", "Urgent"];

export function priorityString(level: number): string {
  const n = Math.min(10, Math.max(0, Math.round(level)));
  return `${n} - ${CATEGORY[n]}`;
}

/** ISO-8601 local time without offset, as the dispatcher writes it. */
export function localIso(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function lpStamp(d = new Date()): string {
  // lpreserver writes `date` output at the start of each line: "Mon Jan 18 10:00:00 UTC 2016".
  const [wd, day, mon, year, time] = d.toUTCString().replace(",", "").split(" ");
  return `${wd} ${mon} ${day} ${time} UTC ${year}`;
}

export type LifePreserverKind = "snapshot" | "replication-start" | "replication-finished" | "replication-failed" | "replication-progress";
export const LIFE_PRESERVER_KINDS: readonly LifePreserverKind[] = [
  "snapshot",
  "replication-start",
  "replication-finished",
  "replication-failed",
  "replication-progress",
];

/** The five life-preserver messages (§4.4); dataset names are lower-cased like the server does. */
export function lifePreserverEvent(kind: LifePreserverKind, dataset = "tank/home", target = "backup.example.net"): Record<string, string> {
  const ds = dataset.toLowerCase();
  const ts = lpStamp();
  switch (kind) {
    case "snapshot":
      return { class: "snapshot", message: `${ts}: New snapshot of ${ds}`, priority: priorityString(1) };
    case "replication-start":
      return { class: "replication", message: `${ts}: Starting replication for ${target}`, priority: priorityString(1) };
    case "replication-finished":
      return { class: "replication", message: `${ts}: Finished replication for ${ds}`, priority: priorityString(1) };
    case "replication-failed":
      return {
        class: "replication",
        message: `${ts}: Replication Failed for ${ds}\nLogfile available at: /var/log/lpreserver/lpreserver_failed.log`,
        priority: priorityString(7),
      };
    case "replication-progress": {
      const total = 4096;
      const done = Math.floor(Math.random() * total);
      return { class: "replication", message: `Replicating ${ds}: ${done}M/${total}M (${Math.floor((done * 100) / total)}%)`, priority: priorityString(0) };
    }
  }
}

export interface SystemStateOptions {
  hostname: string;
  hostnameChanged?: boolean;
  /** Pool capacity in percent; above 90 raises priority to 6. */
  capacity?: number;
  health?: string;
  updates?: "noupdates" | "updatesavailable" | "rebootrequired" | "updaterunning" | "checkingforupdates" | null;
  /** Leave zpools out (a host without ZFS), giving the minimal form. */
  noZpools?: boolean;
}

/** A system-state report with the overall priority computed like the server does (§4.5). */
export function systemStateEvent(o: SystemStateOptions): Record<string, unknown> {
  const args: Record<string, unknown> = { hostname: o.hostname };
  let level = 0;
  if (o.hostnameChanged) {
    args.hostnamechanged = "true";
    level = Math.max(level, 3);
  }
  if (!o.noZpools) {
    const capacity = Math.round(o.capacity ?? 12);
    const health = o.health ?? "ONLINE";
    const size = 107;
    const alloc = (size * capacity) / 100;
    args.zpools = {
      tank: {
        size: `${size}G`,
        alloc: `${alloc.toFixed(1)}G`,
        free: `${(size - alloc).toFixed(1)}G`,
        frag: "6%",
        expandsz: "-",
        dedup: "1.00x",
        altroot: "-",
        capacity: `${capacity}%`,
        health,
      },
    };
    if (capacity > 90) level = Math.max(level, 6);
    if (health !== "ONLINE") level = Math.max(level, 9);
  }
  if (o.updates) {
    args.updates = { status: o.updates, details: o.updates === "noupdates" ? "" : "pkg: 3 packages to upgrade", last_check: localIso() };
    if (o.updates !== "noupdates") level = Math.max(level, 2);
    if (o.updates === "rebootrequired") level = Math.max(level, 9);
  }
  args.priority = priorityString(level);
  return args;
}

/** A dispatcher job as the sequence of event payloads the server sends for it (§4.3). */
export function genericJobEvents(processId: string, commands: string[]): Array<Record<string, unknown>> {
  const started = localIso();
  const finished: Record<string, unknown> = { cmd_list: commands, process_id: processId, state: "finished", time_started: started };
  for (const cmd of commands) {
    const { output, code } = runFakeCommand(cmd);
    finished[cmd] = output;
    finished[`return_codes/${cmd}`] = String(code);
    if (code !== 0) break; // a chain stops at the first failing command
  }
  finished.time_finished = localIso();
  return [{ process_id: processId, state: "running" }, finished];
}

/** `echo x` prints x, `false` fails, `sleep n` prints nothing, anything else "ok". */
function runFakeCommand(cmd: string): { output: string; code: number } {
  if (cmd === "false") return { output: "", code: 1 };
  if (cmd.startsWith("echo ")) return { output: `${cmd.slice(5)}\n`, code: 0 };
  if (cmd.startsWith("sleep ")) return { output: "", code: 0 };
  return { output: "ok\n", code: 0 };
}

/** A pkg subsystem job: pending, start, running with incremental output, finished with the full log. */
export function pkgJobEvents(pkg = "nano", steps = 3): Array<Record<string, unknown>> {
  const id = `sysadm_pkg_install-{${randomUUID()}}`;
  const cmd = `pkg install -y ${pkg}`;
  const started = localIso();
  const lines = [
    `Updating FreeBSD repository catalogue...`,
    `The following 1 package(s) will be affected:`,
    `[1/1] Installing ${pkg}...`,
    `[1/1] Extracting ${pkg}: 100%`,
  ].slice(0, Math.max(1, steps));
  const out: Array<Record<string, unknown>> = [];
  const details = (state: string, chunk: string, extra: Record<string, unknown> = {}) => ({
    process_id: id,
    state,
    cmd_list: [cmd],
    current_cmd: cmd,
    time_started: started,
    [cmd]: chunk,
    ...extra,
  });
  out.push({
    event_system: "sysadm/pkg",
    state: "pending",
    action: "pkg_install",
    pkg_log: "",
    process_details: { process_id: id, state: "pending", cmd_list: [cmd] },
  });
  out.push({ process_id: id, state: "running" });
  let log = "";
  for (const line of lines) {
    log += `${line}\n`;
    out.push({ event_system: "sysadm/pkg", state: "running", action: "pkg_install", pkg_log: log, process_details: details("running", `${line}\n`) });
  }
  out.push({
    event_system: "sysadm/pkg",
    state: "finished",
    action: "pkg_install",
    pkg_log: log,
    process_details: details("finished", log, { [`return_codes/${cmd}`]: "0", time_finished: localIso() }),
  });
  return out;
}
