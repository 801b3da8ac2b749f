import { atom, Atom, ErlFloat, ImproperList, Term, Tuple, tuple } from "../../nso/term/types";
import { NOTIF_BITS } from "../../nso/constants";
import { datetimeTerm } from "../../nso/datetime";
import { snmpaTerm } from "./builders-snmpa";
import { asText } from "../../core/describe";

/**
 * Turns a notification spec (JSON from a scenario file or the control API) into the term
 * NSO 6.2.5 would send to one subscriber (docs/nso.md). Progress and
 * CQ-progress layouts depend on the subscriber's LIB_VSN (§10.1), so building is per subscriber.
 */
export type Spec = { type: string } & Record<string, unknown>;

export interface BuildContext {
  /** LIB_VSN the subscriber announced. */
  libVsn: number;
  /** For progress: the subscriber's mask decides the tag (§7 quirk). */
  mask: number;
}

const U = atom("undefined");
const bin = (v: unknown, dflt = ""): Buffer => Buffer.from(v === undefined || v === null ? dflt : asText(v), "utf8");
const int = (v: unknown, dflt: number): number => {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`expected an integer, got ${JSON.stringify(v)}`);
  return n;
};
const optBin = (v: unknown): Term => (v === undefined || v === null ? U : bin(v));

export function ipTerm(ip: unknown): Tuple {
  const s = asText(ip ?? "127.0.0.1");
  if (s.includes(":")) {
    const [head, tail] = s.split("::");
    const h = head ? head.split(":") : [];
    const t = tail !== undefined && tail ? tail.split(":") : [];
    const fill = tail !== undefined ? new Array(8 - h.length - t.length).fill("0") : [];
    const parts = [...h, ...fill, ...t].map((x) => parseInt(x || "0", 16));
    if (parts.length !== 8 || parts.some((p) => !(p >= 0 && p <= 0xffff))) throw new RangeError(`bad IPv6 address ${s}`);
    return new Tuple(parts);
  }
  const parts = s.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(Number.isInteger(p) && p >= 0 && p <= 255))) throw new RangeError(`bad IPv4 address ${s}`);
  return new Tuple(parts);
}

/** uinfo 10-tuple (§6); the context is an atom, as a real 6.2.5 sends it (§15). */
export function uinfoTerm(u: Record<string, unknown> = {}): Tuple {
  return tuple(
    int(u.usid, 59),
    bin(u.username ?? u.user, "admin"),
    bin(u.clearpass, ""),
    atom(asText(u.context ?? "cli")),
    int(u.proto, 4),
    ipTerm(u.ip),
    int(u.port, 0),
    int(u.logintime, Math.floor(Date.now() / 1000)),
    bin(u.snmp_v3_ctx, ""),
    int(u.flags, 0),
  );
}

/**
 * A value in a stream event's tagged-value list, from JSON: "start"/"stop"/"leaf"/"delete"/
 * "not_found" are atoms, other strings binaries, numbers integers, `{ip: "..."}` an IP tuple,
 * `{vtype: N, value: X}` a typed `{N, X}`, arrays a leaf-list.
 */
function streamValue(v: unknown): Term {
  if (typeof v === "string") return ["start", "stop", "leaf", "delete", "not_found", "true", "false"].includes(v) ? atom(v) : bin(v);
  if (typeof v === "number") return Number.isInteger(v) ? v : new ErlFloat(v);
  if (typeof v === "boolean") return atom(String(v));
  if (Array.isArray(v)) return v.map(streamValue);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("ip" in o) return ipTerm(o.ip);
    if ("vtype" in o) return tuple(int(o.vtype, 5), streamValue(o.value));
    if ("tuple" in o && Array.isArray(o.tuple)) return new Tuple(o.tuple.map(streamValue));
  }
  throw new RangeError(`unsupported stream value ${JSON.stringify(v)}`);
}

/** `[{[Ns|Tag], V}]` from `[[ns, tag, value], ...]` (hashes as numbers; ns null = no namespace). */
export function streamValues(values: unknown): Term[] {
  if (!Array.isArray(values)) throw new RangeError("stream event values must be an array of [ns, tag, value]");
  return values.map((e) => {
    if (!Array.isArray(e) || e.length !== 3) throw new RangeError("each stream value is [ns, tag, value]");
    const ns: Term = e[0] === null ? [] : int(e[0], 0);
    return tuple(new ImproperList([ns], int(e[1], 0)), streamValue(e[2]));
  });
}

