import { Term } from "../term/types";
import { SYSLOG_PRIORITY } from "./enums";
import { int, setEnum, text } from "./fields";

/**
 * DAEMON / NETCONF / DEVEL / JSONRPC / WEBUI `{T, Logno, Prio, Msg}` -> logno, prio (+ its
 * syslog name), msg. Which log it came from is the notification type.
 */
export function decodeSyslog(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = { logno: int(f[1], `${where}.logno`) };
  setEnum(out, "prio", int(f[2], `${where}.prio`), SYSLOG_PRIORITY);
  out.msg = text(f[3], `${where}.msg`);
  return out;
}
