/**
 * The sysadm client's reconnect backoff: the core AuthAwareBackoff, whose defaults (a hold-off
 * of 11 min from the third refused password in a row) keep under the server's blacklist of
 * 5 failures and its 10-minute memory of them.
 */
export { AuthAwareBackoff } from "../core/auth-backoff";
export type { AuthBackoffOptions } from "../core/auth-backoff";
