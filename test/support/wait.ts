import type { EventEmitter } from "node:events";

/**
 * Bounded waits for tests: no bare sleeps, and a timeout that names what never happened.
 */

/** Resolve when `check()` holds, re-checking whenever `emitter` emits `event`. */
export function waitOn(emitter: EventEmitter, event: string, check: () => boolean, what: string, ms = 5000): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const on = (): void => {
      if (!check()) return;
      clearTimeout(t);
      emitter.removeListener(event, on);
      resolve();
    };
    emitter.on(event, on);
  });
}

/**
 * Poll `cond` every 10 ms, for conditions that several events make true and no single event
 * announces (a node's spied status calls, a simulator's subscriber count).
 */
export async function waitFor(what: string, cond: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
