import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { collectProblems, launchChromium, PageProblems } from "../support/chromium";
import { nodeRedPath, runtimeLabel } from "../support/node-red-path";
import type { RunningSimulator } from "../../src/sim/types";
import type { NsoSimServer } from "../../src/sim/nso/server";

// The "infra events" sidebar tab on the demo, in a real browser: one card per connection, the
// rate chart rising while the NSO simulator floods, a gap on the NSO cards once the simulator has
// dropped its sockets, a click selecting the connection's nodes, and no demo credential anywhere
// in the page. Takes the README's picture of the tab: artifacts/e2e/health-sidebar.png on every
// run; INFRA_EVENTS_UPDATE_IMAGES=1 also writes docs/images/health-sidebar.png.

const { startDemo } = require("../../scripts/demo.js") as {
  startDemo: (o: Record<string, unknown>) => Promise<{ url: string; stop(): Promise<void>; simulators: RunningSimulator[] }>;
};

const repoRoot = path.resolve(__dirname, "../..");
const DEMO_SECRETS = ["demo-password", "guest"];
const CONFIG_TYPES = ["nso-server", "apic-controller", "amqp1-broker", "sysadm-server"];
const FLOOD = 2000;

interface Card {
  id: string;
  channel: string;
  gaps: number;
  peak: number;
}

