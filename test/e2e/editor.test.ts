import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { collectProblems, launchChromium, PageProblems } from "../support/chromium";
import { runtimeLabel } from "../support/node-red-path";
import { EmbeddedNodeRed, linkPackage, makeUserDir, seedFlow, SeedType, startNodeRed } from "../support/nodered-embed";

// The editor in a real browser: Node-RED 4.1 or 5 embedded with this package linked into its user
// dir (as `npm install <folder>` would), Debian's Chromium through playwright-core. Node types
// come from package.json; each type's `defaults` come from its own editor file (evaluated by
// scripts/scorecard.js), so a seed flow with one instance of every type is generated here and
// config references point at seeded config nodes of ours.
//
// The seed tab is disabled: the editor shows and edits its nodes, but the runtime does not start
// them, so no node tries to reach a server that is not there. Screenshots of every dialog go to
// artifacts/e2e/<type>.png (git-ignored) for a human look.

interface EditorDef extends NonNullable<SeedType["def"]> {
  credentials?: Record<string, { type?: string }>;
}
interface NodeInfo {
  type: string;
  js: string;
  def?: EditorDef;
  defsError?: string;
}

const scorecard = require(path.resolve(__dirname, "../../scripts/scorecard.js")) as {
  loadPackage(root: string): { pkg: { name: string }; nodes: NodeInfo[]; examples: Array<{ file: string; flow: unknown }> };
};

const repoRoot = path.resolve(__dirname, "../..");
const pkgRoot = path.resolve(process.env.INFRA_EVENTS_PKG_ROOT || repoRoot);
const model = scorecard.loadPackage(pkgRoot);
const moduleName = model.pkg.name;
const types = model.nodes.map((n) => n.type);
const configTypes = new Set(model.nodes.filter((n) => n.def?.category === "config").map((n) => n.type));
const artifacts = path.join(repoRoot, "artifacts", "e2e");
const TAB = "ie-e2e-tab";
const idOf = (type: string) => `ie-e2e-${type}`;
// Structural entries of a flow that are not node types.
const FLOW_STRUCTURE = /^(tab|subflow|group|junction|subflow:.+)$/;

/** One node per type on a disabled tab; config references point at the seeded config nodes. */
const seed = () => seedFlow(model.nodes, { tabId: TAB, disabled: true, idOf });

/**
 * A value for every credential of every seeded node. Password-type values must never reach the
 * browser (the editor only learns has_<name>); text-type values must show in their field.
 */
function seedCredentials(): Record<string, Record<string, string>> {
  const creds: Record<string, Record<string, string>> = {};
  for (const n of model.nodes) {
    const c = Object.entries(n.def?.credentials ?? {});
    if (c.length) creds[idOf(n.type)] = Object.fromEntries(c.map(([k, d]) => [k, d.type === "password" ? `e2e-secret-${n.type}-${k}` : `e2e-${k}`]));
  }
  return creds;
}

/** Text that is a raw message key (a missing translation shows the key itself). */
const rawKey = new RegExp(`(node-red:|\\b(${types.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})\\.)[\\w-]+\\.[\\w.-]+`);

