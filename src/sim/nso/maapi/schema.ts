/**
 * The simulator's schema hash table (what LOAD_HASH_DB streams, docs/nso-maapi.md). The built-in pairs are the real NSO 6.2.5 hashes of the nodes our demo commits and
 * the NETCONF config-change stream event use (taken from the mode-0/mode-1 diffs and the
 * UseIKP 0/1 stream events of the capture), so a client that names those tags against the
 * simulator names them exactly as against a real NSO. Names the simulator learns from
 * scenario diffs get a stable FNV-1a hash; those numbers are the simulator's own.
 */
export const REAL_HASHES: ReadonlyArray<readonly [string, number]> = [
  ["http://tail-f.com/ns/ncs", 469622343],
  ["http://tail-f.com/ns/ncs-ned", 1227394550],
  ["urn:ietf:params:xml:ns:yang:ietf-netconf-acm", 1987107027],
  ["http://tail-f.com/yang/acm", 1103336897],
  ["urn:ietf:params:xml:ns:yang:ietf-netconf-notifications", 1244620176],
  ["devices", 270307409],
  ["global-settings", 992999221],
  ["connect-timeout", 171963197],
  ["trace", 1896625767],
  ["device", 617911018],
  ["name", 1998270519],
  ["authgroups", 145223189],
  ["group", 1540685982],
  ["default-map", 1605796887],
  ["remote-name", 734338841],
  ["remote-password", 929903810],
  ["ssh", 1331385911],
  ["host-key-verification", 1766459620],
  ["max-size", 1087447952],
  ["received-notifications", 142146125],
  ["notifications", 1624287573],
  ["netconf-notifications", 733095642],
  ["port", 10387472],
  ["authgroup", 135350492],
  ["state", 630973766],
  ["admin-state", 1519849494],
  ["address", 1266954393],
  ["ned-id", 1774190712],
  ["netconf", 1625535416],
  ["device-type", 1723459864],
  ["nacm", 882296017],
  ["groups", 575296803],
  ["user-name", 1672949661],
  ["rule-list", 755335822],
  ["rule", 661146188],
  ["context", 1600175075],
  ["action", 571883887],
  ["module-name", 1521916861],
  ["access-operations", 1622834780],
  ["netconf-config-change", 2103098691],
  ["changed-by", 737643097],
  ["username", 870658415],
  ["session-id", 372565948],
  ["source-host", 1399987302],
  ["datastore", 449538578],
  ["edit", 1716487530],
  ["target", 1914145912],
  ["operation", 1037011282],
  ["server-or-user", 524870219],
];

/** 32-bit FNV-1a of the name, kept below 2^31 so it never collides with the sign of an int32. */
export function simHash(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

export class SimHashTable {
  private readonly byName = new Map<string, number>();
  constructor(pairs: Iterable<readonly [string, number]> = REAL_HASHES) {
    for (const [n, h] of pairs) this.byName.set(n, h);
  }
  /** The hash of `name`, adding it (with a simulator hash) when it is new. */
  hashOf(name: string): number {
    let h = this.byName.get(name);
    if (h === undefined) {
      h = simHash(name);
      this.byName.set(name, h);
    }
    return h;
  }
  entries(): Array<[string, number]> {
    return [...this.byName.entries()];
  }
  get size(): number {
    return this.byName.size;
  }
}
