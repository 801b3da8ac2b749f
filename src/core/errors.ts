/** Errors with a stable machine-readable code, so flows (Catch nodes) can branch on them. */
export class InfraError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "InfraError";
    this.code = code;
    this.details = details;
  }
}

/** Bad bytes from the network: the frame is dropped and counted, the connection stays. */
export class ProtocolError extends InfraError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "ProtocolError";
  }
}

/** Anything thrown, as an Error (callbacks and peers sometimes throw strings). */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
