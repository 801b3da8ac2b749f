export * from "./ack-registry";
export * from "./backoff";
export * from "./auth-backoff";
export * from "./clock";
export * from "./drops";
export * from "./errors";
export * from "./lifecycle";
