import type { NodeAPI, NodeDef } from "./lib/red";
import { refuseConfig } from "./lib/refused-config";
import { numberSetting } from "./lib/settings";
import { SharedConnection } from "./lib/shared-connection";
import { withoutUserInfo } from "./lib/redact";
import { InfraError } from "../core/errors";
import { AccessCheck, DEFAULT_HOST, DEFAULT_MAX_FRAME_SIZE, DEFAULT_NSO_PORT, MaapiClient, NsoClient, NsoHub, resolveSecret } from "../nso";
import type { OverflowMode } from "./lib/flow-window";
import type { NsoServerHandle, NsoUser } from "./lib/handles";
import { trackHealth } from "./lib/health";
import { nsoHealth } from "./lib/health-channels";

/**
 * nso-server: one NSO notification socket shared by every nso-events node that uses it.
 * The socket's single subscription is the union of what the users want (SubscriptionMux);
 * notifications are fanned out to the users that asked for their type. A blocking
 * notification gives each user its own ack share (AckFanIn): NSO gets the one ack when every
 * user that received it has answered, through `ack(token)` from nso-ack nodes, its own
 * auto-ack or itself. A commit's diff is read once for all users that read it (SharedCommitDiff).
 * Flow control: each user has its own window and holds the socket's PauseGate while its flow is
 * a window behind (the socket reads while no user holds it); `overflow` is the users' choice
 * when a flow falls behind: hold NSO back (default) or drop the oldest and announce it.
 */
interface NsoServerDef extends NodeDef {
  host: string;
  port: string | number;
  protoVsn: string;
  libVsn: string;
  accessCheck: AccessCheck;
  secretFile: string;
  heartbeat: string | number;
  maxFrameSize: string | number;
  /** "hold" (default): hold NSO back; "drop-oldest": drop the oldest waiting events and announce them. */
  overflow?: string;
}

function nsoServer(RED: NodeAPI): void {
  function NsoServer(this: NsoServerHandle & { credentials?: { secret?: string } }, config: NsoServerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const host = config.host || DEFAULT_HOST;
    let settings: { port: number; protoVsn: number | "auto"; libVsn: number | undefined; heartbeatMs: number; maxFrameSize: number };
    try {
      const hb = numberSetting(config.heartbeat, { name: "heartbeat interval", default: 10, min: 0, max: 3600, unit: "s" });
      settings = {
        port: numberSetting(config.port, { name: "port", default: DEFAULT_NSO_PORT, min: 1, max: 65535, integer: true }),
        protoVsn:
          !config.protoVsn || config.protoVsn === "auto"
            ? "auto"
            : numberSetting(config.protoVsn, { name: "protocol version", default: 82, min: 0, max: 0xffff, integer: true }),
        libVsn: config.libVsn
          ? numberSetting(config.libVsn, { name: "LIB_VSN", default: 0x08020500, min: 0, max: 0xffffffff, integer: true, hex: true })
          : undefined,
        heartbeatMs: Math.round(hb * 1000),
        // 0 is the default as the editor has always taken it.
        maxFrameSize:
          numberSetting(config.maxFrameSize, {
            name: "maximum frame size",
            default: DEFAULT_MAX_FRAME_SIZE,
            min: 0,
            max: 2 ** 31 - 1,
            integer: true,
            unit: "bytes",
          }) || DEFAULT_MAX_FRAME_SIZE,
      };
    } catch (e) {
      // A bad setting must not take the runtime down: said on the node and on every user.
      const refused = refuseConfig(node, "nso-server", e);
      const why = refused.error.message;
      (node as { endpoint: string }).endpoint = withoutUserInfo(`${host}:?`);
      (node as { overflow: OverflowMode }).overflow = "hold";
      node.hold = () => undefined;
      node.release = () => undefined;
      node.register = refused.register;
      node.deregister = refused.deregister;
      node.unsent = () => undefined;
      node.ack = () => Promise.reject(new InfraError("nso-bad-config", why));
      node.maapi = () => {
        throw new InfraError("nso-bad-config", why);
      };
      return;
    }
    const { port, protoVsn, libVsn, heartbeatMs } = settings;
    const accessCheck: AccessCheck = config.accessCheck === "md5" || config.accessCheck === "sha256" ? config.accessCheck : "none";
    // msg.nso.server and log lines: a "user:password@" typed into the host field stays out.
    (node as { endpoint: string }).endpoint = withoutUserInfo(`${host}:${port}`);
    (node as { overflow: OverflowMode }).overflow = config.overflow === "drop-oldest" ? "drop-oldest" : "hold";

    const secret = (): Buffer | undefined => resolveSecret({ secret: node.credentials?.secret, secretFile: config.secretFile || undefined });
    let maapi: MaapiClient | undefined;
    node.maapi = () => {
      maapi ??= new MaapiClient({
        host,
        port,
        accessCheck,
        secret,
        maxFrameSize: settings.maxFrameSize,
        protoVsn: typeof protoVsn === "number" ? protoVsn : undefined,
        libVsn,
      });
      return maapi;
    };
    const client: NsoClient = new NsoClient({
      host,
      port,
      protoVsn,
      libVsn,
      accessCheck,
      secret: () => secret(),
      maxFrameSize: settings.maxFrameSize,
      owner: node.id,
      livenessTimeoutMs: heartbeatMs > 0 ? heartbeatMs * 3 : 0,
      // The users' wishes, from the hub (made below; asked only once the socket is up).
      subscription: () => hub.request(),
      // No auto-ack in the client: each user's share has its own timer (the hub's AckFanIn).
    });
    (node as { client: NsoClient }).client = client;
    node.hold = (id) => client.gate.hold(id);
    node.release = (id) => client.gate.release(id);
    // Registered before SharedConnection's close handler stops the client (and forgets what was lost).
    node.on("close", () => hub.close());
    const shared = new SharedConnection<NsoUser>(node, client.lifecycle, `NSO ${host}:${port}`);
    const hub: NsoHub = new NsoHub(
      {
        client,
        endpoint: node.endpoint,
        owner: node.id,
        maapi: () => node.maapi(),
        maapiIfOpen: () => maapi,
        closing: () => shared.users.closing,
        warn: (text) => node.warn(text),
        log: (text) => node.log(text),
      },
      heartbeatMs,
    );
    trackHealth(RED, node, nsoHealth(node.endpoint, client, hub.fanIn));
    // Closed with the config node: a read in flight is settled by its own node's abort.
    node.on("close", () => maapi?.close());

    node.register = (user) => hub.register(user, () => shared.users.register(user));
    node.deregister = (user, removed) => hub.deregister(user, removed, () => shared.users.deregister(user, removed));
    node.ack = (token) => hub.ack(token);
    node.unsent = (id, at) => hub.unsent(id, at);
  }

  RED.nodes.registerType("nso-server", NsoServer as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1], {
    credentials: { secret: { type: "password" } },
  });
}

export = nsoServer;