describe(`the infra events health sidebar in Chromium (${runtimeLabel})`, function () {
  this.timeout(120000);
  let userDir: string;
  let demo: { url: string; stop(): Promise<void>; simulators: RunningSimulator[] } | undefined;
  let nso: NsoSimServer;
  let browser: Browser | undefined;
  let page: Page;
  let problems: PageProblems;

  /** The cards as drawn: config node id, channel, gap count and the rate chart's peak. */
  const cards = (): Promise<Card[]> =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll(".ie-health-card")).map((el) => ({
        id: el.getAttribute("data-id") ?? "",
        channel: el.getAttribute("data-channel") ?? "",
        gaps: Number(el.querySelector(".ie-health-gaps")?.getAttribute("data-count") ?? "0"),
        peak: Number(el.querySelector("svg.ie-health-rate")?.getAttribute("data-peak") ?? "0"),
      })),
    );

  /** The config nodes of the four channels, as the editor has them. */
  const configIds = (): Promise<string[]> =>
    page.evaluate((types) => {
      const ids: string[] = [];
      (window as any).RED.nodes.eachConfig((n: { id: string; type: string }) => {
        if (types.includes(n.type)) ids.push(n.id);
      });
      return ids.sort();
    }, CONFIG_TYPES);

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-events-health-e2e-"));
    demo = await startDemo({ port: 0, nsoPort: 0, apicPort: 0, sysadmWsPort: 0, sysadmWssPort: 0, userDir, nodeRedPath, logLevel: "warn", log: () => {} });
    nso = (demo.simulators.find((s) => s.name === "nso") as RunningSimulator & { server: NsoSimServer }).server;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    problems = collectProblems(page);
    await page.goto(demo.url);
    await page.waitForFunction(
      () => {
        const RED = (window as any).RED;
        return !!RED?.workspaces?.active?.() && document.querySelector(".red-ui-flow-node");
      },
      undefined,
      { timeout: 30000 },
    );
    await page.evaluate(() => (window as any).RED.sidebar.show("infra-events-health"));
  });

  after(async function () {
    this.timeout(30000);
    await browser?.close();
    await demo?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("lists one card per config node", async () => {
    const want = await configIds();
    assert.ok(want.length >= 4, `the demo has config nodes of each channel: ${want.join(", ")}`);
    await page.waitForFunction((n) => document.querySelectorAll(".ie-health-card").length === n, want.length, { timeout: 20000 });
    assert.deepEqual((await cards()).map((c) => c.id).sort(), want);
    const channels = new Set((await cards()).map((c) => c.channel));
    for (const ch of ["nso", "apic", "sysadm"]) assert.ok(channels.has(ch), `a ${ch} card`);
  });

  it("raises the rate chart of the NSO connection the simulator floods", async () => {
    // The audit example's server is the one nso-server that selects NOTIF_AUDIT.
    const auditServer = await page.evaluate(() => {
      let id = "";
      (window as any).RED.nodes.eachNode((n: { type: string; notifications?: string[]; server?: string }) => {
        if (n.type === "nso-events" && (n.notifications ?? []).includes("NOTIF_AUDIT")) id = n.server ?? "";
      });
      return id;
    });
    assert.ok(auditServer, "the demo has an nso-events node for NOTIF_AUDIT");
    const before = (await cards()).find((c) => c.id === auditServer)!;
    const r = await nso.flood((i) => ({ type: "NOTIF_AUDIT", logno: 116, user: "admin", usid: 59, msg: `flood ${i}` }), FLOOD);
    assert.ok(r.delivered >= FLOOD, `the flood reached the audit subscriber (${r.delivered} writes)`);
    // The demo plays a few notifications a second; the flood is hundreds a second at least.
    await page.waitForFunction(
      ({ id, floor }) => {
        const svg = document.querySelector(`.ie-health-card[data-id="${id}"] svg.ie-health-rate`);
        return Number(svg?.getAttribute("data-peak") ?? "0") >= floor;
      },
      { id: auditServer, floor: Math.max(50, before.peak * 10) },
      { timeout: 30000 },
    );
    const after = (await cards()).find((c) => c.id === auditServer)!;
    assert.ok(after.peak > before.peak, `peak ${before.peak} -> ${after.peak}`);
    const points = await page.locator(`.ie-health-card[data-id="${auditServer}"] svg.ie-health-rate polyline`).getAttribute("points");
    assert.ok(points && points.split(" ").length >= 2, "the chart draws a line");
  });

  it("shows a gap on every NSO card after the simulator drops its sockets", async () => {
    const nsoCards = (await cards()).filter((c) => c.channel === "nso");
    assert.ok(nsoCards.length > 0);
    assert.deepEqual(
      nsoCards.filter((c) => c.gaps > 0).map((c) => c.id),
      [],
      "no gap before the sockets are dropped",
    );
    nso.dropConnections();
    await page.waitForFunction(
      () => {
        const els = Array.from(document.querySelectorAll('.ie-health-card[data-channel="nso"]'));
        return els.length > 0 && els.every((el) => Number(el.querySelector(".ie-health-gaps")?.getAttribute("data-count") ?? "0") > 0);
      },
      undefined,
      { timeout: 30000 },
    );
    const text = await page.locator('.ie-health-card[data-channel="nso"] .ie-health-gaps').first().textContent();
    assert.match(text ?? "", /filled: /);
  });

  it("selects the nodes that use a connection when its card is clicked", async () => {
    const id = (await cards()).find((c) => c.channel === "apic")!.id;
    await page.locator(`.ie-health-card[data-id="${id}"]`).click();
    const got = await page.evaluate((configId) => {
      const RED = (window as any).RED;
      const users = (RED.nodes.node(configId).users as Array<{ id: string; z: string }>).filter((n) => n.z === RED.workspaces.active());
      const selected = (RED.view.selection().nodes ?? []) as Array<{ id: string }>;
      return { users: users.map((n) => n.id).sort(), selected: selected.map((n) => n.id).sort() };
    }, id);
    assert.ok(got.users.length > 0, "the active tab holds the connection's nodes");
    assert.deepEqual(got.selected, got.users);
  });

  it("never puts a demo credential into the page, the health JSON or the metrics", async () => {
    const html = await page.content();
    const health = await (await fetch(`${demo!.url}infra-events/health`)).text();
    const metrics = await (await fetch(`${demo!.url}infra-events/metrics`)).text();
    for (const secret of DEMO_SECRETS) {
      assert.ok(!html.includes(secret), `"${secret}" is in the page`);
      assert.ok(!health.includes(secret), `"${secret}" is in /infra-events/health`);
      assert.ok(!metrics.includes(secret), `"${secret}" is in /infra-events/metrics`);
    }
  });

  it("takes the README's picture of the tab", async () => {
    // Once the flood's 10 s is in the chart's history (not only its last-second point), with
    // some quiet time after it.
    await page.waitForFunction(
      () => {
        const svg = Array.from(document.querySelectorAll('.ie-health-card[data-channel="nso"] svg.ie-health-rate')).find(
          (el) => Number(el.getAttribute("data-history-peak")) >= 20,
        );
        return !!svg && (svg.querySelector("polyline")?.getAttribute("points") ?? "").split(" ").length >= 5;
      },
      undefined,
      { timeout: 60000 },
    );
    // A wider sidebar, as someone reading the cards would drag it.
    const sep = await page.locator("#red-ui-sidebar-separator").boundingBox();
    if (sep) {
      await page.mouse.move(sep.x + sep.width / 2, sep.y + sep.height / 2);
      await page.mouse.down();
      await page.mouse.move(sep.x - 180, sep.y + sep.height / 2, { steps: 5 });
      await page.mouse.up();
    }
    await page.evaluate(() => (window as any).RED.sidebar.show("infra-events-health"));
    // The NSO cards first: they show the flood and the gap.
    await page.evaluate(() => document.querySelector('.ie-health-card[data-channel="nso"]')?.scrollIntoView());
    const out = path.join(repoRoot, "artifacts", "e2e", "health-sidebar.png");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    assert.ok(fs.statSync(out).size > 20000, "a real picture, not a blank page");
    if (process.env.INFRA_EVENTS_UPDATE_IMAGES === "1") {
      fs.mkdirSync(path.join(repoRoot, "docs", "images"), { recursive: true });
      fs.copyFileSync(out, path.join(repoRoot, "docs", "images", "health-sidebar.png"));
    }
  });

  it("loads without page errors", () => {
    assert.deepEqual(problems.all(), []);
  });
});
