/**
 * Stream events rendered as NSO's own XML: instance-identifiers as prefixed paths with named
 * keys, enumerations and identityrefs by name. The input is the netconf-config-change event a
 * real NSO 6.2.5 sent (UseIKP 0: every tag and keypath step a hash), named with the real
 * hashes of that capture.
 */
import { strict as assert } from "node:assert";
import { ProtocolError } from "../../../src/core/errors";
import { HashDb } from "../../../src/nso/maapi/hash-db";
import { nameTagValues, renderNotificationXml } from "../../../src/nso/maapi/stream-names";
import { YangSchema, YangSchemaReader } from "../../../src/nso/maapi/yang-schema";
import { decodeNotification } from "../../../src/nso/notifications";
import { TagValue } from "../../../src/nso/notifications/values";
import { decodeTerm } from "../../../src/nso/term";
import { REAL_HASHES } from "../../../src/sim/nso/maapi/schema";
import { parseTermText, readFrames } from "./term-support";

const NCN = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications";
const NCS = "http://tail-f.com/ns/ncs";
const db = new HashDb(REAL_HASHES.map(([n, h]) => [h, n] as [number, string]));

/** The cli-commit event of the capture: admin set /devices/global-settings/connect-timeout. */
function realConfigChange(): TagValue[] {
  const f = readFrames().find((x) => x.name === "STREAM_EVENT" && x.subscriber === "streamnc" && x.trigger === "cli-commit");
  assert.ok(f?.bytes, "no cli-commit STREAM_EVENT frame in the capture");
  const n = decodeNotification(decodeTerm(f.bytes.subarray(4)), { libVsn: 0x08020500 });
  return n.payload.values as TagValue[];
}

/**
 * LOAD_ALL_NS items in the layout NSO 6.2.5 sends (name form): namespace headers, node records
 * `{node, Tagpath (reversed), TypeRef, Primitive, Default, Min, Max, Children, Keys, Flags,
 * Actions, Cmp, Notifs, MetaData, MountId}` and type records with enumeration facets. The
 * values are those of the YANG modules (ietf-netconf-notifications, ietf-netconf, tailf-ncs).
 */
const SCHEMA_TEXT = `[
  {ns,'urn:ietf:params:xml:ns:netconf:base:1.0',nc,1109124855,<<"2011-06-01">>,<<"ietf-netconf">>},
  {type,'edit-operation-type',derived,{restriction,{'',string},[{enumeration,<<"merge">>,0},{enumeration,<<"replace">>,1},{enumeration,<<"create">>,2},{enumeration,<<"delete">>,3},{enumeration,<<"remove">>,4}]}},
  end_of_ns,
  {ns,'${NCN}',ncn,1244620176,<<"2012-02-06">>,<<"ietf-netconf-notifications">>},
  {node,[],undefined,2,undefined,1,1,[],[],2,[],0,[],[],undefined},
  {node,['netconf-config-change'],undefined,2,undefined,0,1,['changed-by',datastore,edit],[],256,[],0,[],[],undefined},
  {node,[datastore,'netconf-config-change'],t2150244354,28,{28,0},0,1,[],[],0,[],0,[],[],undefined},
  {node,[edit,'netconf-config-change'],undefined,2,undefined,0,unbounded,[target,operation],[],1,[],0,[],[],undefined},
  {node,[operation,edit,'netconf-config-change'],{'urn:ietf:params:xml:ns:netconf:base:1.0','edit-operation-type'},28,undefined,0,1,[],[],0,[],0,[],[],undefined},
  {type,t2150244354,derived,{restriction,{'',string},[{enumeration,<<"running">>,0},{enumeration,<<"startup">>,1}]}},
  end_of_ns,
  {ns,'${NCS}',ncs,469622343,<<"2024-04-09">>,<<"tailf-ncs">>},
  {node,[devices],undefined,2,undefined,1,1,[device,'global-settings'],[],260,[],0,[],[],undefined},
  {node,[device,devices],undefined,2,undefined,0,unbounded,[name,address],[name],5,[],0,[],[],undefined},
  {node,['admin-state',state,device,devices],'admin-state',28,undefined,0,1,[],[],6,[],0,[],[],undefined},
  {type,'admin-state',derived,{restriction,'admin-state-base',[]}},
  {type,'admin-state-base',derived,{restriction,{'',string},[{enumeration,<<"locked">>,0},{enumeration,<<"unlocked">>,1},{enumeration,<<"southbound-locked">>,2}]}},
  end_of_ns,
  eof]`;

function schema(): YangSchema {
  const rd = new YangSchemaReader();
  assert.equal(rd.add(parseTermText(SCHEMA_TEXT)), true);
  return rd.schema;
}

const typed = (type: string, value: unknown): TagValue["value"] => ({ type, value }) as TagValue["value"];
const NCS_HASH = 469622343;

