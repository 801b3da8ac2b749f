#!/usr/bin/env node
"use strict";
// Offline package scorecard: the checks of `node-red-dev validate` that need no network
// (P01, P03, P04, P05, N02, D01, plus static forms of P06/P07), and the house rules for every
// node's editor file (registerType literal, category, help sections, i18n keys, credentials).
//
// Why our own: `node-red-dev validate` aborts offline (it fetches catalogue.nodered.org before
// writing any result), so CI cannot run it. This file is both a library (required by
// test/unit/package/scorecard.test.ts, which turns every check into its own `it`) and a CLI:
//
//   node scripts/scorecard.js [packageRoot]     prints PASS/FAIL lines, exit 1 on any failure
//
// Node types are enumerated from package.json `node-red.nodes` (one set per type, named as
// the type, entry `dist/nodes/<type>.js` here), never from a list written here.
//
// Help-section rule (decided here, documented in docs/DEVELOPING.md terms):
//   - every node: a first paragraph (palette tooltip) and a "Details" section;
//   - a node with an input: an "Inputs" section with <dl class="message-properties">;
//   - a node with outputs (fixed > 0, or variable through a hidden `outputs` default): an
//     "Outputs" section with <ol class="node-ports"> or <dl class="message-properties">;
//   - config nodes (category "config") have no ports, so "Details" is all they need.
// No HTML parser dependency: the editor file is scanned with small tolerant regexes, and the
// registerType definition is evaluated in a vm sandbox with a stand-in RED so we read the
// real `defaults`/`credentials` objects instead of guessing at JavaScript with regexes.

const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const CATEGORY = "infra events";
const MAX_RUNTIME_DEPS = 6;
// Node-RED 5.0 needs Node >= 22.9 (P07); our own floor is Node 20.
const NODE_VERSIONS_TO_ADMIT = ["20.0.0", "22.9.0"];
// Names that are secrets wherever they appear; a `defaults` key like this is a leak into
// flows.json even if the node forgot to declare it as a credential.
const SECRET_NAME = /^(pass|passwd|password|passphrase|secret|token|apikey|api_key|privatekey|private_key)$|(password|passphrase|secret)$/i;