function progressTerm(s: Spec, ctx: BuildContext): Tuple {
  const type = int(s.ptype ?? s.progress_type, 3);
  const ts = s.timestamp !== undefined ? BigInt(asText(s.timestamp)) : BigInt(Date.now()) * 1000n;
  const duration: Term = s.duration === undefined ? U : int(s.duration, 0);
  const attrs = (Array.isArray(s.attributes) ? s.attributes : []).map((a: unknown) => {
    const [k, v] = a as [string, unknown];
    return tuple(k.startsWith(":") ? atom(k.slice(1)) : bin(k), typeof v === "number" ? v : bin(v));
  });
  const links = (Array.isArray(s.links) ? s.links : []).map((l: unknown) => {
    const [t, sp] = l as [string, string];
    return tuple(bin(t), bin(sp));
  });
  const bigTs: Term = ts <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ts) : ts;
  if (ctx.libVsn >= 0x08010000) {
    return tuple(
      type,
      bigTs,
      duration,
      optBin(s.trace_id),
      optBin(s.span_id),
      optBin(s.parent_span_id),
      int(s.usid, 0),
      int(s.tid, 0),
      int(s.datastore, 2),
      optBin(s.context),
      optBin(s.subsystem),
      optBin(s.msg),
      optBin(s.annotation),
      attrs,
      links,
    );
  }
  // Previous generation (0x07070000 <= LIB_VSN < 0x08010000): 12 + 7 NSO fields (§7.1, §15).
  return tuple(
    type,
    bigTs,
    duration,
    int(s.usid, 0),
    int(s.tid, 0),
    int(s.datastore, 2),
    optBin(s.context),
    optBin(s.trace_id),
    optBin(s.subsystem),
    optBin(s.phase),
    optBin(s.msg),
    optBin(s.annotation),
    optBin(s.service),
    optBin(s.service_phase),
    optBin(s.commit_queue_id),
    optBin(s.node),
    optBin(s.device),
    optBin(s.device_phase),
    optBin(s.package),
  );
}

