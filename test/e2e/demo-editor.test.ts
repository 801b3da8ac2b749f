import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { collectProblems, launchChromium, PageProblems } from "../support/chromium";
import { nodeRedPath, runtimeLabel } from "../support/node-red-path";

// What a newcomer sees after `npm start`: the demo's editor in a real browser, with the debug
// sidebar filling with events. It checks what a person would notice (the first tab, status labels
// that collide with other nodes, a credential in the page) and takes the README's picture:
// artifacts/e2e/demo-editor.png on every run; INFRA_EVENTS_UPDATE_IMAGES=1 also writes
// docs/images/demo-editor.png, the committed copy.

const { startDemo } = require("../../scripts/demo.js") as {
  startDemo: (o: Record<string, unknown>) => Promise<{ url: string; stop(): Promise<void> }>;
};

const repoRoot = path.resolve(__dirname, "../..");
const DEMO_SECRETS = ["demo-password", "guest"];

interface Box {
  id: string;
  name: string;
  x: number;
  y: number;
  w: number;
  h: number;
}
interface TabLayout {
  label: string;
  nodes: Box[];
  statuses: Box[];
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe(`the demo's editor in Chromium (${runtimeLabel})`, function () {
  this.timeout(90000);
  let userDir: string;
  let demo: { url: string; stop(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let problems: PageProblems;

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-events-demo-e2e-"));
    demo = await startDemo({ port: 0, nsoPort: 0, apicPort: 0, sysadmWsPort: 0, sysadmWssPort: 0, userDir, nodeRedPath, logLevel: "warn", log: () => {} });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    problems = collectProblems(page);
    await page.goto(demo.url);
    await page.waitForFunction(
      () => {
        const RED = (window as any).RED;
        return !!RED?.workspaces?.active?.() && RED.nodes.eachWorkspace !== undefined && document.querySelector(".red-ui-flow-node");
      },
      undefined,
      { timeout: 30000 },
    );
  });

  after(async function () {
    this.timeout(30000);
    await browser?.close();
    await demo?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("opens on an NSO tab", async () => {
    const label = await page.evaluate(() => {
      const RED = (window as any).RED;
      return RED.nodes.workspace(RED.workspaces.active()).label as string;
    });
    assert.match(label, /^NSO: /);
  });

  it("fills the debug sidebar with events within seconds", async () => {
    await page.evaluate(() => (window as any).RED.sidebar.show("debug"));
    await page.waitForFunction(() => document.querySelectorAll(".red-ui-debug-msg").length >= 12, undefined, { timeout: 30000 });
    const count = await page.locator(".red-ui-debug-msg").count();
    assert.ok(count >= 12, `${count} debug messages`);
  });

  it("shows no status label over another node, on any tab", async () => {
    const tabs: string[] = await page.evaluate(() => {
      const ids: string[] = [];
      (window as any).RED.nodes.eachWorkspace((ws: { id: string }) => {
        ids.push(ws.id);
      });
      return ids;
    });
    const clashes: string[] = [];
    for (const id of tabs) {
      await page.evaluate((tab) => (window as any).RED.workspaces.show(tab), id);
      // Each input node shows a status once it is connected; give every tab's nodes time to report.
      await page.waitForFunction(
        (tab) => {
          const RED = (window as any).RED;
          let want = 0;
          let have = 0;
          RED.nodes.eachNode((n: any) => {
            if (n.z !== tab || !/-(events|ack|send)$/.test(n.type)) return;
            want++;
            const el = document.getElementById(n.id);
            const t = el?.querySelector(".red-ui-flow-node-status-label")?.textContent ?? "";
            if (t.trim()) have++;
          });
          return want === have;
        },
        id,
        { timeout: 20000 },
      );
      // No named helper inside evaluate: tsx's keepNames would wrap it in a __name() the page lacks.
      const layout: TabLayout = await page.evaluate((tab) => {
        const RED = (window as any).RED;
        const parts: Array<{ kind: "node" | "status"; el: Element | null | undefined; id: string; name: string }> = [];
        RED.nodes.eachNode((n: any) => {
          if (n.z !== tab) return;
          const el = document.getElementById(n.id);
          const name = `${n.type}${n.name ? ` "${n.name}"` : ""}`;
          parts.push({ kind: "node", el: el?.querySelector(".red-ui-flow-node"), id: n.id, name });
          const label = el?.querySelector(".red-ui-flow-node-status-label")?.textContent?.trim();
          if (label) parts.push({ kind: "status", el: el?.querySelector(".red-ui-flow-node-status-group"), id: n.id, name: `${name} status "${label}"` });
        });
        const boxes = parts
          .map((p) => ({ p, r: (p.el as SVGGraphicsElement | null | undefined)?.getBoundingClientRect() }))
          .filter((b) => b.r && b.r.width > 0)
          .map((b) => ({ kind: b.p.kind, id: b.p.id, name: b.p.name, x: b.r!.x, y: b.r!.y, w: b.r!.width, h: b.r!.height }));
        return {
          label: RED.nodes.workspace(tab).label as string,
          nodes: boxes.filter((b) => b.kind === "node"),
          statuses: boxes.filter((b) => b.kind === "status"),
        };
      }, id);
      for (const s of layout.statuses) {
        for (const n of layout.nodes) if (n.id !== s.id && overlaps(s, n)) clashes.push(`${layout.label}: ${s.name} covers ${n.name}`);
        for (const o of layout.statuses) if (o.id < s.id && overlaps(s, o)) clashes.push(`${layout.label}: ${s.name} covers ${o.name}`);
      }
    }
    assert.deepEqual(clashes, []);
  });

  it("never puts a demo password into the page", async () => {
    const html = await page.content();
    for (const secret of DEMO_SECRETS) assert.ok(!html.includes(secret), `"${secret}" is in the page`);
  });

  it("takes the README's picture: the NSO commit tab with the debug sidebar full of events", async () => {
    const shown = await page.evaluate(() => {
      const RED = (window as any).RED;
      let id = "";
      RED.nodes.eachWorkspace((ws: { id: string; label: string }) => {
        if (!id && /^NSO: commit/.test(ws.label)) id = ws.id;
      });
      if (id) RED.workspaces.show(id);
      RED.sidebar.show("debug");
      return id;
    });
    assert.ok(shown, "the demo has an NSO commit tab");
    await page.waitForFunction(() => document.querySelectorAll(".red-ui-debug-msg").length >= 20, undefined, { timeout: 30000 });
    const out = path.join(repoRoot, "artifacts", "e2e", "demo-editor.png");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    assert.ok(fs.statSync(out).size > 20000, "a real picture, not a blank page");
    if (process.env.INFRA_EVENTS_UPDATE_IMAGES === "1") {
      fs.mkdirSync(path.join(repoRoot, "docs", "images"), { recursive: true });
      fs.copyFileSync(out, path.join(repoRoot, "docs", "images", "demo-editor.png"));
    }
  });

  it("loads without page errors", () => {
    assert.deepEqual(problems.all(), []);
  });
});
