import type { BrokerHandle } from "./lib/handles";
import { refuseConfig } from "./lib/refused-config";
import { numberSetting } from "./lib/settings";
import { withoutUserInfo } from "./lib/redact";
import type { Node, NodeAPI, NodeDef, Writable } from "./lib/red";
import { tlsOptions } from "./lib/red";
import { SharedConnection } from "./lib/shared-connection";
import { warnIfUnverified } from "./lib/tls-warning";
import { trackHealth } from "./lib/health";
import { amqpHealth } from "./lib/health-channels";
import { AMQP091_ONLY_HINT, AMQP091_ONLY_STATUS, AmqpConnection, formatBrokerUrl, parseBrokerUrls, parseSaslMechanism, ProtocolCheck } from "../amqp";
import { disconnectedStatus } from "./lib/status";

/**
 * amqp1-broker: one AMQP 1.0 connection (rhea) shared by every amqp1-events/-send node that
 * uses it; it also owns the live deliveries behind amqp1-ack tokens.
 */
interface BrokerDef extends NodeDef {
  urls: string;
  vhost?: string;
  /** Any case: "PLAIN" (the IANA spelling) and "plain" are the same mechanism. */
  sasl?: string;
  tls?: string;
  containerId?: string;
  idleTimeout?: string | number;
}

interface BrokerCredentials {
  username?: string;
  password?: string;
}

type Amqp1BrokerNode = Node & BrokerHandle;

export = function (RED: NodeAPI) {
  function Amqp1Broker(this: Writable<Amqp1BrokerNode> & { credentials?: BrokerCredentials }, config: BrokerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.urls = (config.urls || "amqp://127.0.0.1:5672").trim();
    const creds = node.credentials ?? {};
    let shared: SharedConnection | undefined;
    try {
      const sasl = parseSaslMechanism(config.sasl) ?? (creds.username ? "plain" : "none");
      const idle = numberSetting(config.idleTimeout, { name: "idle timeout", default: 60, min: 0, max: 3600, unit: "s" });
      const urls = parseBrokerUrls(node.urls);
      const tls = urls.some((u) => u.transport === "tls") ? tlsOptions(RED, config.tls) : undefined;
      warnIfUnverified(node, tls, `AMQP broker ${withoutUserInfo(node.urls)}`);
      node.amqp = new AmqpConnection({
        id: node.id,
        urls,
        sasl,
        username: creds.username || undefined,
        password: creds.password ?? "",
        vhost: config.vhost?.trim() || undefined,
        tls,
        idleTimeoutMs: idle * 1000,
        containerId: config.containerId?.trim() || undefined,
      });
      shared = new SharedConnection(node, node.amqp.lifecycle, `AMQP broker ${node.urls}`);
      trackHealth(RED, node, amqpHealth(withoutUserInfo(node.urls), node.amqp));
      // rhea's "Unsupported AMQP version: 0-9-1" does not say what to do: say it (after a probe,
      // once per failure streak), and keep saying it in the status while the retries fail.
      const status = shared;
      new ProtocolCheck(node.amqp.lifecycle, urls).on("amqp091", (u, first) => {
        if (first) node.error(`amqp1-broker ${formatBrokerUrl(u)}: ${AMQP091_ONLY_HINT}`);
        status.setStatus(disconnectedStatus(AMQP091_ONLY_STATUS));
      });
      const amqp = node.amqp;
      // After SharedConnection's own close handler stopped the lifecycle: wait for the sockets,
      // so a redeploy leaves none behind (the runtime waits up to 15 s for done).
      node.on("close", (_removed: boolean, done: () => void) => {
        amqp.stop().then(done, done);
      });
    } catch (e) {
      // The URL is refused when it holds user:password@, and then must not carry it into the log,
      // nor into the status and errors of the nodes that use this broker (they show configError).
      refuseConfig(node, `amqp1-broker ${withoutUserInfo(node.urls)}`, e);
    }
    node.register = (user) => shared?.users.register(user);
    node.deregister = (user, removed) => shared?.users.deregister(user, removed);
  }

  RED.nodes.registerType("amqp1-broker", Amqp1Broker as never, {
    credentials: { username: { type: "text" }, password: { type: "password" } },
  });
};
