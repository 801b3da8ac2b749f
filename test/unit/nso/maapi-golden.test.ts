/**
 * Golden vectors from a real NSO 6.2.5 (nso-maapi-frames.txt): every MAAPI frame decodes to
 * what the capture says, every request our encoder builds is byte-identical to the real
 * client's, and our client replayed against NSO's captured answers sends exactly the bytes
 * econfd / the raw client sent.
 */
import { strict as assert } from "node:assert";
import { encodeTerm } from "../../../src/nso/term";
import type { Term } from "../../../src/nso/term/types";
import {
  parseSubtree,
  decodeDiffItem,
  encodeDiffIter,
  encodeIterReply,
  encodeRequest,
  ITER_RECURSE,
  ITER_STOP,
  maapiHeader,
  MaapiClient,
  MaapiConnection,
  parseReply,
  readCommitDiff,
  topFirst,
} from "../../../src/nso/maapi";
import { canonicalTerm, parseTermText } from "./term-support";
import { conversation, MaapiFrame, readMaapiFrames, ReplayServer } from "./maapi-support";

const frames = readMaapiFrames();
const maapi = frames.filter((f) => f.conn.startsWith("ma") && f.bytes !== null && f.step !== "HANDSHAKE_HEADER" && f.step !== "VERSION_REPLY");

