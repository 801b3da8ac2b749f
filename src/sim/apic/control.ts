import type http from "node:http";
import type { FailMode, KillMode } from "./policy";
import type { Reply } from "./rest";
import type { ApicSimulator } from "./server";

/**
 * The simulator's control API over HTTP, under /_sim/ (tests, the demo, the README's curl
 * lines): the same operations as ApicSimulator's methods, answered with small JSON objects;
 * a bad request is a 400 `{error}`, an unknown path a 404.
 */
export function handleControl(sim: ApicSimulator, req: http.IncomingMessage, res: http.ServerResponse, raw: string, reply: Reply): void {
  const u = new URL(raw, "http://sim");
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8");
    const ok = (o: unknown): void => reply(res, 200, JSON.stringify(o));
    try {
      switch (u.pathname) {
        case "/_sim/stats":
          ok(sim.liveStats());
          return;
        case "/_sim/change": {
          const b = JSON.parse(text) as { op?: string; class?: string; dn?: string; attributes?: Record<string, string> };
          if (typeof b.dn !== "string") throw new Error("dn required");
          if (b.op === "delete") ok({ deleted: sim.delete(b.dn) });
          else if (b.op === "modify") ok({ modified: sim.modify(b.dn, b.attributes ?? {}) });
          else {
            if (typeof b.class !== "string") throw new Error("class required");
            sim.create(b.class, b.dn, b.attributes ?? {});
            ok({ created: true });
          }
          return;
        }
        case "/_sim/expire-tokens":
          sim.expireTokens();
          ok({ expired: true });
          return;
        case "/_sim/refuse-queries":
          sim.refuseQueries(u.searchParams.get("match") ?? undefined);
          ok({ refusing: sim.refusing ?? null });
          return;
        case "/_sim/lapse-subscriptions":
          sim.lapseSubscriptions();
          ok({ lapsed: true });
          return;
        case "/_sim/kill-sockets": {
          const mode = (u.searchParams.get("mode") ?? "close") as KillMode;
          if (!["close", "reset", "silent"].includes(mode)) throw new Error("mode must be close, reset or silent");
          ok({ killed: sim.killSockets(mode) });
          return;
        }
        case "/_sim/fail": {
          const m = u.searchParams.get("mode") ?? "hang";
          if (!["hang", "refuse", "error", "off"].includes(m)) throw new Error("mode must be hang, refuse, error or off");
          sim.fail(m === "off" ? false : (m as FailMode));
          ok({ fail: m });
          return;
        }
        case "/_sim/flood": {
          const n = Number(u.searchParams.get("n") ?? "1000");
          const mode = u.searchParams.get("mode") === "create" ? "create" : "modify";
          if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new Error("n must be 1..10000000");
          void sim.flood(n, mode);
          ok({ flooding: n, mode });
          return;
        }
        case "/_sim/raw":
          ok({ sent: sim.sendRaw(text) });
          return;
        default:
          reply(res, 404, JSON.stringify({ error: `unknown control ${u.pathname}` }));
      }
    } catch (e) {
      reply(res, 400, JSON.stringify({ error: (e as Error).message }));
    }
  });
}
