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