describe("nso maapi: golden frames from a real NSO 6.2.5", () => {
  it("reads the whole capture (P01-P22 with sub-phases: 30, every MAAPI frame length-prefixed)", () => {
    assert.equal(new Set(frames.map((f) => f.phase)).size, 30);
    assert.ok(maapi.length > 1200, `${maapi.length} MAAPI frames`);
    for (const f of maapi) if (!f.truncated) assert.equal(f.bytes!.readUInt32BE(0), f.bytes!.length - 4, `line ${f.line}`);
  });

  it("every server frame parses into the reply form the capture names", () => {
    let terms = 0;
    let echoes = 0;
    let errors = 0;
    for (const f of maapi.filter((x) => x.dir === "in" && !x.truncated)) {
      const r = parseReply(f.bytes!.subarray(4));
      const c = f.comment!;
      const err = /^<<\((\d+) bor 16#80000000\):32, Ecode=(\d+):32>> \+\+ <<(?:"(.*)",)?0>>$/.exec(c);
      if (err) {
        assert.equal(r.kind, "error", `line ${f.line}`);
        if (r.kind === "error") {
          assert.equal(r.op, Number(err[1]));
          assert.equal(r.ecode, Number(err[2]));
          assert.equal(r.text, err[3] ?? "", "the trailing NUL is stripped");
        }
        errors++;
      } else if (/^<<(\d+):32>>( \(ok, no term\)| \+\+ .*)$/.test(c)) {
        const m = /^<<(\d+):32>>(?: \(ok, no term\)| \+\+ (.*))$/.exec(c)!;
        assert.equal(r.kind, "ok", `line ${f.line}`);
        if (r.kind === "ok") {
          assert.equal(r.op, Number(m[1]));
          // GET_SCHEMA_FILE_PATH's path is elided as <run-dir> in the capture text.
          if (m[2] !== undefined && !m[2].includes("<run-dir>")) assert.equal(canonicalTerm(r.result!), canonicalTerm(parseTermText(m[2])), `line ${f.line}`);
        }
        echoes++;
      } else {
        assert.equal(r.kind, "term", `line ${f.line}: ${c.slice(0, 60)}`);
        if (r.kind === "term" && !c.includes("...(")) assert.equal(canonicalTerm(r.term), canonicalTerm(parseTermText(c)), `line ${f.line}`);
        terms++;
      }
    }
    assert.ok(terms > 500 && echoes > 100 && errors >= 15, `${terms} terms, ${echoes} echoes, ${errors} errors`);
  });

  it("builds every client frame byte for byte from its meaning", () => {
    let n = 0;
    for (const f of maapi.filter((x) => x.dir === "out")) {
      const c = f.comment!;
      const hex = f.bytes!.toString("hex");
      let built: Buffer[];
      let m: RegExpExecArray | null;
      if ((m = /^<<183:32, Th=(-?\d+):32, Mode=(\d+):32, Flags=(\d+):32>>$/.exec(c))) built = [encodeDiffIter(Number(m[1]), Number(m[2]), Number(m[3]))];
      else if ((m = /^<<(\d+):32, Th=(-?\d+):32>>(?: \+\+ (.*))?$/.exec(c))) built = variants(m[3], (t) => encodeRequest(Number(m![1]), Number(m![2]), t));
      else if ((m = /^<<(\d+):32>>(?: \(no argument\)| \+\+ (.*))?$/.exec(c))) {
        const op = Number(m[1]);
        built = ["ITER_RECURSE", "ITER_CONTINUE", "ITER_STOP", "ITER_REPLY_5"].includes(f.step)
          ? [encodeIterReply(op)]
          : variants(m[2], (t) => encodeRequest(op, undefined, t));
      } else throw new Error(`line ${f.line}: unhandled comment ${c}`);
      const frames = built.map((b) => Buffer.concat([len(b), b]).toString("hex"));
      assert.ok(frames.includes(hex), `line ${f.line} ${f.step}: ${hex} not in ${frames.join(" / ")}`);
      // Our own client writes ATOM_EXT atoms, the way econfd and the raw client did.
      if (f.client !== "libconfd") assert.equal(frames[0], hex, `line ${f.line}: latin-1 atoms`);
      n++;
    }
    assert.ok(n > 600, `${n} client frames`);
  });

  it("the MAAPI header is 07 0052 08020500 00 00, as econfd and the raw client send it", () => {
    const headers = frames.filter((f) => f.step === "HANDSHAKE_HEADER" && f.conn.startsWith("ma") && f.client !== "libconfd");
    assert.ok(headers.length > 30);
    for (const h of headers) assert.equal(maapiHeader(82, 0x08020500).toString("hex"), h.bytes!.toString("hex"));
    assert.equal(maapiHeader(82, 0x08020500, "md5")[0], 0x87);
  });

  it("renders every name-mode diff item of the capture, leaving hash-mode items to the drop counter", () => {
    const items = maapi.filter((f) => f.step === "DIFF_ITEM" && !f.truncated);
    let named = 0;
    let hashed = 0;
    for (const f of items) {
      const r = parseReply(f.bytes!.subarray(4));
      assert.equal(r.kind, "term");
      if (r.kind !== "term") continue;
      const hashMode = /^\{\[(\d|\[\d|\{<<[^>]*>>\},\d)/.test(f.comment!);
      if (hashMode) {
        assert.throws(() => decodeDiffItem(r.term), /maapi-bad-keypath|namespace|neither/);
        hashed++;
      } else {
        const d = decodeDiffItem(r.term);
        assert.match(d.change.path, /^\/[a-z]/);
        named++;
      }
    }
    assert.ok(named > 300 && hashed > 30, `${named} named, ${hashed} hashed`);
  });
});

describe("nso maapi: our client replayed against the captured NSO answers", () => {
  let server: ReplayServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const outs = (conv: MaapiFrame[]): string[] => conv.filter((f) => f.dir === "out").map((f) => f.bytes!.toString("hex"));
  const start = async (conv: MaapiFrame[]): Promise<number> => {
    server = new ReplayServer(conv);
    return server.listen();
  };

  it("P03: readCommitDiff sends exactly econfd's attach / DIFF_ITER / recurse / detach", async () => {
    const conv = conversation(frames, "P03", "ma2");
    const client = new MaapiClient({ host: "127.0.0.1", port: await start(conv) });
    const r = await readCommitDiff(client, { thandle: 585, usid: 236 });
    client.close();
    assert.deepEqual(r.changes, [{ op: "value_set", path: "/devices/global-settings/connect-timeout", value: { type: "C_UINT32", value: 125 } }]);
    assert.equal(r.truncated, false);
    assert.equal(r.stats.detached, true);
    assert.deepEqual(
      server!.received.map((b) => b.toString("hex")),
      outs(conv),
    );
  });

  it("P06: the XPath labels of commit A are requested byte for byte and read back", async () => {
    const conv = conversation(frames, "P06", "ma2");
    const conn = await MaapiConnection.open({ host: "127.0.0.1", port: await start(conv) });
    await conn.attach(687, 271);
    const labelled: Term[][] = [];
    await conn.diffIterate(687, 0, undefined, (item) => {
      const d = decodeDiffItem(item);
      if (d.labelRaw) labelled.push(topFirst(d.ikp));
      return ITER_RECURSE;
    });
    const answers: string[] = [];
    for (const ctx of labelled) for (const e of ["string(.)", "name(.)", "local-name(.)", "namespace-uri(.)"]) answers.push(await conn.xpath(687, e, ctx));
    await conn.detach(687);
    conn.destroy();
    assert.deepEqual(
      server!.received.map((b) => b.toString("hex")),
      outs(conv),
    );
    assert.deepEqual(
      answers.filter((_, i) => i % 4 === 0),
      ["reject-unknown", "southbound-locked", "ned:netconf", "raw", "permit", "read", "deny", "create"],
    );
  });

  it("P08-stop: a cap of 2 changes answers ITER_STOP after the second item and waits for nothing", async () => {
    const conv = conversation(frames, "P08-stop", "ma2");
    const client = new MaapiClient({ host: "127.0.0.1", port: await start(conv) });
    const r = await readCommitDiff(client, { thandle: 762, usid: 299, maxChanges: 2, labels: false, budgetMs: 2000 });
    client.close();
    assert.equal(r.changes.length, 2);
    assert.equal(r.truncated, true);
    assert.equal(r.reason, "max-changes");
    const sent = server!.received.map((b) => b.toString("hex"));
    const captured = outs(conv);
    // Header, ATTACH, DIFF_ITER, RECURSE, STOP: the same bytes as the capture; then our DETACH.
    assert.deepEqual(sent.slice(0, 5), captured.slice(0, 5));
    assert.equal(sent[4], Buffer.concat([len(encodeIterReply(ITER_STOP)), encodeIterReply(ITER_STOP)]).toString("hex"));
    assert.ok(r.stats.durationMs < 1000, "no wait for a {return} that never comes");
  });

  it("P07-afterack: attaching after the ack is NSO's error 1, returned as a result, not thrown", async () => {
    const conv = conversation(frames, "P07-afterack", "ma2");
    const client = new MaapiClient({ host: "127.0.0.1", port: await start(conv) });
    const r = await readCommitDiff(client, { thandle: 701, usid: 276 });
    client.close();
    assert.equal(r.truncated, true);
    assert.equal(r.reason, "error");
    assert.equal(r.error?.code, "maapi-error");
    assert.match(r.error.message, /CONFD_ERR_NOEXISTS "User sess 276 doesn't exist"/);
    assert.deepEqual(r.changes, []);
  });

  it("P15: the event-reply-timeout's badpath mid-iteration keeps the 4 items read, marked truncated", async () => {
    const conv = conversation(frames, "P15", "ma2");
    const client = new MaapiClient({ host: "127.0.0.1", port: await start(conv) });
    const r = await readCommitDiff(client, { thandle: 899, usid: 353 });
    client.close();
    assert.equal(r.changes.length, 4);
    assert.equal(r.truncated, true);
    assert.equal(r.reason, "error");
    assert.match(r.error!.message, /badpath/);
  });

  it("P18: a subtree filter sends DIFF_IKP_ITER with the path by name and reads only that subtree", async () => {
    const conv = conversation(frames, "P18", "ma2");
    const conn = await MaapiConnection.open({ host: "127.0.0.1", port: await start(conv) });
    await conn.attach(946, 371);
    const paths: string[] = [];
    await conn.diffIterate(946, 0, parseSubtree("/nacm:nacm"), (item) => {
      paths.push(decodeDiffItem(item).change.path);
      return ITER_RECURSE;
    });
    conn.destroy();
    const sent = server!.received.map((b) => b.toString("hex"));
    assert.deepEqual(sent, outs(conv).slice(0, sent.length));
    assert.ok(paths.length > 0 && paths.every((p) => p.startsWith("/nacm")), paths.join(" "));
  });
});

function len(b: Buffer): Buffer {
  const l = Buffer.alloc(4);
  l.writeUInt32BE(b.length, 0);
  return l;
}

/** Both atom encodings of a request argument (libconfd writes UTF-8 atoms, econfd latin-1). */
function variants(text: string | undefined, build: (t?: Term) => Buffer): Buffer[] {
  if (text === undefined) return [build()];
  const t = parseTermText(text);
  const b = build(t);
  const head = b.subarray(0, b.length - encodeTerm(t).length);
  return [b, Buffer.concat([head, encodeTerm(t, { atoms: "utf8" })])];
}