/** The term for `spec` as seen by one subscriber; throws RangeError on a spec it cannot build. */
export function buildNotification(spec: Spec, ctx: BuildContext): Term {
  const B = NOTIF_BITS;
  switch (spec.type) {
    case "NOTIF_AUDIT":
      return tuple(B.NOTIF_AUDIT, int(spec.logno, 116), bin(spec.user, "admin"), int(spec.usid, 59), bin(spec.msg, "assigned to groups: admin"));
    case "NOTIF_DAEMON":
    case "NOTIF_NETCONF":
    case "NOTIF_DEVEL":
    case "NOTIF_JSONRPC":
    case "NOTIF_WEBUI":
      return tuple(B[spec.type], int(spec.logno, spec.type === "NOTIF_NETCONF" ? 86 : 1), int(spec.prio, 6), bin(spec.msg, "event"));
    case "NOTIF_COMMIT_SIMPLE":
      return tuple(
        B.NOTIF_COMMIT_SIMPLE,
        int(spec.database, 2),
        uinfoTerm(spec.uinfo as Record<string, unknown>),
        int(spec.diff_available, 1),
        int(spec.flags, 0),
      );
    case "NOTIF_COMMIT_DIFF":
      return tuple(
        B.NOTIF_COMMIT_DIFF,
        int(spec.database, 2),
        uinfoTerm(spec.uinfo as Record<string, unknown>),
        int(spec.th, 119),
        int(spec.flags, 0),
        bin(spec.comment, ""),
        bin(spec.label, ""),
      );
    case "NOTIF_USER_SESSION":
      return tuple(B.NOTIF_USER_SESSION, int(spec.session_type ?? spec.stype, 1), uinfoTerm(spec.uinfo as Record<string, unknown>), int(spec.database, 0));
    case "NOTIF_HA_INFO": {
      const t = int(spec.ha_type, 6);
      let data: Term = int(spec.data, 0);
      if (t === 2 || t === 3) data = tuple(bin(spec.nodeid, "node-b"), ipTerm(spec.ip ?? "10.0.0.2"));
      return tuple(B.NOTIF_HA_INFO, tuple(t, data));
    }
    case "NOTIF_SUBAGENT_INFO":
      return tuple(B.NOTIF_SUBAGENT_INFO, tuple(int(spec.subagent_type, 1), bin(spec.name, "subagent")));
    case "NOTIF_UPGRADE_EVENT":
      return tuple(B.NOTIF_UPGRADE_EVENT, int(spec.event, 1));
    case "NOTIF_HEARTBEAT":
    case "NOTIF_HEALTH_CHECK":
    case "NOTIF_PACKAGE_RELOAD":
    case "NOTIF_REOPEN_LOGS":
      return tuple(B[spec.type]);
    case "NOTIF_PROGRESS":
    case "NOTIF_COMMIT_PROGRESS": {
      // A COMMIT_PROGRESS-only subscriber with a new LIB_VSN gets tag 65536, everyone else 16777216 (§7).
      const commitOnly = (ctx.mask & B.NOTIF_PROGRESS) === 0;
      const tag = commitOnly && ctx.libVsn >= 0x08010000 ? B.NOTIF_COMMIT_PROGRESS : B.NOTIF_PROGRESS;
      return tuple(tag, progressTerm(spec, ctx));
    }
    case "NOTIF_AUDIT_NETWORK":
      return tuple(
        B.NOTIF_AUDIT_NETWORK,
        tuple(int(spec.usid, 83), int(spec.tid, 166), bin(spec.user, "admin"), bin(spec.device, "d0"), optBin(spec.trace_id), bin(spec.config, "<rpc/>")),
      );
    case "NOTIF_COMPACTION":
      return tuple(
        B.NOTIF_COMPACTION,
        int(spec.dbfile, 2),
        int(spec.compaction_type, 1),
        int(spec.fsize_start, 4096),
        int(spec.fsize_end, 2048),
        int(spec.fsize_last, 4096),
        Date.now() * 1000,
        int(spec.duration, 1500),
        int(spec.ntrans, 10),
      );
    case "NOTIF_CQ_PROGRESS": {
      const ts = datetimeTerm(new Date());
      const tag: Term = spec.cq_tag === undefined ? U : bin(spec.cq_tag);
      const list = (k: string): unknown[] => {
        const v = spec[k];
        if (v !== undefined && !Array.isArray(v)) throw new RangeError(`CQ progress ${k} must be an array`);
        return v ?? [];
      };
      const devs = (k: string): Term[] => list(k).map((d) => bin(d));
      const names = (v: unknown, k: string): Term[] => {
        if (!Array.isArray(v)) throw new RangeError(`CQ progress ${k}: a device list must be an array`);
        return v.map((d) => bin(d));
      };
      // §7.2: Failed `{Device, Reason}`, CompletedServices `{Service, Devices}`, FailedServices `{Service, Completed, Failed}`.
      const failed = list("failed").map((e) => {
        const [d, r] = Array.isArray(e) ? e : [(e as Record<string, unknown>)?.device, (e as Record<string, unknown>)?.reason];
        return tuple(bin(d), bin(r, "failed"));
      });
      const completedServices = list("completed_services").map((e) => {
        const [svc, d] = e as [unknown, unknown];
        return tuple(bin(svc), names(d ?? [], "completed_services"));
      });
      const failedServices = list("failed_services").map((e) => {
        const [svc, done, bad] = e as [unknown, unknown, unknown];
        return tuple(bin(svc), names(done ?? [], "failed_services"), names(bad ?? [], "failed_services"));
      });
      if (ctx.libVsn >= 0x07060000) {
        return tuple(
          B.NOTIF_CQ_PROGRESS,
          int(spec.cq_type, 4),
          ts,
          int(spec.cq_id, 1),
          tag,
          devs("completed"),
          devs("transient"),
          failed,
          completedServices,
          failedServices,
          optBin(spec.trace_id),
        );
      }
      return tuple(
        B.NOTIF_CQ_PROGRESS,
        int(spec.cq_type, 4),
        ts,
        tag,
        int(spec.cq_id, 1),
        devs("completed"),
        devs("transient"),
        failed,
        completedServices,
        failedServices,
      );
    }
    case "NOTIF_COMMIT_FAILED": {
      // §7: NETCONF (2) adds the peer `IpTuple, Port` ({0,0,0,0}, 0 when unknown), EXTERNAL (3) the daemon name.
      const provider = int(spec.provider, 2);
      const db = int(spec.dbname ?? spec.database, 2);
      if (provider === 2) return tuple(B.NOTIF_COMMIT_FAILED, provider, db, ipTerm(spec.ip ?? "0.0.0.0"), int(spec.port, 0));
      if (provider === 3) return tuple(B.NOTIF_COMMIT_FAILED, provider, db, bin(spec.daemon_name, "ext-db"));
      return tuple(B.NOTIF_COMMIT_FAILED, provider, db);
    }
    case "NOTIF_CONFIRMED_COMMIT":
      return tuple(B.NOTIF_CONFIRMED_COMMIT, int(spec.confirm_type, 1), int(spec.timeout, 600), uinfoTerm(spec.uinfo as Record<string, unknown>));
    case "NOTIF_FORWARD_INFO":
      return tuple(B.NOTIF_FORWARD_INFO, int(spec.forward_type, 1), bin(spec.target, "ce0"), uinfoTerm(spec.uinfo as Record<string, unknown>));
    case "NOTIF_CALL_HOME_INFO": {
      // Device is present for a known device that connected (type 1) only.
      const t = int(spec.call_home_type, 1);
      const key = spec.ssh_host_key === undefined ? Buffer.from("AAAAC3NzaC1lZDI1NTE5AAAAIDemo", "utf8") : bin(spec.ssh_host_key);
      const base = [B.NOTIF_CALL_HOME_INFO, t, ipTerm(spec.ip ?? "192.0.2.30"), int(spec.port, 4334), key, bin(spec.ssh_key_alg, "ssh-ed25519")] as Term[];
      return new Tuple(t === 1 ? [...base, bin(spec.device, "ce0")] : base);
    }
    case "NOTIF_SNMPA":
      return snmpaTerm(B.NOTIF_SNMPA, spec);
    default:
      throw new RangeError(`the simulator cannot build notification type ${JSON.stringify(spec.type)}`);
  }
}

/** The mask bit a spec is delivered under (progress is special-cased by the server). */
export function deliveryBit(type: string): number {
  const b = (NOTIF_BITS as Record<string, number>)[type];
  if (b === undefined) throw new RangeError(`unknown notification type ${JSON.stringify(type)}`);
  return b;
}

export { Atom };
