/**
 * Debian's Chromium driven by playwright-core (no browser download: playwright-core ships none).
 * The flags keep a headless browser quiet on a closed network and runnable as root.
 */
import fs from "node:fs";
import type { Browser, ConsoleMessage, Page } from "playwright-core";
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const ARGS = [
  "--no-sandbox", // needed when running as root (CI containers)
  "--disable-gpu",
  // No background calls home: on a closed network each one is a refused connection and noise.
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, timeout: 30000 });
}

/** Page errors and console errors, collected from the moment of the call. */
export interface PageProblems {
  /** Everything so far, as readable lines. */
  all(): string[];
  /** Lines recorded since the given mark (from `mark()`). */
  since(mark: number): string[];
  mark(): number;
}

// The editor catches errors thrown by a node definition's hooks (oneditprepare, label,
// outputLabels, …) and only console.log/warn's them; a broken dialog would otherwise pass.
const SWALLOWED_DEFINITION_ERROR =
  /^(onedit(prepare|save|cancel|delete|resize)\b|Definition error:|registerType:|RED\.events\.emit error|RED\.comms\.emit error|Node added to unknown)/;

/**
 * Records uncaught page exceptions, console.error output, and the node-definition errors the
 * editor swallows into console.log/warn. `ignore` drops known-benign
 * console lines (each pattern should say in a comment why it is benign).
 */
export function collectProblems(page: Page, ignore: RegExp[] = []): PageProblems {
  const lines: string[] = [];
  page.on("pageerror", (e: Error) => lines.push(`pageerror: ${e.stack || e.message}`));
  page.on("console", (m: ConsoleMessage) => {
    const text = m.text();
    if (m.type() !== "error") {
      if ((m.type() === "log" || m.type() === "warning") && SWALLOWED_DEFINITION_ERROR.test(text)) lines.push(`editor swallowed: ${text}`);
      return;
    }
    if (ignore.some((re) => re.test(text))) return;
    const loc = m.location();
    lines.push(`console.error: ${text}${loc.url ? ` (${loc.url}:${loc.lineNumber})` : ""}`);
  });
  return {
    all: () => [...lines],
    mark: () => lines.length,
    since: (n) => lines.slice(n),
  };
}