describe("nso stream names: NSO's own XML for a real netconf-config-change", () => {
  it("renders the instance-identifier as its path and the enumerations by name", () => {
    const named = nameTagValues(realConfigChange(), db, schema());
    assert.equal(
      renderNotificationXml(named),
      `<netconf-config-change xmlns="${NCN}">` +
        "<changed-by><username>admin</username><session-id>0</session-id><source-host>127.0.0.1</source-host></changed-by>" +
        "<datastore>running</datastore>" +
        `<edit><target xmlns:ncs="${NCS}">/ncs:devices/ncs:global-settings/ncs:connect-timeout</target><operation>replace</operation></edit>` +
        "</netconf-config-change>",
    );
    // The values keep their raw form beside the text.
    const ds = named.find((v) => v.name === "datastore")!;
    assert.deepEqual(ds.value, { type: "C_ENUM_VALUE", value: 0, label: "running" });
    const target = named.find((v) => v.name === "target")!.value as Record<string, unknown>;
    assert.equal(target.path, "/ncs:devices/ncs:global-settings/ncs:connect-timeout");
    assert.deepEqual(target.xmlns, { ncs: NCS });
    assert.ok(Array.isArray(target.value));
  });

  it("without the schema: the path still reads (well-known prefixes), enumerations stay numbers", () => {
    const xml = renderNotificationXml(nameTagValues(realConfigChange(), db));
    assert.match(xml, /<target xmlns:ncs="http:\/\/tail-f.com\/ns\/ncs">\/ncs:devices\/ncs:global-settings\/ncs:connect-timeout<\/target>/);
    assert.match(xml, /<datastore>0<\/datastore>/);
  });

  it("list keys become named predicates; without key names they are shown in braces", () => {
    const kp = (key: string): TagValue[] => [
      { ns: 1244620176, tag: 1914145912, value: typed("C_OBJECTREF", [{ keys: [key] }, { tag: 617911018 }, { ns: NCS_HASH, tag: 270307409 }]) },
    ];
    const s = schema();
    const path = (key: string, sc?: YangSchema): unknown => (nameTagValues(kp(key), db, sc)[0].value as Record<string, unknown>).path;
    assert.equal(path("d1", s), "/ncs:devices/ncs:device[ncs:name='d1']");
    assert.equal(path("it's", s), `/ncs:devices/ncs:device[ncs:name="it's"]`);
    assert.equal(path(`a'b"c`, s), `/ncs:devices/ncs:device[ncs:name=concat('a', "'", 'b"c')]`);
    assert.equal(path("d1"), "/ncs:devices/ncs:device{d1}");
    assert.equal(
      renderNotificationXml(nameTagValues(kp("<d>"), db, s)),
      `<target xmlns="${NCN}" xmlns:ncs="${NCS}">/ncs:devices/ncs:device[ncs:name='&lt;d&gt;']</target>`,
    );
  });

  it("enumerations follow typedef chains; names given by UseIKP 1 work the same", () => {
    const values: TagValue[] = [
      { ns: NCS, tag: "devices", value: { type: "C_XMLBEGIN" } },
      { ns: 0, tag: "device", value: { type: "C_XMLBEGIN" } },
      { ns: 0, tag: "state", value: { type: "C_XMLBEGIN" } },
      { ns: 0, tag: "admin-state", value: typed("C_ENUM_VALUE", 2) },
      { ns: 0, tag: "state", value: { type: "C_XMLEND" } },
      { ns: 0, tag: "device", value: { type: "C_XMLEND" } },
      { ns: NCS, tag: "devices", value: { type: "C_XMLEND" } },
    ];
    assert.equal(
      renderNotificationXml(nameTagValues(values, undefined, schema())),
      `<devices xmlns="${NCS}"><device><state><admin-state>southbound-locked</admin-state></state></device></devices>`,
    );
  });

  it("an identityref is prefix:name with its namespace declared", () => {
    const alarmsNs = "http://tail-f.com/ns/ncs-alarms";
    const ids = new HashDb([
      [311814602, alarmsNs],
      [603012695, "connection-failure"],
      [2040883914, "type"],
    ]);
    const named = nameTagValues([{ ns: 311814602, tag: 2040883914, value: typed("C_IDENTITYREF", { ns: 311814602, id: 603012695 }) }], ids);
    assert.equal(renderNotificationXml(named), `<type xmlns="${alarmsNs}" xmlns:ncs-alarms="${alarmsNs}">ncs-alarms:connection-failure</type>`);
  });
});

describe("nso LOAD_ALL_NS reader", () => {
  it("reads the real first frame's records: prefix of the namespace, keyless lists, no labels", () => {
    // The head of the first LOAD_ALL_NS frame a real NSO 6.2.5 sent (tailf-rest-query).
    const rd = new YangSchemaReader();
    const head = parseTermText(
      `[{ns,'http://tail-f.com/ns/tailf-rest-query',tfrestq,122770391,<<"2023-04-13">>,<<"tailf-rest-query">>},{node,[],undefined,2,undefined,1,1,[],[],2,[],0,[],[],undefined},{node,['start-query'],undefined,2,undefined,0,1,[foreach,select,'sort-by',limit,offset,timeout],[],256,[],0,[],[],undefined},{node,[timeout,'start-query'],t1011615198,12,{12,600},0,1,[],[],0,[],0,[],[],undefined},{node,[select,'start-query'],undefined,2,undefined,0,unbounded,[label,expression,'result-type'],[],1,[],0,[],[],undefined},{node,[expression,select,'start-query'],{'urn:ietf:params:xml:ns:yang:ietf-yang-types','xpath1.0'},5,undefined,1,1,[],[],0,[],0,[],[],undefined}]`,
    );
    assert.equal(rd.add(head), false);
    assert.equal(rd.schema.prefix("http://tail-f.com/ns/tailf-rest-query"), "tfrestq");
    assert.equal(rd.schema.listKeys.size, 0);
    assert.equal(rd.schema.enumLeaves.size, 0);
    assert.equal(rd.add(parseTermText("[end_of_ns, eof]")), true);
  });

  it("refuses items after eof and records it cannot read, with a ProtocolError", () => {
    const rd = new YangSchemaReader();
    rd.add(parseTermText("[eof]"));
    assert.throws(() => rd.add(parseTermText("[end_of_ns]")), ProtocolError);
    assert.throws(() => new YangSchemaReader().add(parseTermText("[{node,[a],undefined,2,undefined,1,1,[],[],2}]")), /outside a namespace/);
    assert.throws(() => new YangSchemaReader().add(parseTermText('[{ns,<<"x">>,p,1,<<>>,<<>>}]')), ProtocolError);
  });
});
