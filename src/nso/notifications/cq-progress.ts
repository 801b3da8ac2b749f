import { Atom, Term, Tuple } from "../term/types";
import { CQ_PROGRESS_TYPE } from "./enums";
import { bad, bigInt, int, kindOf, listOf, optText, setDatetime, setEnum, setOpt, text, tupleOf } from "./fields";

/**
 * CQ_PROGRESS (§7.2), commit-queue item life cycle. Two layouts, told apart by arity:
 *  - 11 elements (LIB_VSN >= 0x07060000): `{Tag, Type, Timestamp, CqId, CqTag, Completed,
 *    Transient, Failed, CompletedServices, FailedServices, TraceId}`
 *  - 10 elements (older): no TraceId, and CqTag/CqId swapped (CqTag at 4, CqId at 5).
 * -> type, timestamp (ISO 8601 + timestampParts), cq_id, cq_tag (when set), completed_devices,
 * transient_devices, failed_devices + failed_reasons, completed_services +
 * completed_services_completed_devices, failed_services + failed_services_completed_devices +
 * failed_services_failed_devices, trace_id (when set). The lists are always present (empty
 * when NSO sent none) so a flow never has to test for them. A transient entry of the form
 * `{Device, Reason}` (newer NSO, layout unconfirmed) also fills transient_reasons.
 */
export function decodeCqProgress(f: Term[], where: string): Record<string, unknown> {
  const old = f.length === 10;
  const out: Record<string, unknown> = {};
  setEnum(out, "type", int(f[1], `${where}.type`), CQ_PROGRESS_TYPE);
  setDatetime(out, "timestamp", f[2], `${where}.timestamp`);
  const [idTerm, tagTerm] = old ? [f[4], f[3]] : [f[3], f[4]];
  out.cq_id = bigInt(idTerm, `${where}.cq_id`);
  setOpt(out, "cq_tag", optText(tagTerm, `${where}.cq_tag`));
  out.completed_devices = names(f[5], `${where}.completed_devices`);

  const transient: string[] = [];
  const transientReasons: string[] = [];
  listOf(f[6], `${where}.transient_devices`).forEach((t, i) => {
    const w = `${where}.transient_devices[${i}]`;
    if (t instanceof Tuple) {
      const [dev, reason] = tupleOf(t, [2], w);
      transient.push(text(dev, w));
      transientReasons.push(text(reason, `${w}.reason`));
    } else transient.push(text(t, w));
  });
  out.transient_devices = transient;
  if (transientReasons.length > 0) out.transient_reasons = transientReasons;

  const failed: string[] = [];
  const reasons: string[] = [];
  listOf(f[7], `${where}.failed_devices`).forEach((t, i) => {
    const [dev, reason] = tupleOf(t, [2], `${where}.failed_devices[${i}]`);
    failed.push(text(dev, `${where}.failed_devices[${i}]`));
    reasons.push(text(reason, `${where}.failed_reasons[${i}]`));
  });
  out.failed_devices = failed;
  out.failed_reasons = reasons;

  const cs: string[] = [];
  const csDevices: string[][] = [];
  listOf(f[8], `${where}.completed_services`).forEach((t, i) => {
    const [svc, devs] = tupleOf(t, [2], `${where}.completed_services[${i}]`);
    cs.push(text(svc, `${where}.completed_services[${i}]`));
    csDevices.push(names(devs, `${where}.completed_services_completed_devices[${i}]`));
  });
  out.completed_services = cs;
  out.completed_services_completed_devices = csDevices;

  const fs: string[] = [];
  const fsCompleted: string[][] = [];
  const fsFailed: string[][] = [];
  listOf(f[9], `${where}.failed_services`).forEach((t, i) => {
    const [svc, done, failedDevs] = tupleOf(t, [3], `${where}.failed_services[${i}]`);
    fs.push(text(svc, `${where}.failed_services[${i}]`));
    fsCompleted.push(names(done, `${where}.failed_services_completed_devices[${i}]`));
    fsFailed.push(names(failedDevs, `${where}.failed_services_failed_devices[${i}]`));
  });
  out.failed_services = fs;
  out.failed_services_completed_devices = fsCompleted;
  out.failed_services_failed_devices = fsFailed;

  if (!old) setOpt(out, "trace_id", optText(f[10], `${where}.trace_id`));
  return out;
}

/** A list of device names; a `{Device, Reason}` entry contributes its device. */
function names(t: Term, where: string): string[] {
  return listOf(t, where).map((x, i) => {
    if (x instanceof Tuple && x.elements.length >= 1) return text(x.elements[0], `${where}[${i}]`);
    if (Buffer.isBuffer(x) || x instanceof Atom || typeof x === "string") return text(x, `${where}[${i}]`);
    return bad(`${where}[${i}]`, `expected a device name, got ${kindOf(x)}`);
  });
}
