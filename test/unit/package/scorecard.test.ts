import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// The offline scorecard (scripts/scorecard.js): every check becomes its own `it`, generated at
// load time from package.json `node-red.nodes`, so a node type is covered the moment it is
// listed. INFRA_EVENTS_PKG_ROOT points the suite at another package root (e.g. an unpacked
// tarball); default is this repository.

interface CheckResult {
  ok: boolean;
  message: string;
}
interface Check {
  scope: string;
  id: string;
  title: string;
  run(): CheckResult;
}
interface NodeInfo {
  type: string;
}
interface Model {
  root: string;
  nodes: NodeInfo[];
}
interface Scorecard {
  loadPackage(root: string): Model;
  allChecks(model: Model): Check[];
  runCheck(c: Check): CheckResult;
  hardCodedText(template: string): string[];
}

const repoRoot = path.resolve(__dirname, "../../..");

const scorecard = require(path.join(repoRoot, "scripts/scorecard.js")) as Scorecard;
const pkgRoot = path.resolve(process.env.INFRA_EVENTS_PKG_ROOT || repoRoot);

describe("package scorecard (offline node-red-dev checks + house rules)", () => {
  const model = scorecard.loadPackage(pkgRoot);
  const checks = scorecard.allChecks(model);
  const scopes = [...new Set(checks.map((c) => c.scope))];
  for (const scope of scopes) {
    describe(scope, () => {
      for (const c of checks.filter((x) => x.scope === scope)) {
        it(`${c.id} ${c.title}`, () => {
          const r = scorecard.runCheck(c);
          assert.ok(r.ok, `${scope} ${c.id}: ${r.message}`);
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The checker itself: a small well-formed package passes everything, and each defect planted in
// a copy is reported by the check meant for it (and only a failure there proves the check works).

const GOOD_FILES: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "node-red-contrib-fixture",
    version: "1.0.0",
    license: "Apache-2.0",
    repository: { type: "git", url: "git+https://example.invalid/fixture.git" },
    keywords: ["node-red"],
    engines: { node: ">=20" },
    "node-red": { version: ">=4.0.0", nodes: { "fx-server": "nodes/fx-server.js", "fx-events": "nodes/fx-events.js" } },
    dependencies: { ws: "^8.0.0" },
  }),
  "nodes/fx-server.html": `
<script type="text/javascript">
  RED.nodes.registerType('fx-server', {
    category: 'config',
    defaults: { name: { value: "" }, host: { value: "localhost", required: true } },
    credentials: { password: { type: "password" } },
    label: function () { return this.name || this.host; }
  });
</script>
<script type="text/html" data-template-name="fx-server">
  <div class="form-row">
    <label for="node-config-input-host"><i class="fa fa-server"></i> <span data-i18n="fx-server.label.host"></span></label>
    <input type="text" id="node-config-input-host">
  </div>
  <div class="form-row">
    <label for="node-config-input-password"><i class="fa fa-lock"></i> <span data-i18n="fx-server.label.password"></span></label>
    <input type="password" id="node-config-input-password">
  </div>
</script>
<script type="text/html" data-help-name="fx-server">
  <p>Connection to a fixture server.</p>
  <h3>Details</h3><p>Shared.</p>
</script>`,
  "nodes/fx-events.html": `
<script type="text/javascript">
  (function () {
    var TYPES = ["a", "b"];
    RED.nodes.registerType('fx-events', {
      category: 'infra events',
      color: '#A6BBCF',
      defaults: { name: { value: "" }, server: { value: "", type: "fx-server" }, outputs: { value: 3 } },
      inputs: 1,
      outputs: 3,
      icon: "bridge.svg",
      outputLabels: function (i) { return TYPES[i] || this._("fx-events.label.other"); },
      oneditprepare: function () { $("#x").text(RED._("node-red:common.label.name") + this._("fx-events.status." + "up")); }
    });
  })();
</script>
<script type="text/html" data-template-name="fx-events">
  <div class="form-row">
    <label for="node-input-server"><i class="fa fa-server"></i> <span data-i18n="fx-events.label.server"></span></label>
    <input type="text" id="node-input-server"><input type="hidden" id="node-input-outputs">
  </div>
  <div class="form-tips" data-i18n="[html]fx-events.tip"></div>
</script>
<script type="text/html" data-help-name="fx-events">
  <p>Fixture events.</p>
  <h3>Inputs</h3><dl class="message-properties"><dt>action <span class="property-type">string</span></dt></dl>
  <h3>Outputs</h3><ol class="node-ports"><li>a</li><li>b</li><li>other</li></ol>
  <h3>Details</h3><p>Routes by type.</p>
</script>`,
  "nodes/locales/en-US/fx-server.json": JSON.stringify({ "fx-server": { label: { host: "Host", password: "Password" } } }),
  "nodes/locales/en-US/fx-events.json": JSON.stringify({
    "fx-events": { label: { server: "Server", other: "other" }, tip: "Tip <b>text</b>", status: { up: "up" } },
  }),
  "examples/fx-basic.json": JSON.stringify([
    { id: "c", type: "comment", z: "", name: "fixture", x: 100, y: 40, wires: [] },
    { id: "e", type: "fx-events", z: "", server: "s", outputs: 3, x: 100, y: 100, wires: [[], [], []] },
    { id: "s", type: "fx-server", host: "localhost" },
  ]),
};

type Files = Record<string, string>;
const tmpDirs: string[] = [];

function writePackage(files: Files): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ie-scorecard-"));
  tmpDirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

function failures(files: Files): string[] {
  const m = scorecard.loadPackage(writePackage(files));
  return scorecard
    .allChecks(m)
    .filter((c) => !scorecard.runCheck(c).ok)
    .map((c) => `${c.scope} ${c.id}`);
}

function mutate(file: string, from: string | RegExp, to: string): Files {
  const text = GOOD_FILES[file];
  const next = text.replace(from, to);
  assert.notEqual(next, text, `fixture mutation did not apply to ${file}`);
  return { ...GOOD_FILES, [file]: next };
}

function pkgWith(change: (p: Record<string, unknown>) => void): Files {
  const p = JSON.parse(GOOD_FILES["package.json"]) as Record<string, unknown>;
  change(p);
  return { ...GOOD_FILES, "package.json": JSON.stringify(p) };
}

describe("scorecard checker catches what it is meant to catch", () => {
  after(() => {
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("passes a well-formed package", () => {
    assert.deepEqual(failures(GOOD_FILES), []);
  });

  const cases: Array<[string, () => Files, string[]]> = [
    ["no license", () => pkgWith((p) => delete p.license), ["package P01"]],
    ["neither repository nor bugs", () => pkgWith((p) => delete p.repository), ["package P03"]],
    ["unscoped node-red- name without -contrib-", () => pkgWith((p) => (p.name = "node-red-fixture")), ["package P04"]],
    ["no node-red keyword", () => pkgWith((p) => (p.keywords = ["events"])), ["package P05"]],
    ["node-red.version pinned to 4.1.x", () => pkgWith((p) => ((p["node-red"] as Record<string, unknown>).version = "4.1.x")), ["package P06"]],
    ["engines.node that rejects Node 22.9", () => pkgWith((p) => (p.engines = { node: "^20.0.0" })), ["package P07"]],
    [
      "seven runtime dependencies",
      () => pkgWith((p) => (p.dependencies = Object.fromEntries(["a", "b", "c", "d", "e", "f", "g"].map((n) => [n, "1"])))),
      ["package D01"],
    ],
    ["example that is not JSON", () => ({ ...GOOD_FILES, "examples/fx-basic.json": "[{" }), ["package EX", "fx-events N02"]],
    ["non-config node in no example", () => ({ ...GOOD_FILES, "examples/fx-basic.json": "[]" }), ["fx-events N02"]],
    [
      "editor file missing",
      () => Object.fromEntries(Object.entries(GOOD_FILES).filter(([k]) => k !== "nodes/fx-server.html")),
      [
        "fx-server N00",
        "fx-server N02",
        "fx-server CAT",
        "fx-server DEF",
        "fx-server OUT",
        "fx-server TPL",
        "fx-server HLP",
        "fx-server I18N",
        "fx-server CRED",
        "fx-server TXT",
        "fx-server ICON",
      ],
    ],
    [
      "registerType through a variable (not literal)",
      () => mutate("nodes/fx-server.html", "RED.nodes.registerType('fx-server',", "var T = 'fx-server'; RED.nodes.registerType(T,"),
      ["fx-server N00"],
    ],
    ["wrong category", () => mutate("nodes/fx-events.html", "category: 'infra events'", "category: 'network'"), ["fx-events CAT"]],
    ["no colour on a palette node", () => mutate("nodes/fx-events.html", "color: '#A6BBCF',", ""), ["fx-events DEF"]],
    ["variable outputs without outputLabels", () => mutate("nodes/fx-events.html", /outputLabels: function \(i\) \{[^}]*\},/, ""), ["fx-events OUT"]],
    [
      "editor script that throws",
      () => mutate("nodes/fx-events.html", "var TYPES", "null.x; var TYPES"),
      [
        "fx-events N00",
        "fx-events N02",
        "fx-events CAT",
        "fx-events DEF",
        "fx-events OUT",
        "fx-events TPL",
        "fx-events HLP",
        "fx-events I18N",
        "fx-events CRED",
        "fx-events TXT",
        "fx-events ICON",
      ],
    ],
    [
      "no edit template",
      () => mutate("nodes/fx-events.html", 'data-template-name="fx-events"', 'data-template-name="fx-other"'),
      ["fx-events TPL", "fx-events TXT"],
    ],
    ["help without Inputs on a node with an input", () => mutate("nodes/fx-events.html", "<h3>Inputs</h3>", "<h3>Input</h3>"), ["fx-events HLP"]],
    ["help without Outputs", () => mutate("nodes/fx-events.html", "<h3>Outputs</h3>", "<h3>Ports</h3>"), ["fx-events HLP"]],
    ["help without Details on a config node", () => mutate("nodes/fx-server.html", "<h3>Details</h3>", "<h3>More</h3>"), ["fx-server HLP"]],
    [
      "help that does not open with a paragraph",
      () => mutate("nodes/fx-server.html", "<p>Connection to a fixture server.</p>", "Connection"),
      ["fx-server HLP"],
    ],
    ["Inputs without message-properties", () => mutate("nodes/fx-events.html", 'class="message-properties"', 'class="props"'), ["fx-events HLP"]],
    ["data-i18n key missing from the catalogue", () => mutate("nodes/fx-server.html", "fx-server.label.host", "fx-server.label.hots"), ["fx-server I18N"]],
    ["this._ key missing", () => mutate("nodes/fx-events.html", 'this._("fx-events.label.other")', 'this._("fx-events.label.otherwise")'), ["fx-events I18N"]],
    ["RED._ core key missing", () => mutate("nodes/fx-events.html", "node-red:common.label.name", "node-red:common.label.nome"), ["fx-events I18N"]],
    ["computed key whose prefix is no group", () => mutate("nodes/fx-events.html", '"fx-events.status." +', '"fx-events.state." +'), ["fx-events I18N"]],
    ["attribute-form data-i18n key missing", () => mutate("nodes/fx-events.html", "[html]fx-events.tip", "[html]fx-events.tips"), ["fx-events I18N"]],
    ["catalogue missing", () => Object.fromEntries(Object.entries(GOOD_FILES).filter(([k]) => !k.endsWith("fx-server.json"))), ["fx-server I18N"]],
    ["catalogue that is not JSON", () => ({ ...GOOD_FILES, "nodes/locales/en-US/fx-server.json": "{" }), ["fx-server I18N"]],
    [
      "credential name also in defaults",
      () => mutate("nodes/fx-server.html", 'host: { value: "localhost", required: true }', 'host: { value: "localhost" }, password: { value: "" }'),
      ["fx-server CRED"],
    ],
    [
      "secret-looking default not declared as credential",
      () => mutate("nodes/fx-events.html", 'name: { value: "" },', 'name: { value: "" }, apiToken: { value: "" }, clientSecret: { value: "" },'),
      ["fx-events CRED"],
    ],
    ["hard-coded label text", () => mutate("nodes/fx-server.html", '<span data-i18n="fx-server.label.host"></span>', "Host"), ["fx-server TXT"]],
    [
      "hard-coded title attribute",
      () => mutate("nodes/fx-server.html", 'id="node-config-input-host"', 'id="node-config-input-host" title="The host name"'),
      ["fx-server TXT"],
    ],
    ["icon that exists nowhere", () => mutate("nodes/fx-events.html", '"bridge.svg"', '"infra-nothing.svg"'), ["fx-events ICON"]],
  ];
  for (const [name, files, expected] of cases) {
    it(`flags ${name}`, () => {
      assert.deepEqual(failures(files()).sort(), [...expected].sort());
    });
  }

  it("text scan accepts i18n-supplied text, symbols and fallback text inside data-i18n elements", () => {
    const tpl = `<div class="form-row"><label for="a"><i class="fa fa-x"></i> <span data-i18n="k.a">fallback</span>:</label>
      <input id="a" placeholder="1883"><span>/</span><br><select><option value="x" data-i18n="k.x"></option></select>
      <!-- a comment with words --><div title="" data-i18n="[title]k.t;k.u">shown</div></div>`;
    assert.deepEqual(scorecard.hardCodedText(tpl), []);
  });

  it("text scan reports words in plain elements, options and after closed i18n spans", () => {
    const tpl = `<label><span data-i18n="k.a"></span> seconds</label><select><option value="1">One</option></select>
      <button type="button">Add</button><span data-i18n="[placeholder]k.p">visible</span>`;
    assert.deepEqual(scorecard.hardCodedText(tpl), ["seconds", "One", "Add", "visible"]);
  });
});