/** semver from Node-RED's own dependencies (node-red is a devDependency), no new package. */
function loadSemver() {
  const nrDir = path.dirname(require.resolve("node-red/package.json"));
  return require(require.resolve("semver", { paths: [nrDir] }));
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function ok(message) {
  return { ok: true, message: message || "" };
}
function fail(message) {
  return { ok: false, message };
}

// ---------------------------------------------------------------------------------------------
// Reading the editor file

/** All <script ...>...</script> blocks with their attributes. */
function scriptBlocks(html) {
  const out = [];
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
  let m;
  while ((m = re.exec(html))) out.push({ attrs: parseAttrs(m[1]), body: m[2] });
  return out;
}

/** Attributes of a start tag's attribute text: {name: value} (valueless -> ""). */
function parseAttrs(text) {
  const attrs = {};
  const re = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  let m;
  while ((m = re.exec(text))) attrs[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? "";
  return attrs;
}

function isJsBlock(b) {
  const t = (b.attrs.type || "text/javascript").toLowerCase();
  return t === "text/javascript" || t === "application/javascript" || t === "module";
}

/**
 * A stand-in for anything the editor script might touch at load time ($, RED.settings, …):
 * callable, constructible, and every property is another stand-in.
 */
function anything() {
  const target = function () {};
  const proxy = new Proxy(target, {
    get: (_t, p) => (p === Symbol.toPrimitive ? () => "" : p === "then" ? undefined : proxy),
    apply: () => proxy,
    construct: () => proxy,
  });
  return proxy;
}

/**
 * Runs the editor file's JavaScript blocks in a sandbox and returns every definition passed to
 * RED.nodes.registerType: {type: def}. Throws with the script's own error if it fails to run,
 * which the editor would also hit.
 */
function evaluateDefinitions(html, file) {
  const defs = {};
  const stub = anything();
  const validators = {
    number: () =>
      function () {
        return true;
      },
    regex: () =>
      function () {
        return true;
      },
    typedInput: () =>
      function () {
        return true;
      },
  };
  const RED = new Proxy(
    {
      nodes: new Proxy(
        {
          registerType: (type, def) => {
            defs[type] = def;
          },
        },
        { get: (t, p) => (p in t ? t[p] : stub) },
      ),
      validators: new Proxy(validators, { get: (t, p) => (p in t ? t[p] : stub) }),
      _: (k) => k,
    },
    { get: (t, p) => (p in t ? t[p] : stub) },
  );
  const sandbox = { RED, $: stub, jQuery: stub, window: stub, document: stub, console: { log() {}, warn() {}, error() {} } };
  vm.createContext(sandbox);
  for (const b of scriptBlocks(html).filter(isJsBlock)) {
    vm.runInContext(b.body, sandbox, { filename: file, timeout: 1000 });
  }
  return defs;
}

/** Literal `RED.nodes.registerType('<type>'` calls, the form node-red-dev's parser needs. */
function literalRegisteredTypes(html) {
  const out = [];
  const re = /RED\.nodes\.registerType\(\s*(['"])([^'"]+)\1/g;
  let m;
  while ((m = re.exec(html))) out.push(m[2]);
  return out;
}

function templateOf(html, type) {
  const b = scriptBlocks(html).find((x) => x.attrs["data-template-name"] === type);
  return b ? b.body : undefined;
}

function helpOf(html, type) {
  const b = scriptBlocks(html).find((x) => x.attrs["data-help-name"] === type);
  if (!b) return undefined;
  return { body: b.body, markdown: (b.attrs.type || "").toLowerCase() === "text/markdown" };
}

/**
 * Help sections by heading name (lower case) -> the text up to the next heading. Accepts
 * <h1>-<h6> in HTML help and #-headings in Markdown help.
 */
function helpSections(help) {
  const sections = {};
  const re = help.markdown ? /^#{1,6}\s*(.+?)\s*#*\s*$/gm : /<h[1-6][^>]*>([\s\S]*?)<\/h[1-6]\s*>/gi;
  const heads = [];
  let m;
  while ((m = re.exec(help.body))) heads.push({ name: stripTags(m[1]).trim().toLowerCase(), start: m.index, end: re.lastIndex });
  heads.forEach((h, i) => {
    sections[h.name] = help.body.slice(h.end, i + 1 < heads.length ? heads[i + 1].start : undefined);
  });
  return { sections, preamble: help.body.slice(0, heads.length ? heads[0].start : undefined) };
}

function stripTags(s) {
  return s.replace(/<[^>]*>/g, "");
}

// ---------------------------------------------------------------------------------------------
// i18n

/** Keys named in data-i18n attributes: "a.b;[placeholder]c.d" -> ["a.b", "c.d"]. */
function dataI18nKeys(html) {
  const keys = [];
  const re = /data-i18n\s*=\s*(?:"([^"]*)"|'([^']*)')/gi;
  let m;
  while ((m = re.exec(html))) {
    for (const part of (m[1] ?? m[2]).split(";")) {
      const key = part.replace(/^\s*\[[^\]]*\]/, "").trim();
      if (key) keys.push({ key, via: "data-i18n" });
    }
  }
  return keys;
}

/**
 * Literal keys of this._("…") / RED._("…") calls. A literal followed by `+` is a computed key:
 * we keep its prefix and check that it names a group of messages.
 */
function callI18nKeys(html) {
  const keys = [];
  const re = /\b(this|RED|node)\._\(\s*(['"`])((?:(?!\2)[^\\\n]|\\.)*)\2\s*([+,)])/g;
  let m;
  while ((m = re.exec(html))) {
    if (m[2] === "`" && m[3].includes("${")) continue;
    keys.push({ key: m[3], via: `${m[1]}._`, prefixOnly: m[4] === "+", global: m[1] === "RED" });
  }
  return keys;
}

function lookup(catalog, dotted) {
  let cur = catalog;
  for (const part of dotted.split(".")) {
    if (cur === null || typeof cur !== "object" || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function hasMessage(catalog, key) {
  const v = lookup(catalog, key);
  if (typeof v === "string") return true;
  // i18next plural forms: "x" is served by "x_one"/"x_other"/"x_plural".
  const dot = key.lastIndexOf(".");
  const parent = dot < 0 ? catalog : lookup(catalog, key.slice(0, dot));
  const leaf = key.slice(dot + 1);
  return !!parent && typeof parent === "object" && ["_one", "_other", "_plural"].some((s) => typeof parent[leaf + s] === "string");
}

let coreCatalogs;
/** Node-RED's own catalogues for keys like "node-red:common.label.name" / "editor:…". */
function loadCoreCatalogs() {
  if (coreCatalogs) return coreCatalogs;
  const nrDir = path.dirname(require.resolve("node-red/package.json"));
  const nodesDir = path.dirname(require.resolve("@node-red/nodes/package.json", { paths: [nrDir] }));
  const editorDir = path.dirname(require.resolve("@node-red/editor-client/package.json", { paths: [nrDir] }));
  coreCatalogs = {
    "node-red": readJson(path.join(nodesDir, "locales/en-US/messages.json")),
    editor: readJson(path.join(editorDir, "locales/en-US/editor.json")),
  };
  return coreCatalogs;
}

// ---------------------------------------------------------------------------------------------
// Edit-template text scan

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]);

/**
 * Visible text in the edit template that is not supplied by data-i18n: text nodes outside any
 * element whose own text comes from data-i18n, and title="" attributes not covered by
 * data-i18n="[title]…". Text without letters (":", "/", "%", "1883") is fine.
 */
function hardCodedText(template) {
  const found = [];
  const stack = []; // {tag, i18nText}
  const re = /<!--[\s\S]*?-->|<\/?([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)/g;
  let m;
  while ((m = re.exec(template))) {
    const tok = m[0];
    if (tok.startsWith("<!--")) continue;
    if (m[3] !== undefined) {
      const text = m[3].replace(/&[a-z#0-9]+;/gi, " ").trim();
      if (/\p{L}/u.test(text) && !stack.some((e) => e.i18nText)) found.push(text);
      continue;
    }
    const tag = m[1].toLowerCase();
    if (tok.startsWith("</")) {
      const i = stack.map((e) => e.tag).lastIndexOf(tag);
      if (i >= 0) stack.length = i;
      continue;
    }
    const attrs = parseAttrs(m[2] || "");
    const i18nParts = "data-i18n" in attrs ? attrs["data-i18n"].split(";").map((s) => s.trim()) : [];
    const i18nText = i18nParts.some((p) => !p.startsWith("[") || /^\[(html|text|prepend|append)\]/.test(p));
    if (attrs.title && /\p{L}/u.test(attrs.title) && !i18nParts.some((p) => p.startsWith("[title]"))) {
      found.push(`title="${attrs.title}"`);
    }
    if (!VOID.has(tag) && !/\/\s*$/.test(m[2] || "")) stack.push({ tag, i18nText });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Package model

/**
 * Everything the checks read, gathered once. Missing files are recorded, not thrown, so each
 * check can report its own clear failure.
 */
function loadPackage(root) {
  root = path.resolve(root);
  const pkg = readJson(path.join(root, "package.json"));
  const sets = (pkg["node-red"] && pkg["node-red"].nodes) || {};
  const nodes = Object.keys(sets).map((type) => {
    const js = path.join(root, sets[type]);
    const htmlFile = js.replace(/\.c?js$/, ".html");
    const localeFile = path.join(path.dirname(js), "locales", "en-US", path.basename(js).replace(/\.c?js$/, ".json"));
    const info = { type, entry: sets[type], js, htmlFile, localeFile };
    info.html = fs.existsSync(htmlFile) ? fs.readFileSync(htmlFile, "utf8") : undefined;
    if (info.html !== undefined) {
      try {
        info.defs = evaluateDefinitions(info.html, htmlFile);
      } catch (e) {
        info.defsError = e instanceof Error ? e.message : String(e);
      }
    }
    info.def = info.defs && info.defs[type];
    info.isConfig = info.def ? info.def.category === "config" : undefined;
    if (fs.existsSync(localeFile)) {
      try {
        info.catalog = readJson(localeFile);
      } catch (e) {
        info.catalogError = e instanceof Error ? e.message : String(e);
      }
    }
    return info;
  });
  return { root, pkg, nodes, examples: loadExamples(path.join(root, "examples")) };
}

/** examples/**\/*.json, as node-red-dev reads them (recursive). */
function loadExamples(dir) {
  const out = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".json")) {
        let flow, error;
        try {
          flow = JSON.parse(fs.readFileSync(p, "utf8"));
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
        }
        out.push({ file: path.relative(dir, p), flow, error });
      }
    }
  };
  walk(dir);
  return out;
}

/** Node types a flow uses (nodes inside subflows too: they are plain entries of the array). */
function typesInFlow(flow) {
  return new Set(Array.isArray(flow) ? flow.filter((n) => n && typeof n.type === "string").map((n) => n.type) : []);
}

/** Does this node have an input / outputs, per its editor definition. */
function ports(def) {
  const variable = !!(def.defaults && Object.prototype.hasOwnProperty.call(def.defaults, "outputs"));
  return { inputs: Number(def.inputs || 0), outputs: variable ? Math.max(1, Number(def.outputs || 1)) : Number(def.outputs || 0), variable };
}

// ---------------------------------------------------------------------------------------------
// Checks

function packageChecks(model) {
  const { pkg } = model;
  const nr = pkg["node-red"] || {};
  return [
    { id: "P01", title: "package.json has a license", run: () => (pkg.license ? ok(pkg.license) : fail("no `license` in package.json")) },
    {
      id: "P03",
      title: "package.json has repository or bugs",
      run: () => (pkg.repository || pkg.bugs ? ok() : fail("neither `repository` nor `bugs` in package.json")),
    },
    {
      id: "P04",
      title: "package name follows the naming rule",
      run: () => {
        const name = String(pkg.name || "");
        if (!name) return fail("no `name`");
        if (name.startsWith("@")) return ok("scoped");
        if (/^node-?red/i.test(name) && !/^node-red-contrib-/.test(name)) {
          return fail(`unscoped name "${name}" starts with node-red but not node-red-contrib-`);
        }
        return ok(name);
      },
    },
    {
      id: "P05",
      title: "keywords include node-red",
      run: () => (Array.isArray(pkg.keywords) && pkg.keywords.includes("node-red") ? ok() : fail("`node-red` missing from keywords")),
    },
    {
      id: "P06",
      title: 'node-red.version is a ">=4.x" lower bound',
      run: () => {
        const v = nr.version;
        if (!v) return fail("no `node-red.version`");
        // A lower bound only: 5.x (the current `latest` dist-tag) must satisfy it too.
        if (!/^>=\s*4(\.\d+){0,2}$/.test(String(v).trim())) return fail(`node-red.version "${v}" is not of the form ">=4.0.0"`);
        const semver = loadSemver();
        const bad = ["4.1.15", "5.0.7"].filter((x) => !semver.satisfies(x, v));
        return bad.length ? fail(`node-red.version "${v}" rejects ${bad.join(", ")}`) : ok(v);
      },
    },
    {
      id: "P07",
      title: "engines.node admits Node 20 and 22.9",
      run: () => {
        const r = pkg.engines && pkg.engines.node;
        if (!r) return fail("no `engines.node`");
        const semver = loadSemver();
        const bad = NODE_VERSIONS_TO_ADMIT.filter((x) => !semver.satisfies(x, r));
        return bad.length ? fail(`engines.node "${r}" rejects ${bad.join(", ")}`) : ok(r);
      },
    },
    {
      id: "D01",
      title: `at most ${MAX_RUNTIME_DEPS} runtime dependencies`,
      run: () => {
        const deps = Object.keys(pkg.dependencies || {});
        if (deps.includes("node-red")) return fail("node-red must not be a runtime dependency");
        return deps.length <= MAX_RUNTIME_DEPS ? ok(`${deps.length}: ${deps.join(", ")}`) : fail(`${deps.length} dependencies: ${deps.join(", ")}`);
      },
    },
    {
      id: "PKG",
      title: "node-red.nodes lists at least one node",
      run: () => (model.nodes.length ? ok(`${model.nodes.length} types`) : fail("`node-red.nodes` is empty")),
    },
    {
      id: "EX",
      title: "every examples/*.json is a flow array that parses",
      run: () => {
        if (!model.examples.length) return fail("no examples/*.json");
        const bad = model.examples.filter((e) => e.error || !Array.isArray(e.flow)).map((e) => `${e.file}: ${e.error || "not an array"}`);
        return bad.length ? fail(bad.join("; ")) : ok(`${model.examples.length} examples`);
      },
    },
  ];
}

/** Checks for one node type; every check fails clearly if the editor file is missing. */
function nodeChecks(model, info) {
  const { type } = info;
  const needHtml = (fn) => () => {
    if (info.html === undefined) return fail(`${path.relative(model.root, info.htmlFile)} missing (editor file beside ${info.entry})`);
    if (info.defsError) return fail(`editor script fails to run: ${info.defsError}`);
    if (!info.def) return fail(`editor script does not call RED.nodes.registerType('${type}', …)`);
    return fn(info.def);
  };
  const catalogFor = (ns) => {
    if (ns === undefined) return info.catalog;
    const core = loadCoreCatalogs();
    if (ns in core) return core[ns];
    const own = `${model.pkg.name}/${path.basename(info.js).replace(/\.c?js$/, "")}`;
    if (ns === own) return info.catalog;
    const other = model.nodes.find((n) => `${model.pkg.name}/${path.basename(n.js).replace(/\.c?js$/, "")}` === ns);
    return other ? other.catalog : undefined;
  };

  return [
    {
      id: "N00",
      title: "editor file registers the type literally",
      run: needHtml(() => {
        const lit = literalRegisteredTypes(info.html);
        return lit.includes(type) ? ok() : fail(`no literal RED.nodes.registerType('${type}', …) in ${path.basename(info.htmlFile)}`);
      }),
    },
    {
      id: "N02",
      title: "used in some examples/*.json (non-config nodes)",
      run: needHtml((def) => {
        if (def.category === "config") return ok("config node: referenced, not placed");
        const using = model.examples.filter((e) => typesInFlow(e.flow).has(type)).map((e) => e.file);
        return using.length ? ok(using.join(", ")) : fail(`no examples/*.json uses ${type}`);
      }),
    },
    {
      id: "CAT",
      title: `category is "${CATEGORY}" (or "config")`,
      run: needHtml((def) => (def.category === CATEGORY || def.category === "config" ? ok(def.category) : fail(`category is ${JSON.stringify(def.category)}`))),
    },
    {
      id: "DEF",
      title: "definition has defaults (and a colour for palette nodes)",
      run: needHtml((def) => {
        if (!def.defaults || typeof def.defaults !== "object") return fail("no `defaults` object");
        if (def.category !== "config" && !/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(String(def.color || "")))
          return fail(`color ${JSON.stringify(def.color)} is not a #hex colour`);
        return ok();
      }),
    },
    {
      id: "OUT",
      title: "variable outputs come with an outputLabels function",
      run: needHtml((def) => {
        const p = ports(def);
        if (!p.variable) return ok("fixed outputs");
        return typeof def.outputLabels === "function" ? ok() : fail("`outputs` is in defaults (Switch pattern) but outputLabels is not a function");
      }),
    },
    {
      id: "TPL",
      title: "has an edit template",
      run: needHtml(() => (templateOf(info.html, type) !== undefined ? ok() : fail(`no <script type="text/html" data-template-name="${type}">`))),
    },
    {
      id: "HLP",
      title: "help has a first paragraph and the sections its ports need",
      run: needHtml((def) => {
        const help = helpOf(info.html, type);
        if (!help) return fail(`no <script data-help-name="${type}">`);
        const { sections, preamble } = helpSections(help);
        const problems = [];
        const firstPara = help.markdown ? preamble.trim().length > 0 : /^\s*<p\b[^>]*>[\s\S]*?\S[\s\S]*?<\/p>/i.test(preamble);
        if (!firstPara) problems.push("help does not start with a paragraph (palette tooltip)");
        if (!("details" in sections)) problems.push('no "Details" section');
        if (def.category !== "config") {
          const p = ports(def);
          if (p.inputs > 0) {
            if (!("inputs" in sections)) problems.push('has an input but no "Inputs" section');
            else if (!help.markdown && !/<dl[^>]*class\s*=\s*["'][^"']*message-properties/i.test(sections.inputs))
              problems.push('"Inputs" has no <dl class="message-properties">');
          }
          if (p.outputs > 0) {
            if (!("outputs" in sections)) problems.push('has outputs but no "Outputs" section');
            else if (!help.markdown && !/<(ol|dl)[^>]*class\s*=\s*["'][^"']*(node-ports|message-properties)/i.test(sections.outputs))
              problems.push('"Outputs" has no <ol class="node-ports"> / <dl class="message-properties">');
          }
        }
        return problems.length ? fail(problems.join("; ")) : ok(Object.keys(sections).join(", "));
      }),
    },
    {
      id: "I18N",
      title: "every i18n key used in the editor file exists in its en-US catalogue",
      run: needHtml(() => {
        if (info.catalogError) return fail(`${path.relative(model.root, info.localeFile)}: ${info.catalogError}`);
        if (!info.catalog) return fail(`${path.relative(model.root, info.localeFile)} missing`);
        const missing = [];
        for (const k of [...dataI18nKeys(info.html), ...callI18nKeys(info.html)]) {
          const colon = k.key.indexOf(":");
          let ns = colon > 0 ? k.key.slice(0, colon) : undefined;
          const key = colon > 0 ? k.key.slice(colon + 1) : k.key;
          // RED._ without a namespace resolves in the editor's catalogue, not the node's.
          if (ns === undefined && k.global) ns = "editor";
          const cat = catalogFor(ns);
          if (!cat) {
            missing.push(`${k.via}("${k.key}"): unknown namespace "${ns}"`);
            continue;
          }
          if (k.prefixOnly) {
            const group = lookup(cat, key.replace(/\.$/, ""));
            if (!group || typeof group !== "object") missing.push(`${k.via}("${k.key}" + …): no message group`);
          } else if (!hasMessage(cat, key)) {
            missing.push(`${k.via}("${k.key}")`);
          }
        }
        return missing.length ? fail(`missing in ${path.relative(model.root, info.localeFile)}: ${[...new Set(missing)].join(", ")}`) : ok();
      }),
    },
    {
      id: "CRED",
      title: "no credential or secret name in defaults",
      run: needHtml((def) => {
        const defaults = Object.keys(def.defaults || {});
        const creds = new Set(Object.keys(def.credentials || {}));
        const leaked = defaults.filter((k) => creds.has(k) || SECRET_NAME.test(k));
        return leaked.length
          ? fail(`secret-looking keys in defaults: ${leaked.join(", ")} (put them in credentials)`)
          : ok(creds.size ? `credentials: ${[...creds].join(", ")}` : "no credentials");
      }),
    },
    {
      id: "TXT",
      title: "edit template has no hard-coded label text",
      run: needHtml(() => {
        const tpl = templateOf(info.html, type);
        if (tpl === undefined) return fail("no edit template");
        const found = hardCodedText(tpl);
        return found.length ? fail(`text not from data-i18n: ${found.map((t) => JSON.stringify(t.slice(0, 40))).join(", ")}`) : ok();
      }),
    },
    {
      id: "ICON",
      title: "icon file exists (own icons/ or Node-RED stock)",
      run: needHtml((def) => {
        const icon = def.icon;
        if (icon === undefined) return ok("default icon");
        if (typeof icon !== "string") return ok("computed icon");
        if (icon.startsWith("font-awesome/")) return ok(icon);
        if (fs.existsSync(path.join(path.dirname(info.js), "icons", icon))) return ok(icon);
        const nrDir = path.dirname(require.resolve("node-red/package.json"));
        const nodesDir = path.dirname(require.resolve("@node-red/nodes/package.json", { paths: [nrDir] }));
        return fs.existsSync(path.join(nodesDir, "icons", icon))
          ? ok(`stock ${icon}`)
          : fail(`icon "${icon}" is neither in ${path.relative(model.root, path.join(path.dirname(info.js), "icons"))} nor a stock icon`);
      }),
    },
  ];
}

/** All checks: [{scope: "package" | <type>, id, title, run}]. */
function allChecks(model) {
  const out = packageChecks(model).map((c) => ({ scope: "package", ...c }));
  for (const info of model.nodes) for (const c of nodeChecks(model, info)) out.push({ scope: info.type, ...c });
  return out;
}

function runCheck(c) {
  try {
    return c.run();
  } catch (e) {
    return fail(`check crashed: ${e instanceof Error ? e.stack : String(e)}`);
  }
}

module.exports = {
  loadPackage,
  packageChecks,
  nodeChecks,
  allChecks,
  runCheck,
  // exposed for the tests of the scanner itself
  hardCodedText,
  dataI18nKeys,
  callI18nKeys,
  literalRegisteredTypes,
  evaluateDefinitions,
  typesInFlow,
  CATEGORY,
};

if (require.main === module) {
  const root = path.resolve(process.argv[2] || path.join(__dirname, ".."));
  const model = loadPackage(root);
  let failed = 0;
  for (const c of allChecks(model)) {
    const r = runCheck(c);
    if (!r.ok) failed++;
    console.log(`${r.ok ? "PASS" : "FAIL"} ${c.scope.padEnd(16)} ${c.id.padEnd(4)} ${c.title}${r.message ? ` — ${r.message}` : ""}`);
  }
  console.log(`scorecard: ${failed ? `${failed} failed` : "all passed"} (${model.nodes.length} node types, ${model.examples.length} examples)`);
  process.exitCode = failed ? 1 : 0;
}
