import type { Node } from "./red";
import type { NodeResources } from "./resources";

/** A config node's users registry as a user node sees it (BrokerHandle, controllers, …). */
export interface SharedRegistry<U> {
  register(user: U): void;
  /** `removed` false: the user is only restarting (partial deploy); keep the connection a moment. */
  deregister(user: U, removed?: boolean): void;
}

/** Something a user node opens on the shared connection for itself (a link, a sender). */
export interface OwnLink {
  open(): void;
  close(): void;
}

/**
 * A user node's share of a config node's connection, tied to the node's life. The node's
 * close releases `res` and then calls `done`; what `join` registered is undone in that
 * release: the node's own link is closed before the node leaves the registry, and the leave
 * passes on Node-RED's removed flag, so a partial deploy that only restarts this node does
 * not drop a connection other users still need.
 */
export class SharedUse {
  private removed = true;

  constructor(
    node: Node,
    private readonly res: NodeResources,
  ) {
    node.on("close", (removed: boolean, done: () => void) => {
      this.removed = removed;
      try {
        res.release();
      } finally {
        done();
      }
    });
  }

  /** Open `link` (when given), then register `user`; both are undone on the node's close. */
  join<U>(registry: SharedRegistry<U>, user: U, link?: OwnLink): void {
    link?.open();
    registry.register(user);
    this.res.add(() => {
      link?.close();
      registry.deregister(user, this.removed);
    });
  }
}
