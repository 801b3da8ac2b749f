import type { AddressInfo, Server } from "node:net";

/**
 * Start `server` listening and resolve with the port it got (port 0 picks a free one); an
 * error while binding (port in use, bad host) rejects instead of being thrown at the server.
 */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.removeListener("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * A simulator could not bind one of its ports. The message names the simulator, the address
 * and the option that picks another port, so the CLI and the demo launcher can print it as is.
 */
export class ListenError extends Error {
  override readonly name = "ListenError";
  constructor(
    readonly simulator: string,
    readonly host: string,
    readonly port: number,
    /** The option that sets this port, e.g. "--ws-port". */
    readonly option: string,
    /** The bind error's code: "EADDRINUSE", "EACCES", "EADDRNOTAVAIL"… */
    readonly code: string,
    cause: Error,
  ) {
    super("", { cause });
    this.message = this.withOption(option);
  }

  /** The message with another spelling of the option (the CLI's `all` says --sysadm-ws-port). */
  withOption(option: string): string {
    const { simulator, host, port, code } = this;
    const another = `(choose another with ${option}, or 0 for any free port)`;
    if (code === "EADDRINUSE") return `${simulator} simulator: port ${port} on ${host} is already in use ${another}`;
    if (code === "EACCES") return `${simulator} simulator: port ${port} on ${host} needs privileges this process does not have ${another}`;
    // Not the port's fault (EADDRNOTAVAIL: no such local address): the bind error says what.
    return `${simulator} simulator: cannot listen on ${host}:${port}: ${(this.cause as Error).message}`;
  }
}

interface BindError extends Error {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
}

/** Which of a simulator's listeners was being bound: the option that sets its port, and where. */
export interface Binding {
  option: string;
  host: string;
  port: number;
}

/**
 * Run a simulator's listen step. When binding fails, `cleanup` closes whatever did start (sysadm
 * binds two ports in turn) and the bind error becomes a ListenError. `binding` says which
 * listener failed; it is asked before cleanup, while the server still knows which one bound.
 * Any other error passes through unchanged, after the same cleanup.
 */
export async function listenAs<T>(simulator: string, binding: () => Binding, listen: () => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  try {
    return await listen();
  } catch (e) {
    const err = e as BindError;
    const b = err instanceof Error && err.syscall === "listen" && typeof err.code === "string" ? binding() : undefined;
    await cleanup();
    if (!b) throw e;
    throw new ListenError(simulator, err.address ?? b.host, err.port ?? b.port, b.option, err.code as string, err);
  }
}
