import assert from "node:assert/strict";
import type { WebSocket } from "ws";
import type { PauseGate } from "../../src/core/pause-gate";

/**
 * Hold and release a client's gate `times` times in one turn (a window that fills and drains every
 * few messages) and count the pings the server side of its one socket received meanwhile. The
 * count is complete when the server's own ping is answered: the client's pong comes after
 * everything it sent before (one TCP stream). Fails when the server closed the socket instead.
 */
export async function pingsForReleases(server: WebSocket[], gate: PauseGate, times: number): Promise<number> {
  assert.equal(server.length, 1, "one socket at the server");
  const ws = server[0];
  let pings = 0;
  ws.on("ping", () => pings++);
  for (let i = 0; i < times; i++) {
    gate.hold("test");
    gate.release("test");
  }
  await new Promise<void>((resolve) => {
    ws.once("pong", () => resolve());
    ws.once("close", () => resolve());
    ws.ping();
  });
  assert.equal(ws.readyState, ws.OPEN, `the server kept the socket (${pings} pings)`);
  return pings;
}
