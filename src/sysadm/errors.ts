import { InfraError } from "../core/errors";

/**
 * An error reply from the server: `{"namespace":"error","name":"error","args":{"code":"401",
 * "message":"Unauthorized"}}`. `code` is the server's string code ("400", "401", "403",
 * "404"); the InfraError code is `sysadm-<code>` so Catch nodes can branch on either.
 */
export class SysadmServerError extends InfraError {
  readonly status: string;
  constructor(status: string, serverMessage: string, what = "request") {
    super(`sysadm-${status}`, `${what} failed: ${status} ${serverMessage}`, { status, serverMessage });
    this.name = "SysadmServerError";
    this.status = status;
  }
}

/** The server refused our credentials: retrying at once would only feed its blacklist. */
export class AuthRejectedError extends InfraError {
  constructor(message: string) {
    super("auth-rejected", message);
    this.name = "AuthRejectedError";
  }
}

export function isUnauthorized(e: unknown): boolean {
  return e instanceof SysadmServerError && e.status === "401";
}
