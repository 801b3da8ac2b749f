/**
 * URLs without their `user:password@` part: for logs, status and messages, which must never
 * carry a secret someone typed into an address field. Works on lists ("amqp://a, amqps://u:p@b").
 */
export function withoutUserInfo(urls: string): string {
  return urls.replace(/\/\/[^@/\s,]*@/g, "//");
}
