import helper from "node-red-node-test-helper";

/**
 * node-red-node-test-helper's startServer/stopServer, typed as what they return. The helper
 * (0.3.6) implements both as async functions that reject on failure when given no callback;
 * @types/node-red-node-test-helper (0.3.5) still declares them void, so `await` on them directly
 * looks like awaiting a non-Promise.
 */
export const startServer = (): Promise<void> => helper.startServer() as unknown as Promise<void>;
export const stopServer = (): Promise<void> => helper.stopServer() as unknown as Promise<void>;