describe(`editor in Chromium, served by ${runtimeLabel}`, function () {
  let userDir: string;
  let nr: EmbeddedNodeRed | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let problems: PageProblems;

  before(async function () {
    this.timeout(60000);
    const missing = model.nodes.map((n) => n.js).filter((js) => !fs.existsSync(js));
    if (missing.length)
      throw new Error(`built node files missing: ${missing.map((m) => path.relative(pkgRoot, m)).join(", ")} — run \`npm run build\` first (npm test does)`);
    fs.mkdirSync(artifacts, { recursive: true });
    userDir = makeUserDir("ie-e2e-user-");
    linkPackage(userDir, pkgRoot);
    nr = await startNodeRed({ userDir, flows: seed(), credentials: seedCredentials() });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    problems = collectProblems(page);
    await page.goto(nr.url);
    // Editor loaded and the seed flow imported into it.
    await page.waitForFunction(
      (id) => {
        const RED = (window as unknown as { RED?: { nodes?: { workspace(id: string): unknown } } }).RED;
        return !!RED?.nodes?.workspace?.(id);
      },
      TAB,
      { timeout: 30000 },
    );
  });

  after(async function () {
    this.timeout(20000);
    await browser?.close();
    await nr?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("loads the editor without page errors", () => {
    assert.deepEqual(problems.all(), []);
  });

  it("shows every seeded node (one per type) in the editor", async () => {
    const seeded = seed()
      .filter((n) => n.type !== "tab")
      .map((n) => n.id as string);
    const absent = await page.evaluate((ids) => {
      const RED = (window as unknown as { RED: { nodes: { node(id: string): unknown } } }).RED;
      return ids.filter((id) => !RED.nodes.node(id));
    }, seeded);
    assert.deepEqual(absent, []);
    assert.equal(seeded.length, types.length, "some types could not be seeded (editor file broken?)");
  });

  describe("palette", () => {
    for (const type of types) {
      const title = configTypes.has(type) ? `${type} is registered as a config node (not in the palette)` : `${type} is in the palette under "infra events"`;
      it(title, async () => {
        const r = await page.evaluate((t) => {
          const RED = (window as unknown as { RED: { nodes: { getType(t: string): { category?: string } | undefined } } }).RED;
          const def = RED.nodes.getType(t);
          const el = document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"]`);
          const cat = el?.closest(".red-ui-palette-category");
          return {
            registered: !!def,
            category: def?.category,
            inPalette: !!el,
            paletteCategory: cat?.querySelector(".red-ui-palette-header")?.textContent?.trim(),
            label: (el as HTMLElement | null)?.innerText ?? "",
          };
        }, type);
        assert.ok(r.registered, `${type} is not registered in the editor (missing or broken dist/nodes/${type}.html?)`);
        if (configTypes.has(type)) {
          assert.equal(r.category, "config");
          assert.equal(r.inPalette, false, "config nodes do not belong in the palette");
        } else {
          assert.ok(r.inPalette, `${type} not in the palette`);
          assert.equal(r.paletteCategory, "infra events");
          assert.doesNotMatch(r.label, rawKey, "palette label is an untranslated message key");
        }
      });
    }
  });

  describe("edit dialogs open, render their inputs and cancel cleanly", () => {
    for (const info of model.nodes) {
      const type = info.type;
      it(type, async function () {
        this.timeout(15000);
        assert.ok(info.def, `dist/nodes/${type}.html defines no editor definition: ${info.defsError ?? "registerType not called"}`);
        const isConfig = configTypes.has(type);
        const prefix = isConfig ? "node-config-input-" : "node-input-";
        const mark = problems.mark();
        await page.evaluate(
          ({ t, id, cfg }) => {
            const RED = (
              window as unknown as {
                RED: { nodes: { node(id: string): unknown }; editor: { edit(n: unknown): void; editConfig(n: string, t: string, id: string): void } };
              }
            ).RED;
            if (cfg) RED.editor.editConfig("", t, id);
            else RED.editor.edit(RED.nodes.node(id));
          },
          { t: type, id: idOf(type), cfg: isConfig },
        );
        const ok = isConfig ? "#node-config-dialog-ok" : "#node-dialog-ok";
        const cancel = isConfig ? "#node-config-dialog-cancel" : "#node-dialog-cancel";
        await page.locator(ok).waitFor({ state: "visible", timeout: 5000 });
        const tray = page.locator(".red-ui-tray").last();
        const form = await tray.evaluate(
          (el, { prefix, refs, creds }) => {
            const fields = Array.from(el.querySelectorAll(`[id^="${prefix}"]`)).map((f) => f.id);
            const pickers = refs.map((p) => {
              const sel = el.querySelector<HTMLSelectElement>(`select#${prefix}${p.prop}`);
              return { prop: p.prop, want: p.want, value: sel?.value ?? null };
            });
            const text = el.querySelector<HTMLElement>(".red-ui-tray-body")?.innerText ?? "";
            // A key the browser could not translate leaves its element empty (or shows the key).
            const untranslated = Array.from(el.querySelectorAll("[data-i18n]"))
              .filter((e) => (e.getAttribute("data-i18n") ?? "").split(";").some((p: string) => !/^\s*\[/.test(p) || /^\s*\[(html|text)\]/.test(p)))
              .filter((e) => !(e.textContent ?? "").trim())
              .map((e) => e.getAttribute("data-i18n"));
            const credFields = creds.map((c) => ({ prop: c, value: el.querySelector<HTMLInputElement>(`#${prefix}${c}`)?.value ?? null }));
            return { fields, pickers, text, untranslated, credFields };
          },
          {
            prefix,
            creds: Object.keys(info.def.credentials ?? {}),
            refs: Object.entries(info.def.defaults ?? {})
              .filter(([, d]) => d.type && configTypes.has(d.type))
              .map(([prop, d]) => ({ prop, want: idOf(d.type as string) })),
          },
        );
        await tray.screenshot({ path: path.join(artifacts, `${type}.png`) });
        await page.click(cancel);
        await page.locator(".red-ui-tray").first().waitFor({ state: "detached", timeout: 5000 });

        assert.ok(form.fields.length > 0, `the dialog shows no #${prefix}* inputs: is the template named data-template-name="${type}"?`);
        for (const p of form.pickers) {
          assert.equal(p.value, p.want, `config picker #${prefix}${p.prop} does not select the seeded ${p.want}`);
        }
        assert.doesNotMatch(form.text, rawKey, "the dialog shows an untranslated message key");
        assert.deepEqual(form.untranslated, [], "data-i18n elements left empty: their keys are missing from the catalogue the editor loaded");
        assert.deepEqual(problems.since(mark), [], "page errors while the dialog was open");
        const seeded = seedCredentials()[idOf(type)] ?? {};
        for (const c of form.credFields) {
          if (c.value === null) continue; // no field for it in this dialog mode
          const d = info.def.credentials?.[c.prop];
          if (d?.type === "password") assert.notEqual(c.value, seeded[c.prop], `password credential ${c.prop} reached the browser`);
          else assert.equal(c.value, seeded[c.prop], `text credential ${c.prop} does not show its stored value`);
        }
      });
    }
  });

  describe("examples import through Import > Examples", () => {
    for (const ex of model.examples) {
      it(ex.file, async function () {
        this.timeout(15000);
        assert.ok(Array.isArray(ex.flow), `${ex.file} is not a flow array`);
        const flow = ex.flow as Array<{ type: string; z?: string }>;
        const mark = problems.mark();
        // Flow nodes (not tabs, not config nodes) currently in the editor; the import adds to them.
        const flowNodeIds = () =>
          page.evaluate(() => {
            const ids: string[] = [];
            (window as unknown as { RED: { nodes: { eachNode(cb: (n: { id: string }) => void): void } } }).RED.nodes.eachNode((n) => {
              ids.push(n.id);
            });
            return ids;
          });
        const before = new Set(await flowNodeIds());
        await page.evaluate((seedTab) => {
          const RED = (window as unknown as { RED: { workspaces: { show(id: string): void }; actions: { invoke(a: string): void } } }).RED;
          RED.workspaces.show(seedTab);
          RED.actions.invoke("core:show-examples-import-dialog");
        }, TAB);
        const dialog = page.locator("#red-ui-clipboard-dialog");
        const tree = dialog.locator("#red-ui-clipboard-dialog-import-tab-examples");
        await tree.locator(".red-ui-treeList-label", { hasText: moduleName }).first().click();
        const name = ex.file
          .replace(/\.json$/, "")
          .split(path.sep)
          .pop() as string;
        await tree
          .locator(".red-ui-treeList-label", { hasText: new RegExp(`^\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`) })
          .first()
          .click();
        await dialog.locator("#red-ui-clipboard-dialog-import-opt-new").click();
        await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>("#red-ui-clipboard-dialog-ok")?.disabled);
        await page.locator("#red-ui-clipboard-dialog-ok").click();
        await dialog.waitFor({ state: "hidden", timeout: 5000 });
        // Nodes with a position are flow nodes; config nodes (no x) and tabs are not counted.
        const expected = flow.filter((n) => !FLOW_STRUCTURE.test(n.type) && (n as { x?: number }).x !== undefined).length;
        // The import lands after the dialog closes: wait for its flow nodes to appear.
        await page.waitForFunction(
          ({ known, want }) => {
            let added = 0;
            (window as unknown as { RED: { nodes: { eachNode(cb: (n: { id: string }) => void): void } } }).RED.nodes.eachNode((n) => {
              if (!known.includes(n.id)) added++;
            });
            return added >= want;
          },
          { known: [...before], want: expected },
          { timeout: 5000 },
        );
        const added = (await flowNodeIds()).filter((id) => !before.has(id));
        const unknown = await page.evaluate((ids) => {
          type N = { type: string; name?: string };
          const RED = (window as unknown as { RED: { nodes: { node(id: string): N; getType(t: string): unknown } } }).RED;
          // The editor imports a type it does not know as type "unknown" (original type in name).
          return ids
            .map((id) => RED.nodes.node(id))
            .filter((n) => n.type === "unknown" || !RED.nodes.getType(n.type))
            .map((n) => (n.type === "unknown" ? n.name : n.type));
        }, added);
        // Undo so the next example imports into a clean workspace (no id clashes); the undo of
        // an import finishes asynchronously, so wait for its nodes to go.
        await page.evaluate(() => (window as unknown as { RED: { actions: { invoke(a: string): void } } }).RED.actions.invoke("core:undo"));
        await page.waitForFunction(
          (ids) => ids.every((id) => !(window as unknown as { RED: { nodes: { node(id: string): unknown } } }).RED.nodes.node(id)),
          added,
          { timeout: 5000 },
        );
        assert.deepEqual(unknown, [], "imported nodes of unknown type");
        assert.equal(added.length, expected, "not every flow node of the example was imported");
        assert.deepEqual(problems.since(mark), [], "page errors during the import");
      });
    }
    it("the package has at least one example", () => {
      assert.ok(model.examples.length > 0);
    });
  });

  // Mocha runs a suite's own tests before its child suites: this one must sit in the last child.
  describe("session", () => {
    it("had no page errors from start to end", () => {
      assert.deepEqual(problems.all(), []);
    });
  });
});
