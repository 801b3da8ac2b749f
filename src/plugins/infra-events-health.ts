import type { NodeAPI } from "../nodes/lib/red";
import { HealthRegistry } from "../nodes/lib/health";
import { metricsText } from "../nodes/lib/health-metrics";

/**
 * The runtime half of the "infra events" editor plugin (plugins/infra-events-health.html is the
 * editor half): the health of every event connection, published to the editors once a second
 * over Node-RED's comms channel while there is a connection to show, and served by the admin
 * API. Both routes need only a read permission; with `adminAuth` set, Node-RED asks for a login.
 * See docs/health.md.
 */
const TOPIC = "infra-events/health";

export = function (RED: NodeAPI): void {
  const registry = HealthRegistry.of(RED);
  registry.publish = (report) => RED.comms.publish(TOPIC, report, false);
  const canRead = RED.auth.needsPermission("infra-events.read");
  RED.httpAdmin.get("/infra-events/health", canRead, (_req, res) => {
    res.json(registry.report());
  });
  RED.httpAdmin.get("/infra-events/metrics", canRead, (_req, res) => {
    res.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    res.send(metricsText(registry.report()));
  });
};
