import { Term } from "../term/types";
import { binaryToJson } from "../term/json";
import { CALL_HOME_TYPE } from "./enums";
import { bad, int, kindOf, setEnum, setIp, text } from "./fields";

/**
 * CALL_HOME_INFO `{33554432, Type, IpTuple, Port, SshHostKey, SshKeyAlg[, Device]}` (Device
 * present for a connected known device) -> type, device, af, ip4|ip6, port, ssh_host_key,
 * ssh_key_alg. Not producible on a single NSO node (§15): built from [BEAM] and the C API.
 */
export function decodeCallHome(f: Term[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setEnum(out, "type", int(f[1], `${where}.type`), CALL_HOME_TYPE);
  if (f.length === 7) out.device = text(f[6], `${where}.device`);
  setIp(out, f[2], `${where}.ip`);
  out.port = int(f[3], `${where}.port`);
  const key = f[4];
  if (!Buffer.isBuffer(key)) bad(`${where}.ssh_host_key`, `expected a binary, got ${kindOf(key)}`);
  out.ssh_host_key = binaryToJson(key);
  out.ssh_key_alg = text(f[5], `${where}.ssh_key_alg`);
  return out;
}
