import { Term } from "../term/types";
import { int, optText, setOpt, text, tupleOf } from "./fields";

/** AUDIT `{1, Logno, User, Usid, Msg}` -> logno, user, usid, msg. The ack (AUDIT_SYNC) needs `usid`. */
export function decodeAudit(f: Term[], where: string): Record<string, unknown> {
  return {
    logno: int(f[1], `${where}.logno`),
    user: text(f[2], `${where}.user`),
    usid: int(f[3], `${where}.usid`),
    msg: text(f[4], `${where}.msg`),
  };
}

/**
 * AUDIT_NETWORK `{268435456, {Usid, Tid, User, Device, TraceId, Config}}` -> usid, tid, user,
 * device, trace_id (when set), config. The ack (AUDIT_NETWORK_SYNC) needs `usid`.
 */
export function decodeAuditNetwork(f: Term[], where: string): Record<string, unknown> {
  const g = tupleOf(f[1], [6], `${where}[1]`);
  const out: Record<string, unknown> = {
    usid: int(g[0], `${where}.usid`),
    tid: int(g[1], `${where}.tid`),
    user: text(g[2], `${where}.user`),
    device: text(g[3], `${where}.device`),
  };
  // TraceId may be a non-binary (atom/[]) when absent [SRC Java].
  setOpt(out, "trace_id", optText(g[4], `${where}.trace_id`));
  out.config = text(g[5], `${where}.config`);
  return out;
}
